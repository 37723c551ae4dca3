"""The conformance runner: every applicable law, run with Hypothesis, against a candidate.

``check(factory, kind)`` builds a :class:`~rnnspec.laws.Subject`, runs each law's
check as a Hypothesis test (shrinking failures to the smallest example), and
collects one :class:`~rnnspec.run.report.LawResult` per law into a Report.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from typing_extensions import Unpack

from rnnspec.config import KINDS, fresh_seed
from rnnspec.errors import RunInterrupted
from rnnspec.laws import LAWS, Law, Subject
from rnnspec.laws._repro import factory_path
from rnnspec.run.lawrun import conditions, run_law
from rnnspec.run.misspelled import MisspelledScopeWarning, misspelled_scope_message
from rnnspec.run.options import (
    CheckOptions,
    PlanOptions,
    complete,
    plan_options,
    shows_options,
)
from rnnspec.run.plan import Isolation, Plan
from rnnspec.run.report import LawResult, Report
from rnnspec.run.tally import Tally, after
from rnnspec.scope import Scope

__all__ = ["check", "plan_subject", "resolve", "run_one", "run_plan"]

Progress = Callable[[str, LawResult | None], None]


@shows_options(CheckOptions)
def resolve(factory: Callable[[Any], Any], kind: str, **options: Unpack[CheckOptions]) -> Plan:
    """The one door: validate what a shell was given and resolve it into a :class:`Plan`.

    ``check()``, ``rnnspec check`` and the pytest plugin all come through here; a bad
    value raises ValueError or TypeError with one line that says which.  The options
    are :func:`check`'s (:mod:`rnnspec.run.options` declares them): ``scope``
    defaults to ``factory.scope`` when the factory has one, else ``Scope()``; ``seed``
    None picks one (reported).  ``workers`` above 1 and ``max_memory`` imply ``isolate``.
    """
    o = complete(options, CheckOptions)
    deadline = o["deadline"]
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {type(factory).__name__}")
    if deadline is not None and not deadline > 0:
        raise ValueError(f"deadline must be positive seconds or None, got {deadline!r}")
    scope = o["scope"]
    misspelled = misspelled_scope_message(factory) if scope is None else None
    scope = scope if scope is not None else getattr(factory, "scope", None) or Scope()
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be an rnnspec.Scope, got {type(scope).__name__}")
    name = o["name"] or _name_of(factory)
    subject = Subject(kind, factory, scope, name, o["constructor"], deadline=deadline)
    plan = plan_subject(subject, **plan_options(o))
    return replace(plan, misspelled_scope=misspelled)


def _isolation(isolate: bool, workers: int, max_memory: int | None) -> Isolation | None:
    """The worker processes asked for, validated; None to run in this process."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if max_memory is not None and (
        not isinstance(max_memory, int) or isinstance(max_memory, bool) or max_memory < 1
    ):
        raise ValueError(
            f"max_memory must be a positive number of bytes or None, got {max_memory!r}"
        )
    if not isolate and workers == 1 and max_memory is None:
        return None
    return Isolation(workers, max_memory)


@shows_options(PlanOptions)
def plan_subject(subject: Subject, **options: Unpack[PlanOptions]) -> Plan:
    """The door for a subject already built (torch's modules, the seed's classes)."""
    o = complete(options, PlanOptions)
    max_examples = o["max_examples"]
    if not isinstance(max_examples, int) or isinstance(max_examples, bool) or max_examples < 1:
        raise ValueError(f"max_examples must be a positive integer, got {max_examples!r}")
    isolation = _isolation(o["isolate"], o["workers"], o["max_memory"])
    if isolation is not None:
        from rnnspec.run.forking import check_isolation

        check_isolation(subject, isolation)
    seed = o["seed"] if o["seed"] is not None else fresh_seed()
    laws_run = tuple(_select(subject.kind, o["laws"]))
    return Plan(subject, laws_run, max_examples, seed, o["shrink"], isolation=isolation)


