"""Running one law under Hypothesis: the run's conditions, the law's result.

What the runners of :mod:`rnnspec.run.checker` (in this process) and
:mod:`rnnspec.run.workers` (in a worker process) both call for one pass of one law.
"""

from __future__ import annotations

import functools
import gc
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from rnnspec.deadline import Watch, run_watched
from rnnspec.laws import Law, LawFailure, Subject, Trial
from rnnspec.laws._failure import CandidateHung, FailureRecord, LawSkipped
from rnnspec.run.report import LawResult
from rnnspec.torchstate import TorchState

__all__ = ["GC_THRESHOLD", "conditions", "failed_result", "run_law"]

_BLOB = re.compile(r"@reproduce_failure\((.*?)\)")


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
    generator = torch.get_rng_state()  # each example seeds it (Trial.draw_example)
    try:
        if here:
            run()
        else:
            assert watch is not None
            assert subject.deadline is not None
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
        failure = FailureRecord(problem, f"law {law.id!r} {problem}")
        seconds = time.perf_counter() - start
        return LawResult(
            law.id, "failed", "", law.sentence, state["examples"], seconds, failure=failure
        )
    finally:
        before.restore()
        torch.set_rng_state(generator)
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
    """A failed law's result, holding the failure's record (its message rendered once)."""
    extra: list[str] = []
    if diagnosis is not None:
        from rnnspec.run.diagnosis import explain

        extra = explain(diagnosis)
    return LawResult(
        failure.law.id,
        "failed",
        "",
        failure.law.sentence,
        state["examples"],
        seconds,
        state["first_failure"],
        failure=failure.record(blob, diagnosis, extra),
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
