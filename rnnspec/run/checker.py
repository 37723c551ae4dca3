"""The conformance runner: every applicable law, run with Hypothesis, against a candidate.

``check(factory, kind)`` builds a :class:`~rnnspec.laws.Subject`, runs each law's
check as a Hypothesis test (shrinking failures to the smallest example), and
collects one :class:`~rnnspec.run.report.LawResult` per law into a Report.
"""

from __future__ import annotations

import functools
import gc
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from rnnspec.config import DEADLINE, KINDS, MAX_EXAMPLES, fresh_seed
from rnnspec.deadline import Watch, run_watched
from rnnspec.laws import LAWS, Law, LawFailure, Subject, Trial
from rnnspec.laws._failure import CandidateHung, LawSkipped
from rnnspec.laws._repro import factory_path
from rnnspec.run.misspelled import MisspelledScopeWarning, misspelled_scope_message
from rnnspec.run.plan import Isolation, Plan
from rnnspec.run.report import LawResult, Report, RunInterrupted
from rnnspec.run.tally import Tally, after
from rnnspec.scope import Scope
from rnnspec.torchstate import TorchState

__all__ = [
    "check",
    "check_subject",
    "conditions",
    "failed_result",
    "plan_subject",
    "resolve",
    "run_law",
    "run_one",
    "run_plan",
]

Progress = Callable[[str, LawResult | None], None]
_BLOB = re.compile(r"@reproduce_failure\((.*?)\)")


def resolve(
    factory: Callable[[Any], Any],
    kind: str,
    *,
    scope: Scope | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int | None = None,
    laws: Iterable[str] | None = None,
    deadline: float | None = DEADLINE,
    name: str | None = None,
    constructor: Callable[..., Any] | None = None,
    shrink: bool = True,
    isolate: bool = False,
    workers: int = 1,
    max_memory: int | None = None,
) -> Plan:
    """The one door: validate what a shell was given and resolve it into a :class:`Plan`.

    ``check()``, ``rnnspec check`` and the pytest plugin all come through here; a bad
    value raises ValueError or TypeError with one line that says which.  ``scope``
    defaults to ``factory.scope`` when the factory has one, else ``Scope()``; ``seed``
    None picks one (reported).  ``workers`` above 1 and ``max_memory`` imply ``isolate``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {type(factory).__name__}")
    if deadline is not None and not deadline > 0:
        raise ValueError(f"deadline must be positive seconds or None, got {deadline!r}")
    misspelled = misspelled_scope_message(factory) if scope is None else None
    scope = scope if scope is not None else getattr(factory, "scope", None) or Scope()
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be an rnnspec.Scope, got {type(scope).__name__}")
    subject = Subject(
        kind, factory, scope, name or _name_of(factory), constructor, deadline=deadline
    )
    plan = plan_subject(subject, max_examples=max_examples, seed=seed, laws=laws, shrink=shrink)
    isolation = _isolation(isolate, workers, max_memory)
    if isolation is not None:
        from rnnspec.run.workers import check_isolation

        check_isolation(subject, isolation)
    return replace(plan, misspelled_scope=misspelled, isolation=isolation)


def _isolation(isolate: bool, workers: int, max_memory: int | None) -> Isolation | None:
    """The worker processes asked for, validated; None to run in this process."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if max_memory is not None and (
        not isinstance(max_memory, int) or isinstance(max_memory, bool) or max_memory < 1
    ):
        raise ValueError(f"max_memory must be a positive number of bytes or None, got {max_memory!r}")
    if not isolate and workers == 1 and max_memory is None:
        return None
    return Isolation(workers, max_memory)


def plan_subject(
    subject: Subject,
    *,
    max_examples: int = MAX_EXAMPLES,
    seed: int | None = None,
    laws: Iterable[str] | None = None,
    shrink: bool = True,
) -> Plan:
    """The door for a subject already built (torch's modules, the seed's classes)."""
    if not isinstance(max_examples, int) or isinstance(max_examples, bool) or max_examples < 1:
        raise ValueError(f"max_examples must be a positive integer, got {max_examples!r}")
    seed = seed if seed is not None else fresh_seed()
    return Plan(subject, tuple(_select(subject.kind, laws)), max_examples, seed, shrink)


