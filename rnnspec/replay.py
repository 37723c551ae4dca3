"""What a failure's repro script calls: rerun a law on its failing draws, compare, exit.

The repro that a failed law prints (``LawFailure.repro()``) is a standalone script:
the law's own case written out in torch (packing with the drawn lengths, dropout's p
and mode, the second call, the chunks, the bad input, the gradients ...), or, for a
law without its own case, :func:`replay`, which reruns the law's check with the
failing draws.  Either way the script prints the disagreement and exits 1.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import torch
from torch import Tensor

from rnnspec.config import Example
from rnnspec.scope import Scope
from rnnspec.state import RESULT_NAMES, flat_result, state_tensors
from rnnspec.tolerance import Tolerance, within

__all__ = [
    "call",
    "compare",
    "compare_gradients",
    "finish",
    "gradients",
    "raised",
    "replay",
    "results",
    "rows",
    "same_error",
    "to",
]


def replay(
    law_id: str,
    factory: Callable[[Any], Any],
    kind: str,
    example: Example | None,
    draws: dict[str, Any],
    *,
    scope: Scope | None = None,
    constructor: Callable[..., Any] | None = None,
    deadline: float | None = None,
) -> int:
    """Run law ``law_id``'s check once, on ``example`` and ``draws``; print what fails.

    Returns 1 when the law fails again (the disagreement is printed), 0 when it holds.
    """
    from rnnspec.laws import LAWS
    from rnnspec.laws._core import Subject
    from rnnspec.laws._failure import CandidateHung, LawFailure
    from rnnspec.laws._repro import factory_path
    from rnnspec.laws.trial import Trial

    law = LAWS[law_id]
    name = factory_path(factory)[1]
    subject = Subject(kind, factory, scope or Scope(), name, constructor, deadline)

    def draw(strategy: Any, label: str) -> Any:
        return example if label == "example" else draws[label]

    try:
        law.check(Trial(law, subject, draw))
    except LawFailure as failure:
        print(f"law {law_id!r} fails again: {failure.problem}")
        for difference in failure.differences:
            print(f"  {difference}")
        return 1
    except CandidateHung as hung:
        print(f"law {law_id!r} fails again: {hung.failure.problem}")
        return 1
    print(f"law {law_id!r} holds on this example")
    return 0


def results(result: Any) -> list[tuple[str, Tensor]]:
    """``(name, tensor)`` for output (a PackedSequence's data), h_n and c_n."""
    return list(zip(RESULT_NAMES, flat_result(result), strict=False))


def compare(what: str, actual: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Print each result's max |difference|; True when all are within the tolerance."""
    same = True
    pairs = zip(results(actual), results(expected), strict=False)
    for (name, a), (_, e) in pairs:
        a, e = a.detach().double().cpu(), e.detach().double().cpu()
        if a.shape != e.shape:
            print(f"{what} {name}: shape {list(a.shape)}, expected {list(e.shape)}")
            same = False
            continue
        diff = (a - e).abs()
        ok = bool(within(a, e, Tolerance(rtol, atol)).all())
        worst = diff.max().item() if diff.numel() else 0.0
        print(f"{what} {name}: max |difference| {worst:.3g}", "" if ok else "(too large)")
        same = same and ok
    return same


def finish(same: bool) -> NoReturn:
    """Say whether the two sides agree, and exit 0 if they do, 1 if they do not."""
    print("the two sides agree" if same else "they DISAGREE: the law fails")
    sys.exit(0 if same else 1)


def to(hx: Any, dtype: torch.dtype) -> Any:
    """An initial state (None, a Tensor or a tuple) in ``dtype``."""
    if hx is None:
        return None
    return tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)


def rows(hx: Any, index: Tensor) -> Any:
    """The samples ``index`` (batch on dim 1) of an initial or final state, or None."""
    if hx is None:
        return None
    if isinstance(hx, tuple | list):
        return tuple(h.index_select(1, index) for h in hx)
    return hx.index_select(1, index)


def call(fn: Any, x: Any, hx: Any) -> Any:
    """``fn(x)`` or ``fn(x, hx)``: a None state is not passed at all."""
    return fn(x) if hx is None else fn(x, hx)


def raised(fn: Any, *args: Any) -> BaseException | None:
    """What ``fn(*args)`` raises, or None."""
    try:
        with torch.no_grad():
            fn(*args)
    except Exception as exc:  # noqa: BLE001 - which exception is what the law checks
        return exc
    return None


def same_error(got: BaseException | None, expected: BaseException | None, pattern: str) -> bool:
    """Print both errors; True when ``got`` is torch's kind of error with a matching message."""
    print(f"torch raises:         {expected!r}")
    print(f"the candidate raises: {got!r}")
    if got is None or expected is None or not isinstance(got, type(expected)):
        return False
    if not re.search(pattern, str(got)):
        print(f"the candidate's message does not match {pattern!r}")
        return False
    return True


def gradients(fn: Any, x: Tensor, hx: Any, seed: int, who: str) -> dict[str, Tensor | None]:
    """d(a weighted sum of every result) / d(input, hx, each named parameter); {} if it raises."""
    xr = x.clone().requires_grad_(True)
    hr = None if hx is None else tuple(h.clone().requires_grad_(True) for h in state_tensors(hx))
    state = None if hr is None else (hr if isinstance(hx, tuple) else hr[0])
    params = dict(fn.named_parameters()) if isinstance(fn, torch.nn.Module) else {}
    try:
        result = call(fn, xr, state)
        generator = torch.Generator().manual_seed(seed + 2)
        loss = sum(
            (t * torch.randn(t.shape, generator=generator, dtype=torch.float64).to(t.dtype)).sum()
            for _, t in results(result)
        )
        leaves = [xr, *(hr or ()), *params.values()]
        found = torch.autograd.grad(loss, leaves, allow_unused=True)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - the failure to show
        print(f"backward through the {who} raised {exc!r}")
        return {}
    names = ["input", *[f"hx[{i}]" for i in range(len(hr or ()))], *params]
    return dict(zip(names, found, strict=True))


def compare_gradients(
    actual: dict[str, Tensor | None],
    expected: dict[str, Tensor | None],
    rtol: float,
    atol: float,
) -> bool:
    """Print each shared gradient's max |difference|; True when all agree."""
    if not actual or not expected:
        return False
    same = True
    for name, want in expected.items():
        if name not in actual:
            continue  # a parameter the other side names differently
        got = actual[name]
        if (got is None) != (want is None):
            print(f"grad {name}: {'missing' if got is None else 'present'} on one side only")
            same = False
        elif got is not None and want is not None:
            same = compare(f"grad {name}", (got, ()), (want, ()), rtol, atol) and same
    return same
