"""What every peer's tests share: torch's module and the port compared, and the laws run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from typing import Any

import torch
from torch import nn

from rnnspec.config import module_class
from rnnspec.peers import Peer
from rnnspec.peers.table import cell_in_child

CONFIGS: tuple[dict[str, Any], ...] = (
    {},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 3, "batch_first": True, "bias": False},
    {"bidirectional": True, "batch_first": True},
)
"""Configurations the weight mapping is compared on (sizes 3 -> 5, batch 2, 7 steps)."""

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def reference(kind: str, dtype: torch.dtype, **config: Any) -> nn.RNNBase:
    torch.manual_seed(0)
    return module_class(kind)(3, 5, **config).to(dtype).eval()


def _flat(result: Any) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _inputs(module: nn.RNNBase, batched: bool = True) -> tuple[torch.Tensor, Any]:
    g = torch.Generator().manual_seed(1)
    dtype = module.weight_ih_l0.dtype
    shape = ((2, 7, 3) if module.batch_first else (7, 2, 3)) if batched else (7, 3)
    x = torch.randn(shape, generator=g, dtype=dtype)
    layers = module.num_layers * (2 if module.bidirectional else 1)

    def state(size: int) -> torch.Tensor:
        return torch.randn(
            (layers, 2, size) if batched else (layers, size), generator=g, dtype=dtype
        )

    h = state(getattr(module, "proj_size", 0) or module.hidden_size)
    return x, ((h, state(module.hidden_size)) if module.mode == "LSTM" else h)


def assert_matches_torch(
    factory: Callable[[Any], Any], kind: str, dtype: torch.dtype, **config: Any
) -> None:
    """The port's output and final states equal torch's, with and without an initial
    state, batched and unbatched; and have torch's shapes and dtype."""
    module = reference(kind, dtype, **config)
    candidate = factory(module)
    for batched in (True, False):
        x, hx = _inputs(module, batched)
        for args in ((x,), (x, hx)):
            with torch.no_grad():
                expected, actual = _flat(module(*args)), _flat(candidate(*args))
            assert len(actual) == len(expected)
            for a, e in zip(actual, expected, strict=True):
                assert a.shape == e.shape
                assert a.dtype == e.dtype
                torch.testing.assert_close(a, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def assert_cached_programs_take_their_callers_weights(
    factory: Callable[[Any], Any], programs: Sized
) -> None:
    """A converting peer (OpenVINO, ExecuTorch) keeps a program by configuration and
    shapes: a second module of the same configuration reuses it, with its own weights."""
    first = reference("lstm", torch.float32, num_layers=2)
    x, hx = _inputs(first)
    factory(first)(x, hx)
    count = len(programs)
    second = reference("lstm", torch.float32, num_layers=2)
    with torch.no_grad():
        for p in second.parameters():
            p.mul_(-0.5)
        expected = _flat(second(x, hx))
    actual = _flat(factory(second)(x, hx))
    assert len(programs) == count  # the same configuration and shapes: cached
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-5)


def assert_weights_are_read_at_each_call(factory: Callable[[Any], Any]) -> None:
    """Weights changed after the factory ran are the ones the next call uses."""
    module = reference("gru", torch.float32)
    candidate = factory(module)
    x, hx = _inputs(module)
    candidate(x, hx)
    with torch.no_grad():
        module.weight_hh_l0.add_(0.25)
        expected = _flat(module(x, hx))
    for a, e in zip(_flat(candidate(x, hx)), expected, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-5)


def failed_laws(peer: Peer, kind: str, max_examples: int = 30) -> set[str]:
    """The laws ``peer``'s ``kind`` fails at 30 examples per law (or ``max_examples``),
    seed 0, run exactly as ``rnnspec peers`` ran docs/peers.md's table: in a fresh
    interpreter (:func:`rnnspec.peers.table.cell_in_child`), with the peer's scope and
    deadline, each law in worker processes forked from it.

    Not in this process: the tests before have run the framework here, and a process
    forked after OpenVINO ran hung or crashed in it; under ``tox -e peers-keras`` every
    law of Keras on JAX failed when its workers were forked from this process (after
    JAX had run in it) and passes from a fresh interpreter.  Nor under this suite's
    warnings-as-errors: the child has Python's default warning filters.
    """
    cell = cell_in_child(peer, kind, max_examples=max_examples, seed=0, verbose=False)
    assert cell.status in ("passed", "failed"), f"{peer.name} {kind}: {cell.status}: {cell.why}"
    assert cell.report is not None
    return {r["law"] for r in cell.report["results"] if r["status"] == "failed"}


def every_case(kinds: Iterable[str]) -> list[tuple[str, torch.dtype, dict[str, Any]]]:
    return [
        (kind, dtype, config)
        for kind in kinds
        for dtype in (torch.float32, torch.float64)
        for config in CONFIGS
    ]