GC_THRESHOLD = 10_000
"""The collector's first threshold during a run (Python's default is 700 allocations)."""


@contextmanager
def conditions() -> Iterator[None]:
    """The run's conditions, set while laws run and restored after.

    One intra-op thread: the laws run thousands of tiny tensors, one thread is faster,
    and on a busy machine two OpenMP threads spinning on each other are many times slower.

    Fewer garbage collections: a check allocates millions of short-lived objects, and
    with Python's first threshold of 700 allocations the collector took 0.74 s of an 11 s
    check of torch's LSTM; with :data:`GC_THRESHOLD`, 0.35 s, and no more memory.  (Freezing
    the objects alive at the start, ``gc.freeze``, saved a little more, but hides them from
    ``gc.get_referrers``, which Hypothesis 6.100's ``register_random`` relies on.)
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        gc.set_threshold(*thresholds)


def check(
    factory: Callable[[Any], Any],
    kind: str,
    *,
    scope: Scope | None = None,
    max_examples: int = MAX_EXAMPLES,
    seed: int | None = None,
    laws: Iterable[str] | None = None,
    deadline: float | None = DEADLINE,
    name: str | None = None,
    constructor: Callable[..., Any] | None = None,
    progress: Progress | None = None,
    shrink: bool = True,
    isolate: bool = False,
    workers: int = 1,
    max_memory: int | None = None,
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
    Ctrl-C raises :class:`~rnnspec.run.report.RunInterrupted` (a KeyboardInterrupt)
    whose ``report`` holds what ran.
    """
    plan = resolve(
        factory,
        kind,
        scope=scope,
        max_examples=max_examples,
        seed=seed,
        laws=laws,
        deadline=deadline,
        name=name,
        constructor=constructor,
        shrink=shrink,
        isolate=isolate,
        workers=workers,
        max_memory=max_memory,
    )
    if plan.misspelled_scope:
        warnings.warn(plan.misspelled_scope, MisspelledScopeWarning, stacklevel=2)
    return run_plan(plan, progress)


def check_subject(
    subject: Subject,
    *,
    max_examples: int = MAX_EXAMPLES,
    seed: int | None = None,
    laws: Iterable[str] | None = None,
    progress: Progress | None = None,
    shrink: bool = True,
) -> Report:
    """Run every law of ``subject.kind`` (or the ``laws`` ids) against a built subject."""
    plan = plan_subject(subject, max_examples=max_examples, seed=seed, laws=laws, shrink=shrink)
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
    :class:`~rnnspec.run.report.RunInterrupted`, whose ``report`` holds what ran.
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


