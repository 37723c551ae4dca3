"""A resolved run, and the passes each law runs in: the budgets and Hypothesis seeds.

:func:`rnnspec.run.checker.resolve` (the one door) makes a :class:`Plan`;
:func:`~rnnspec.run.checker.run_plan` and :func:`~rnnspec.run.checker.run_one` run it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnspec.laws import Law, Subject

__all__ = ["SCOUT_EXAMPLES", "Isolation", "Plan", "law_seed", "whole_budget_seed"]

SCOUT_EXAMPLES = (1, 5)
"""Examples per law in the runner's first passes (see :func:`rnnspec.run.checker.run_plan`)."""


@dataclass(frozen=True)
class Isolation:
    """Laws run in worker processes (:mod:`rnnspec.run.workers`): how many, how capped.

    ``workers`` processes run laws side by side; ``max_memory`` caps each one's address
    space in bytes (None: no cap).
    """

    workers: int = 1
    max_memory: int | None = None


@dataclass(frozen=True)
class Plan:
    """A resolved run: the subject, its laws and budget, the seed; what the three shells run.

    ``misspelled_scope`` is the warning for a factory whose ``scope`` attribute looks
    misspelled (each shell shows it its own way), or None.  ``isolation`` runs the laws
    in worker processes; None runs them in this one.
    """

    subject: Subject
    laws: tuple[Law, ...]
    max_examples: int
    seed: int
    shrink: bool = True
    misspelled_scope: str | None = None
    isolation: Isolation | None = None

    def stages(self) -> list[tuple[int, list[Law]]]:
        """``(pass index, laws)`` in the order a run takes them (see ``run_plan``).

        Every law's scouting passes come first, the cheap laws' before the expensive
        ones' (whose first run in a process can cost seconds: meta-shapes imports
        torch._dynamo), then every law's whole-budget pass; within a stage, registry
        order.  A law drops out of later stages once decided (failed or skipped).
        """
        order = sorted(self.laws, key=lambda law: law.expensive)
        scouting = [i for i, b in enumerate(self.budgets) if b <= max(SCOUT_EXAMPLES)]
        stages = [(i, [law for law in order if not law.expensive]) for i in scouting]
        stages += [(i, [law for law in order if law.expensive]) for i in scouting]
        last = len(self.budgets) - 1
        if last not in scouting:
            stages.append((last, order))
        return stages

    @property
    def budgets(self) -> list[int]:
        """The examples per law by the end of each pass: the scouting passes, the whole budget."""
        return sorted({min(n, self.max_examples) for n in (*SCOUT_EXAMPLES, self.max_examples)})

    def passes(self, law_id: str) -> list[tuple[int, int]]:
        """``(max_examples, seed)`` of each pass of law ``law_id`` (``len(budgets)`` of them).

        Each law draws from a seed of its own, derived from the run's and its id
        (:func:`law_seed`), so that the laws' scouting passes see different examples: a
        bug that shows only in some (a long sequence) is found sooner.  The scouting
        passes run from that seed, each again from the start (the second's first example
        is the first pass's).  The pass of the whole budget, where it goes beyond them,
        does not repeat them: from a seed derived from the law's, it runs what the budget
        adds to the last scouting pass, and one more for Hypothesis's simplest example,
        which every run tries first and the scouting already ran.  The passes depend on
        the seed, the budget and the law alone, so ``seed`` and ``max_examples`` replay a
        run, and a run of ``max(SCOUT_EXAMPLES)`` examples is the scouting of a longer one.
        """
        seed = law_seed(self.seed, law_id)
        budgets = self.budgets
        scouting = [(b, seed) for b in budgets if b <= max(SCOUT_EXAMPLES)]
        if len(scouting) == len(budgets):
            return scouting
        rest = budgets[-1] - scouting[-1][0] + 1
        return [*scouting, (rest, whole_budget_seed(seed))]


def law_seed(seed: int, law_id: str) -> int:
    """The Hypothesis seed of law ``law_id`` in a run with ``seed``."""
    return (seed * 1_000_003 + zlib.crc32(law_id.encode())) % 2**64


def whole_budget_seed(seed: int) -> int:
    """The Hypothesis seed of the whole-budget pass of a law whose seed is ``seed``."""
    return (seed * 1_000_003 + 1) % 2**64
