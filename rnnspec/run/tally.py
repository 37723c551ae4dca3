"""A run's results as its passes end: which laws are decided, the first failure, progress.

Both runners count through a :class:`Tally`: :func:`rnnspec.run.checker.run_plan` in this
process, one pass after another, and :func:`rnnspec.run.pooled.run_pooled` in worker
processes, passes side by side.  What a law's passes add up to does not depend on the
order they end in, so the two give the same results for the same plan.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from rnnspec.run.causes import mark_probable_causes
from rnnspec.run.report import LawResult, Report

if TYPE_CHECKING:
    from collections.abc import Callable

    from rnnspec.laws import Law
    from rnnspec.run.plan import Plan

__all__ = ["Tally", "after"]


class Tally:
    """The results of ``plan``'s passes so far; :meth:`finish` makes the Report.

    ``progress(law_id, None)`` is called before the pass that decides a law (the
    whole-budget one, or a scouting pass that fails it), ``progress(law_id, result)``
    once it is decided.
    """

    def __init__(
        self, plan: Plan, progress: Callable[[str, LawResult | None], None] | None = None
    ) -> None:
        subject = plan.subject
        self.plan = plan
        self.progress = progress
        self.report = Report(
            subject.kind, subject.name, subject.scope, plan.seed, plan.max_examples
        )
        self.decided: dict[str, LawResult] = {}
        self.scouted: dict[str, LawResult] = {}  # laws that passed their passes so far
        self.running: set[str] = set()
        self.start = time.perf_counter()
        self.last = len(plan.budgets) - 1

    def begin(self, law: Law, index: int) -> float:
        """Note that pass ``index`` of ``law`` starts now; returns when, for :meth:`record`."""
        self.running.add(law.id)
        if self.progress and index == self.last:
            self.progress(law.id, None)
        return time.perf_counter()

    def record(self, law: Law, index: int, result: LawResult, started: float) -> bool:
        """Count pass ``index`` of ``law`` (begun at ``started``); True once the law is decided."""
        self.running.discard(law.id)
        final = index == self.last
        result = after(result, self.scouted.get(law.id))
        if result.status == "passed" and not final:
            self.scouted[law.id] = result
            return False
        if result.first_failure_seconds is not None:  # (from the start of its pass)
            found = started - self.start + result.first_failure_seconds
            first = self.report.first_failure_seconds
            if first is None or found < first:
                self.report.first_failure_seconds, self.report.first_failed_law = found, law.id
        self.decided[law.id] = result
        if self.progress:
            if not final:
                self.progress(law.id, None)
            self.progress(law.id, result)
        return True

    def finish(self, interrupted: bool = False) -> Report:
        """The Report: every law's result; when ``interrupted``, the undecided ones marked."""
        results = [self.decided.get(law.id) or self._interrupted(law) for law in self.plan.laws]
        self.report.results = mark_probable_causes(results)
        self.report.interrupted = interrupted
        return self.report

    def _interrupted(self, law: Law) -> LawResult:
        scouted = self.scouted.get(law.id)
        if law.id in self.running:
            what = "interrupted while it ran"
        else:
            what = "not run to the end: the run was interrupted"
        examples, seconds = (scouted.examples, scouted.seconds) if scouted else (0, 0.0)
        if scouted:
            what += f" (its first {examples} examples passed)"
        return LawResult(law.id, "interrupted", what, law.sentence, examples, seconds)


def after(result: LawResult, before: LawResult | None) -> LawResult:
    """``result`` of a pass counting the examples and time of the law's earlier passes."""
    if before is None:
        return result
    return replace(result, examples=result.examples + before.examples,
                   seconds=result.seconds + before.seconds)  # fmt: skip