@functools.lru_cache(maxsize=64)
def _settings(max_examples: int, shrink: bool) -> settings:
    """A run's Hypothesis settings (made once: validating them is not free)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        # no explain phase: after a failure it replays hundreds of variations (slow modes
        # recompile for each) to annotate lines, which our messages do not use
        phases=[p for p in Phase if p is not Phase.explain and (shrink or p is not Phase.shrink)],
    )


def run_law(
    law: Law,
    subject: Subject,
    *,
    max_examples: int,
    seed: int,
    shrink: bool = True,
    watch: Watch | None = None,
) -> LawResult:
    """Run one law with Hypothesis; return its result (never raises for a bad candidate).

    ``shrink=False`` reports the first failing example as found, unshrunk (faster).
    ``watch``: the candidate calls are watched from elsewhere (a worker process's
    parent), so the run happens on this thread; by default, with a deadline, it goes
    to the worker thread and this thread watches.
    """
    reason = law.skip_reason(subject)
    if reason:
        return LawResult(law.id, "skipped", f"out of scope: {reason}", law.sentence)
    state: dict[str, Any] = {"examples": 0, "first_failure": None}
    start = time.perf_counter()
    here = watch is not None or subject.deadline is None
    if watch is None and subject.deadline is not None:
        watch = Watch()  # without a deadline or a watch, Trial calls the candidate directly

    def example(data: st.DataObject) -> None:
        state["examples"] += 1
        try:
            law.check(Trial(law, subject, data.draw, watch))
        except LawFailure:
            if state["first_failure"] is None:
                state["first_failure"] = time.perf_counter() - start
            raise

    # Hypothesis hashes the source of the test function at every run (its database key,
    # even with no database): a two-line function, not this one with its decorators,
    # saves some 0.5 ms a run of the 90-odd runs of a check.
    def test(data: st.DataObject) -> None:
        example(data)

    run = hypothesis_seed(seed)(_settings(max_examples, shrink)(given(data=st.data())(test)))
    # With a deadline the run goes to the worker thread, which calls the candidate
    # directly, and this thread watches the calls: two thread switches a pass, not a call.
    # Whatever torch settings a candidate changes (the law global-state says which), the
    # next law starts from those this one started from.
    before = TorchState.capture()
    try:
        if here:
            run()
        else:
            assert watch is not None and subject.deadline is not None
            run_watched(run, (), watch, subject.deadline)
    except LawSkipped as exc:  # the candidate showed at run time that the law cannot apply
        return LawResult(
            law.id,
            "skipped",
            f"not applicable: {exc}",
            law.sentence,
            state["examples"],
            time.perf_counter() - start,
        )
    except CandidateHung as exc:  # stopped at once: no replay, no shrinking
        seconds = time.perf_counter() - start
        if state["first_failure"] is None:
            state["first_failure"] = seconds
        return failed_result(exc.failure, state, seconds)
    except LawFailure as exc:
        seconds = time.perf_counter() - start
        # the blob is Hypothesis's own note (it has no other way to give it)
        blob = _BLOB.search("\n".join(getattr(exc, "__notes__", [])))
        diagnosis = _diagnosis(law, subject, exc)
        return failed_result(exc, state, seconds, blob.group(1) if blob else None, diagnosis)
    except Exception as exc:  # noqa: BLE001 - rnnspec must report, not crash
        problem = f"could not run: {type(exc).__name__}: {exc}"
        return LawResult(
            law.id,
            "failed",
            f"law {law.id!r} {problem}",
            law.sentence,
            state["examples"],
            time.perf_counter() - start,
            problem=problem,
        )
    finally:
        before.restore()
    return LawResult(
        law.id, "passed", "", law.sentence, state["examples"], time.perf_counter() - start
    )


def failed_result(
    failure: LawFailure,
    state: dict[str, Any],
    seconds: float,
    blob: str | None = None,
    diagnosis: tuple[str, ...] | None = None,
) -> LawResult:
    """A failed law's result: the failure's data, and its message rendered from it."""
    extra: list[str] = []
    if diagnosis is not None:
        from rnnspec.run.diagnosis import explain

        extra = explain(diagnosis)
    return LawResult(
        failure.law.id,
        "failed",
        failure.message(extra),
        failure.law.sentence,
        state["examples"],
        seconds,
        state["first_failure"],
        blob,
        diagnosis=diagnosis,
        problem=failure.problem,
        example=failure.example,
        draws=failure.draws,
        difference=failure.difference,
        notes=failure.notes,
        repro=failure.repro(),
    )


def _diagnosis(law: Law, subject: Subject, failure: LawFailure) -> tuple[str, ...] | None:
    """The known bugs the candidate reproduces on the failing example (forward laws only)."""
    from rnnspec.run.diagnosis import DIAGNOSED_LAWS, diagnose

    if law.id not in DIAGNOSED_LAWS or failure.example is None:
        return None
    try:
        return diagnose(subject, failure.example)
    except Exception:  # noqa: BLE001 - a diagnosis must never hide the failure itself
        return None


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
