"""Two fixed-example testing styles common in the field, as yardsticks for ``rnnspec.check``.

* ``constant_weight_case``: one small fixed size, every weight and bias 0.1, a ramp
  as input, compared tightly (the shape of many framework operator tests).
* ``fixed_random_case``: one seeded random module and input at a loose tolerance
  (the shape of a typical "compare against nn.LSTM once" test).

Each takes ``(factory, kind)`` and returns ``(caught, detail)``: ``caught`` is True
when the candidate's result differs from torch's or calling it raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["baseline_detection", "constant_weight_case", "detection_table", "fixed_random_case"]

Factory = Callable[[nn.RNNBase], Any]
_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _compare(
    factory: Factory, module: nn.RNNBase, x: Tensor, *, atol: float, rtol: float
) -> tuple[bool, str]:
    """Run torch and the candidate on ``x``; caught when they differ or the candidate raises."""
    module.eval()
    with torch.no_grad():
        expected = module(x.clone())
        try:
            actual = factory(module)(x.clone())
            torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)
        except AssertionError as exc:
            return True, f"differs: {str(exc).splitlines()[0]}"
        except Exception as exc:  # any exception counts as caught
            return True, f"raised {type(exc).__name__}: {exc}"
    return False, f"matches within atol={atol}, rtol={rtol}"


def constant_weight_case(factory: Factory, kind: str) -> tuple[bool, str]:
    """Input 3, hidden 4, one layer, batch 2, seq 5; weights 0.1; float32 at atol 1e-5."""
    module = _MODULES[kind](input_size=3, hidden_size=4, num_layers=1)
    with torch.no_grad():
        for param in module.parameters():
            param.fill_(0.1)
    x = torch.linspace(-1.0, 1.0, steps=5 * 2 * 3).reshape(5, 2, 3)  # (T, B, I)
    return _compare(factory, module, x, atol=1e-5, rtol=0.0)


def fixed_random_case(factory: Factory, kind: str) -> tuple[bool, str]:
    """Input 10, hidden 20, two layers, batch 3, seq 7; default init, seed 0; float32 at 1e-3."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = _MODULES[kind](input_size=10, hidden_size=20, num_layers=2)
        x = torch.randn(7, 3, 10)  # (T, B, I)
    return _compare(factory, module, x, atol=1e-3, rtol=1e-3)


def baseline_detection(mutants: Iterable[Any]) -> dict[str, tuple[bool, bool]]:
    """For each mutant (``name``, ``kind``, ``factory``): (constant caught, random caught)."""
    return {
        m.name: (
            constant_weight_case(m.factory, m.kind)[0],
            fixed_random_case(m.factory, m.kind)[0],
        )
        for m in mutants
    }


def detection_table(detection: dict[str, tuple[bool, bool]]) -> str:
    """A plain-text table of ``baseline_detection``'s result, with totals."""
    width = max([len("mutant"), *map(len, detection)])
    lines = [f"{'mutant':<{width}}  constant  random", "-" * (width + 18)]
    for name, (constant, random) in detection.items():
        lines.append(
            f"{name:<{width}}  {'caught' if constant else '-':<8}  {'caught' if random else '-'}"
        )
    total = len(detection)
    constant_count = sum(c for c, _ in detection.values())
    random_count = sum(r for _, r in detection.values())
    lines.append(f"{'caught':<{width}}  {constant_count}/{total:<6}  {random_count}/{total}")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m mutants.baselines, from tests/
    from .zoo import MUTANTS

    print(detection_table(baseline_detection(MUTANTS)))
