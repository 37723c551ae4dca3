"""The conformance runner: every applicable law, run with Hypothesis, against a candidate.

``check(factory, kind)`` builds a :class:`~rnnspec.laws.Subject`, runs each law's
check as a Hypothesis test (shrinking failures to the smallest example), and
collects one :class:`~rnnspec.run.report.LawResult` per law into a Report.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from rnnspec.cli.options import warn_misspelled_scope
from rnnspec.config import DEADLINE, KINDS, MAX_EXAMPLES, fresh_seed
from rnnspec.laws import LAWS, Law, LawFailure, Subject, Trial
from rnnspec.laws._core import CandidateHung, factory_path
from rnnspec.run.causes import mark_probable_causes
from rnnspec.run.report import LawResult, Report
from rnnspec.scope import Scope

__all__ = ["check", "check_subject", "run_law"]

SCOUT_EXAMPLES = (1, 5)
"""Examples per law in the runner's first passes (see :func:`check_subject`)."""
Progress = Callable[[str, LawResult | None], None]
_BLOB = re.compile(r"@reproduce_failure\((.*?)\)")


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
) -> Report:
    """Run the laws of ``kind`` ("rnn", "lstm" or "gru") against ``factory``'s candidates.

    ``factory(reference) -> candidate``: ``reference`` is an nn.RNN / nn.LSTM / nn.GRU
    in eval mode with random weights; the candidate is called like it.  ``scope``
    defaults to ``factory.scope`` when the factory has one, else ``Scope()``.
    ``deadline`` bounds each call of the candidate in seconds (None: unbounded).
    ``seed`` makes the run replayable; when None one is chosen and reported.
    ``shrink=False`` reports each failure as first found, unshrunk (faster).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {type(factory).__name__}")
    if not isinstance(max_examples, int) or max_examples < 1:
        raise ValueError(f"max_examples must be a positive integer, got {max_examples!r}")
    if deadline is not None and deadline <= 0:
        raise ValueError(f"deadline must be positive seconds or None, got {deadline!r}")
    if scope is None:
        warn_misspelled_scope(factory)
    scope = scope if scope is not None else getattr(factory, "scope", None) or Scope()
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be an rnnspec.Scope, got {type(scope).__name__}")
    selected = _select(kind, laws)
    seed = seed if seed is not None else fresh_seed()
    subject = Subject(
        kind, factory, scope, name or _name_of(factory), constructor, deadline=deadline
    )
    return check_subject(
        subject,
        max_examples=max_examples,
        seed=seed,
        laws=laws,
        progress=progress,
        selected=selected,
        shrink=shrink,
    )


def check_subject(
    subject: Subject,
    *,
    max_examples: int = MAX_EXAMPLES,
    seed: int | None = None,
    laws: Iterable[str] | None = None,
    progress: Progress | None = None,
    selected: list[Law] | None = None,
    shrink: bool = True,
) -> Report:
    """Run every law of ``subject.kind`` (or the ``laws`` ids) against a built subject.

    Passes of growing budgets: every law first runs one example, then five (the
    expensive laws last in each pass), then the laws still passing run their whole budget.
    Most bugs show within a few examples, so a wrong candidate's first failure comes
    within a second or so whichever law finds it, instead of after every law before it
    has run in full.  ``progress(law_id, None)`` is called
    before the run that decides a law, ``progress(law_id, result)`` once it is decided.
    """
    selected = selected if selected is not None else _select(subject.kind, laws)
    seed = seed if seed is not None else fresh_seed()
    report = Report(subject.kind, subject.name, subject.scope, seed, max_examples)
    budgets = sorted({min(n, max_examples) for n in (*SCOUT_EXAMPLES, max_examples)})
    decided: dict[str, LawResult] = {}
    scouted: dict[str, LawResult] = {}
    threads = torch.get_num_threads()
    # The laws run thousands of tiny tensors: one intra-op thread is faster, and on a
    # busy machine two OpenMP threads spinning on each other are many times slower.
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        for budget in budgets:
            last = budget == budgets[-1]
            order = sorted(selected, key=lambda law: law.expensive)  # stable: registry order
            for law in order:
                if law.id in decided:
                    continue
                if progress and last:
                    progress(law.id, None)
                offset = time.perf_counter() - start
                result = run_law(law, subject, max_examples=budget, seed=seed, shrink=shrink)
                if law.id in scouted:  # the examples of its earlier passes count too
                    before = scouted[law.id]
                    result = replace(result, examples=result.examples + before.examples,
                                     seconds=result.seconds + before.seconds)  # fmt: skip
                if result.status == "passed" and not last:
                    scouted[law.id] = result
                    continue
                if result.first_failure_seconds is not None:  # (from the start of its run)
                    found = offset + result.first_failure_seconds
                    first = report.first_failure_seconds
                    if first is None or found < first:
                        report.first_failure_seconds, report.first_failed_law = found, law.id
                decided[law.id] = result
                if progress:
                    if not last:
                        progress(law.id, None)
                    progress(law.id, result)
    finally:
        torch.set_num_threads(threads)
    report.results = mark_probable_causes([decided[law.id] for law in selected])
    return report


def run_law(
    law: Law, subject: Subject, *, max_examples: int, seed: int, shrink: bool = True
) -> LawResult:
    """Run one law with Hypothesis; return its result (never raises for a bad candidate).

    ``shrink=False`` reports the first failing example as found, unshrunk (faster).
    """
    reason = law.skip_reason(subject)
    if reason:
        return LawResult(law.id, "skipped", f"out of scope: {reason}", law.sentence)
    state: dict[str, Any] = {"examples": 0, "first_failure": None}
    start = time.perf_counter()

    @hypothesis_seed(seed)
    @settings(
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
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        state["examples"] += 1
        try:
            law.check(Trial(law, subject, data.draw))
        except (LawFailure, CandidateHung):
            if state["first_failure"] is None:
                state["first_failure"] = time.perf_counter() - start
            raise

    try:
        run()
    except CandidateHung as exc:  # stopped at once: no replay, no shrinking
        return LawResult(
            law.id,
            "failed",
            str(exc),
            law.sentence,
            state["examples"],
            time.perf_counter() - start,
            state["first_failure"],
        )
    except LawFailure as exc:
        seconds = time.perf_counter() - start
        notes = "\n".join(getattr(exc, "__notes__", []))
        blob = _BLOB.search(notes)
        diagnosis = _diagnosis(law, subject, exc)
        return LawResult(
            law.id,
            "failed",
            _with_diagnosis(_with_notes(str(exc), notes), diagnosis),
            law.sentence,
            state["examples"],
            seconds,
            state["first_failure"],
            blob.group(1) if blob else None,
            diagnosis=diagnosis,
        )
    except Exception as exc:  # noqa: BLE001 - rnnspec must report, not crash
        message = f"law {law.id!r} could not run: {type(exc).__name__}: {exc}"
        return LawResult(
            law.id, "failed", message, law.sentence, state["examples"], time.perf_counter() - start
        )
    return LawResult(
        law.id, "passed", "", law.sentence, state["examples"], time.perf_counter() - start
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


def _with_diagnosis(message: str, diagnosis: tuple[str, ...] | None) -> str:
    """The diagnosis lines after the failure's first lines, before the repro."""
    if diagnosis is None:
        return message
    from rnnspec.run.diagnosis import explain

    lines = "\n".join("  " + line for line in explain(diagnosis))
    head, repro, tail = message.partition("\n  repro:\n")
    return f"{head}\n{lines}{repro}{tail}" if repro else f"{message}\n{lines}"


def _select(kind: str, ids: Iterable[str] | None) -> list[Law]:
    if ids is None:
        return [law for law in LAWS.values() if kind in law.kinds]
    chosen = []
    for law_id in ids:
        if law_id not in LAWS:
            raise ValueError(f"unknown law {law_id!r}; see `rnnspec laws` for the ids")
        chosen.append(LAWS[law_id])
    return chosen


_DRAW = re.compile(r"^Draw \d+ \((?P<label>[^)]*)\): ", re.M)


def _with_notes(message: str, notes: str) -> str:
    """Add Hypothesis's labelled draws (``Draw 2 (cut): 3``) but the example, shown already."""
    starts = list(_DRAW.finditer(notes))
    blocks = []
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following else len(notes)
        text = notes[match.start() : end]
        text = text.split("\nYou can reproduce")[0].rstrip()
        if match.group("label") != "example":
            blocks.append(text)
    if not blocks:
        return message
    return (
        message
        + "\n  draws:\n"
        + "\n".join("    " + line for b in blocks for line in b.splitlines())
    )


def _name_of(factory: Any) -> str:
    return factory_path(factory)[1]
