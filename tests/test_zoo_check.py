"""The whole zoo through ``rnnspec.check`` at default settings: every mutant is caught (slow)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mutants.zoo import MUTANTS, Mutant
from rnnspec import Report, check
from rnnspec.run.forking import START_METHOD

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
FIRST_FAILING = dict(
    re.findall(
        r"^\| (\w+)(?: \([\w=]+\))? \| (?:rnn|lstm|gru) \| ([\w-]+) \| [\d.]+s \|", README, re.M
    )
)
"""The README's detection table: each mutant's first failing law (seed 0)."""


def test_the_readme_names_every_mutants_first_failing_law() -> None:
    assert set(FIRST_FAILING) == {m.name for m in MUTANTS}


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_check_catches_the_mutant(mutant: Mutant) -> None:
    # Default settings (100 examples per law); shrink=False only skips the shrinking that
    # follows a failure, which changes the message, not whether the mutant is caught.
    report = check(mutant.factory, mutant.kind, seed=0, scope=mutant.scope, shrink=False)
    failed = {r.law: r for r in report.failed}
    assert failed, f"{mutant.name} ({mutant.bug}) passed every law"
    # caught by a law that found the bug, not by the runner failing to run a law
    crashed = [r.law for r in failed.values() if " could not run: " in r.message.splitlines()[0]]
    assert crashed == [], report.summary()
    # the README's first failing law (measured with shrinking, whose timing can put another
    # failing law first) fails here too, as a failure of the law
    first = FIRST_FAILING[mutant.name]
    assert first in failed, report.summary()
    assert failed[first].status == "failed"
    assert report.first_failed_law in failed


def _outcome(report: Report) -> list[tuple[str, str, int, str | None, Any]]:
    """What a run decided for each law, without its timings."""
    return [(r.law, r.status, r.examples, r.problem, r.example) for r in report.results]


@pytest.mark.slow
@pytest.mark.skipif(START_METHOD != "fork", reason="the zoo's factories are local: needs fork")
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_workers_decide_as_one_process_does(mutant: Mutant) -> None:
    """Same seed, same results: in this process, in one worker, in two side by side."""
    options: dict[str, Any] = {"seed": 0, "scope": mutant.scope, "max_examples": 20}
    alone = check(mutant.factory, mutant.kind, **options)
    isolated = check(mutant.factory, mutant.kind, isolate=True, **options)
    two = check(mutant.factory, mutant.kind, workers=2, **options)
    assert alone.failed, f"{mutant.name} passed every law at 20 examples"
    assert _outcome(isolated) == _outcome(alone)
    assert _outcome(two) == _outcome(alone)
