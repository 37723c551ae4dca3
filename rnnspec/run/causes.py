"""Failures that probably share one cause: a wrong forward fails every law built on it.

When ``equivalence`` fails, the candidate's forward differs from torch's.  Some other
laws compare the candidate's results with torch's module (or with the NumPy oracle,
which computes the same function) on the same weights: they contain equivalence's
comparison, so they fail too, from the same cause.  Those failures are marked, so a
forward bug does not send the user hunting in dropout.

The rule, as data: a failed law is marked "probably the same cause as equivalence"
when (1) ``equivalence`` failed in the same run and (2) the law is in
:data:`COMPARES_WITH_TORCH`: the laws declared ``law(..., compares_with_torch=True)``.
Laws that compare the candidate with itself (``hx-none-is-zeros``, ``stateless``,
``repeatable``, ``streaming``, ``causality``, ``batch-*``, ``unbatched``, ``packed``,
the parities ...) are never marked: a forward
that differs from torch's still passes them unless it has that particular defect as
well, so their failure is a clue of its own, worth reading.  A mark says "probably":
fix equivalence first, then rerun; a law that still fails had a second cause.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from rnnspec.laws import LAWS
from rnnspec.run.report import LawResult

__all__ = ["COMPARES_WITH_TORCH", "ROOT", "mark_probable_causes", "probable_cause"]

ROOT = "equivalence"
"""The law whose failure other failures are traced to."""

COMPARES_WITH_TORCH: frozenset[str] = frozenset(
    law.id for law in LAWS.values() if law.compares_with_torch
)
"""Laws whose check compares the candidate's results with torch's (or the oracle's), e.g.
gradients (the derivative of another function), oracle (torch's function, computed in
NumPy), dropout-inactive and dropout-between-layers (against torch without dropout)."""


def probable_cause(law: str, failed: Iterable[str]) -> str | None:
    """The law that probably caused ``law``'s failure, given the ids that ``failed``."""
    if law in COMPARES_WITH_TORCH and ROOT in set(failed):
        return ROOT
    return None


def mark_probable_causes(results: list[LawResult]) -> list[LawResult]:
    """``results`` with ``probable_cause`` set on each failure the rule traces to another."""
    failed = {r.law for r in results if r.status == "failed"}
    return [
        replace(r, probable_cause=probable_cause(r.law, failed)) if r.status == "failed" else r
        for r in results
    ]