@shows_options(CheckOptions)
def check(
    factory: Callable[[Any], Any],
    kind: str,
    *,
    progress: Progress | None = None,
    **options: Unpack[CheckOptions],
) -> Report:
    """Run the laws of ``kind`` ("rnn", "lstm" or "gru") against ``factory``'s candidates.

    ``factory(reference) -> candidate``: ``reference`` is an nn.RNN / nn.LSTM / nn.GRU
    in eval mode with random weights; the candidate is called like it.  ``scope``
    defaults to ``factory.scope`` when the factory has one, else ``Scope()``.
    ``deadline`` bounds each call of the candidate in seconds (None: unbounded).
    ``seed`` makes the run replayable; when None one is chosen and reported.
    ``shrink=False`` reports each failure as first found, unshrunk (faster).

    ``isolate=True`` runs each law in a worker process: a candidate that crashes the
    process, hangs holding the GIL or eats memory fails its law, and the run goes on
    (:mod:`rnnspec.run.workers`).  ``workers=N`` runs laws in N processes side by side;
    ``max_memory`` caps each worker's address space in bytes.  Both imply isolation.
    Ctrl-C raises :class:`~rnnspec.errors.RunInterrupted` (a KeyboardInterrupt)
    whose ``report`` holds what ran.
    """
    plan = resolve(factory, kind, **options)
    if plan.misspelled_scope:
        warnings.warn(plan.misspelled_scope, MisspelledScopeWarning, stacklevel=2)
    return run_plan(plan, progress)


def run_plan(plan: Plan, progress: Progress | None = None) -> Report:
    """Run every law of ``plan`` under the run's conditions; collect their results.

    Passes of growing budgets: every law first runs one example, then five (the
    expensive laws after the others' one and five), then the laws still passing run
    the rest of their whole budget (:meth:`Plan.passes`: not the scouted examples again;
    a law's result counts the examples of all its passes).
    Most bugs show within a few examples, so a wrong candidate's first failure comes
    within a second or so whichever law finds it, instead of after every law before it
    has run in full.  ``progress(law_id, None)`` is called
    before the run that decides a law, ``progress(law_id, result)`` once it is decided.

    With ``plan.isolation`` the passes run in worker processes
    (:func:`rnnspec.run.pooled.run_pooled`).  Ctrl-C raises
    :class:`~rnnspec.errors.RunInterrupted`, whose ``report`` holds what ran.
    """
    if plan.isolation is not None:
        from rnnspec.run.pooled import run_pooled

        return run_pooled(plan, progress)
    tally = Tally(plan, progress)
    try:
        with conditions():
            for index, laws in plan.stages():
                for law in laws:
                    if law.id in tally.decided:
                        continue
                    examples, seed = plan.passes(law.id)[index]
                    started = tally.begin(law, index)
                    result = run_law(law, plan.subject, max_examples=examples, seed=seed,
                                     shrink=plan.shrink)  # fmt: skip
                    tally.record(law, index, result, started)
    except KeyboardInterrupt:
        raise RunInterrupted(tally.finish(interrupted=True)) from None
    return tally.finish()


def run_one(plan: Plan, law: Law) -> LawResult:
    """Run one law of ``plan`` as :func:`run_plan` runs it (same passes, same conditions).

    For the plugin's one item per law: its result, examples and replay are those of
    ``check()`` with the same seed (in a worker process of its own with ``plan.isolation``).
    """
    if plan.isolation is not None:
        from rnnspec.run.pooled import run_one_pooled

        return run_one_pooled(plan, law)
    before: LawResult | None = None
    with conditions():
        for examples, seed in plan.passes(law.id):
            result = run_law(law, plan.subject, max_examples=examples, seed=seed,
                             shrink=plan.shrink)  # fmt: skip
            result = after(result, before)
            if result.status != "passed":
                return result
            before = result
    assert before is not None
    return before


def _select(kind: str, ids: Iterable[str] | None) -> list[Law]:
    if ids is None:
        return [law for law in LAWS.values() if kind in law.kinds]
    chosen = []
    for law_id in ids:
        if law_id not in LAWS:
            raise ValueError(f"unknown law {law_id!r}; see `rnnspec laws` for the ids")
        chosen.append(LAWS[law_id])
    return chosen


def _name_of(factory: Any) -> str:
    return factory_path(factory)[1]
