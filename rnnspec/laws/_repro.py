"""A failure's repro, rendered from its data: the law's own case, or a replay of it.

:func:`repro` writes a standalone script: imports, the factory, then the law's own
lines (``Law.repro``, given the failure) after a common preamble that rebuilds the
example, the reference and the candidate; a law without its own lines gets
:func:`generic`, which calls :func:`rnnspec.replay.replay` on the failing draws.
Every script prints the disagreement and exits 1 while the candidate fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnspec.tolerance import tolerance

if TYPE_CHECKING:
    from rnnspec.laws._failure import LawFailure

__all__ = ["factory_path", "preamble", "repro", "tolerance_line"]


def repro(failure: LawFailure) -> str:
    """The repro script of ``failure`` (its law's own case when it has one)."""
    module, qualname = factory_path(failure.subject.factory)
    lines = [
        "import sys",
        "import torch",
        "from rnnspec.config import Example, RNNConfig",
        "from rnnspec import replay",
        f"from {module} import {qualname.split('.')[0]}  # the factory under test",
    ]
    own = failure.law.repro
    if own is not None and failure.example is not None:
        lines += own(failure)
    else:
        lines += generic(failure)
    lines.append(f"# law {failure.law.id} is defined in {failure.law.module}")
    return "\n".join(lines)


def preamble(failure: LawFailure, training: bool = False) -> list[str]:
    """Lines that rebuild the example, the reference, the candidate, ``x``, ``hx``, ``args``."""

    qualname = factory_path(failure.subject.factory)[1]
    mode = ".train()" if training else ""
    return [
        f"example = {failure.example!r}",
        f"reference = example.reference(){mode}",
        f"candidate = {qualname}(reference)",
        "x, hx = example.inputs()",
        "args = (x,) if hx is None else (x, hx)",
        tolerance_line(failure),
    ]


def tolerance_line(failure: LawFailure, steps: int | None = None) -> str:
    """``rtol, atol = ...``: the failing comparison's tolerance, else the example's."""
    if failure.difference is not None and steps is None:
        tol = failure.difference.tolerance
    else:
        example = failure.example
        assert example is not None
        tol = tolerance(
            example.torch_dtype, steps or example.seq_len, failure.subject.scope.tolerances
        )
    return f"rtol, atol = {tol.rtol!r}, {tol.atol!r}  # rnnspec's tolerance here"


def generic(failure: LawFailure) -> list[str]:
    """Rerun the law's check on the failing example and draws (rnnspec.replay.replay)."""

    subject = failure.subject
    lines = ["from rnnspec.scope import Scope", "from rnnspec.tolerance import Tolerance"]
    constructor = "None"
    if subject.constructor is not None:
        module, qualname = factory_path(subject.constructor)
        lines.append(f"from {module} import {qualname.split('.')[0]}")
        constructor = qualname
    for value in failure.draws.values():  # a drawn value's class, for its repr to build it
        kind = type(value)
        if kind.__module__ != "builtins":
            lines.append(f"from {kind.__module__} import {kind.__qualname__.split('.')[0]}")
    draws = ", ".join(f"{label!r}: {value!r}" for label, value in failure.draws.items())
    return [
        *lines,
        f"# law {failure.law.id!r}: {failure.law.sentence}",
        "# its check, rerun on the failing example and draws:",
        "sys.exit(replay.replay(",
        f"    {failure.law.id!r},",
        f"    {factory_path(subject.factory)[1]},",
        f"    {subject.kind!r},",
        f"    {failure.example!r},",
        f"    {{{draws}}},",
        f"    scope={subject.scope!r},",
        f"    constructor={constructor},",
        f"    deadline={subject.deadline!r},",
        "))",
    ]


def forward_case(what: str, before: list[str], actual: str, expected: str) -> Any:
    """A repro writer: ``before`` lines, then compare ``actual`` with ``expected``."""

    def write(failure: LawFailure) -> list[str]:
        return [
            *preamble(failure),
            "with torch.no_grad():",
            *("    " + line for line in before),
            f"same = replay.compare({what!r}, {actual}, {expected}, rtol, atol)",
            "replay.finish(same)",
        ]

    return write


def factory_path(factory: Any) -> tuple[str, str]:
    """``(module, qualified name)`` to import ``factory`` by, bound classmethods included."""
    owner = getattr(factory, "__self__", None)
    if isinstance(owner, type):
        return owner.__module__, f"{owner.__qualname__}.{factory.__name__}"
    qualname = getattr(factory, "__qualname__", None) or type(factory).__qualname__
    return getattr(factory, "__module__", None) or type(factory).__module__, qualname
