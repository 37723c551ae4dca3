"""A plan's law passes run in worker processes (:mod:`rnnspec.run.workers`), side by side.

The passes are those of the in-process runner, taken in the same order of priority
(:meth:`rnnspec.run.plan.Plan.stages`): an idle worker takes the first pass whose law's
earlier passes have all passed.  With one worker that is the in-process order exactly;
with more, passes of different laws overlap.  Each pass's result depends only on its
law, seed and budget, so the report is the same for any number of workers.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from rnnspec.errors import RunInterrupted
from rnnspec.run.tally import Tally, after
from rnnspec.run.workers import Pool, Task

if TYPE_CHECKING:
    from collections.abc import Callable

    from rnnspec.laws import Law
    from rnnspec.run.plan import Plan
    from rnnspec.run.report import LawResult, Report

__all__ = ["run_one_pooled", "run_pooled"]


def run_pooled(plan: Plan, progress: Callable[[str, LawResult | None], None] | None) -> Report:
    """Run every law of ``plan`` in ``plan.isolation.workers`` processes (see ``run_plan``)."""
    assert plan.isolation is not None
    tally = Tally(plan, progress)
    # each law's passes in order, as (rank of its stage, place in the stage, pass index)
    steps: dict[str, list[tuple[int, int, int]]] = {law.id: [] for law in plan.laws}
    laws: dict[str, Law] = {law.id: law for law in plan.laws}
    for rank, (index, stage) in enumerate(plan.stages()):
        for place, law in enumerate(stage):
            steps[law.id].append((rank, place, index))
    ready = [(*steps[law_id][0], law_id, 0) for law_id in steps]
    heapq.heapify(ready)
    try:
        with Pool(plan.subject, plan.isolation) as pool:
            while ready or pool.busy:
                while ready and pool.idle:
                    _, _, index, law_id, step = heapq.heappop(ready)
                    examples, seed = plan.passes(law_id)[index]
                    started = tally.begin(laws[law_id], index)
                    pool.submit(Task(law_id, examples, seed, plan.shrink),
                                (law_id, index, step, started))  # fmt: skip
                (law_id, index, step, started), result = pool.next_result()
                if not tally.record(laws[law_id], index, result, started):
                    heapq.heappush(ready, (*steps[law_id][step + 1], law_id, step + 1))
    except KeyboardInterrupt:
        raise RunInterrupted(tally.finish(interrupted=True)) from None
    return tally.finish()


def run_one_pooled(plan: Plan, law: Law) -> LawResult:
    """Run one law's passes as ``run_one`` does, in a worker process of its own."""
    assert plan.isolation is not None
    before: LawResult | None = None
    with Pool(plan.subject, plan.isolation) as pool:
        for examples, seed in plan.passes(law.id):
            result = after(pool.run(Task(law.id, examples, seed, plan.shrink)), before)
            if result.status != "passed":
                return result
            before = result
    assert before is not None
    return before
