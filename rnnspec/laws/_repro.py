"""A failure's repro, rendered from its data: the law's own case, or a replay of it.

:func:`repro` writes a standalone script: imports, the factory, then the law's own
lines (``Law.repro``, given the failure) after a common preamble that rebuilds the
example, the reference and the candidate; a law without its own lines gets
:func:`generic`, which calls :func:`rnnspec.replay.replay` on the failing draws.
Every script prints the disagreement and exits 1 while the candidate fails.  The
factory is imported by the name :func:`rnnspec.laws._names.spell` finds; one with no
importable name (a lambda, a closure, ...) gets a placeholder the user fills in.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rnnspec.laws._names import bind, display_name, spell
from rnnspec.tolerance import tolerance

if TYPE_CHECKING:
    from rnnspec.laws._failure import LawFailure

__all__ = ["factory_name", "factory_path", "preamble", "repro", "tolerance_line"]


def repro(failure: LawFailure) -> str:
    """The repro script of ``failure`` (its law's own case when it has one)."""
    lines = [
        "import sys",
        "import torch",
        "from rnnspec.config import Example, RNNConfig",
        "from rnnspec import replay",
        *bind(failure.subject.factory, "factory")[0],
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

    mode = ".train()" if training else ""
    return [
        f"example = {failure.example!r}",
        f"reference = example.reference(){mode}",
        f"candidate = {factory_name(failure)}(reference)",
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
    if subject.constructor is not None:  # required where the law needs one to run at all
        needed = failure.law.needs(replace(subject, constructor=None)) is not None
        more, constructor = bind(subject.constructor, "constructor", required=needed)
        lines += more
    for value in failure.draws.values():  # a drawn value's class, for its repr to build it
        kind = type(value)
        if kind.__module__ != "builtins":
            lines += spell(kind).imports
    draws = ", ".join(f"{label!r}: {value!r}" for label, value in failure.draws.items())
    return [
        *lines,
        f"# law {failure.law.id!r}: {failure.law.sentence}",
        "# its check, rerun on the failing example and draws:",
        "sys.exit(replay.replay(",
        f"    {failure.law.id!r},",
        f"    {factory_name(failure)},",
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


def factory_name(failure: LawFailure) -> str:
    """The expression a repro calls the factory by: its import's, else the placeholder's."""
    return spell(failure.subject.factory).expression or "factory"


def factory_path(factory: Any) -> tuple[str, str]:
    """``(module, name)`` of ``factory`` as reports show it (not necessarily importable:
    a repro imports what :func:`rnnspec.laws._names.spell` finds)."""
    inner = factory.func if isinstance(factory, functools.partial) else factory
    owner = getattr(inner, "__self__", None)
    module = owner.__module__ if isinstance(owner, type) else getattr(inner, "__module__", None)
    return module or type(inner).__module__, display_name(factory)
