"""Every law's repro reproduces: run in a fresh interpreter, it shows the disagreement.

For each law, the one-bug mutant of ``tests/mutants/law_mutants.py`` fails it; the
failure's repro (``LawResult.repro``, the law's own case or a replay of its check)
is written to a file and run with ``python``; it must exit non-zero.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mutants.law_mutants import LAW_MUTANTS
from rnnspec.laws import LAWS
from rnnspec.run.checker import run_law

TESTS = Path(__file__).parent

OWN_CASE = {
    "equivalence", "gradients", "eval-backward", "hx-none-is-zeros", "repeatable",
    "stateless", "packed", "streaming", "dropout-inactive", "batch-permutation",
    "batch-independence", "error-input-size", "error-hx-shape", "error-input-rank",
    "error-dtype", "error-empty-sequence",
}  # fmt: skip
"""Laws whose repro is their own case written out; the others replay their check."""


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "repro.py"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    return subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_the_laws_with_their_own_case_have_it() -> None:
    assert {i for i, law in LAWS.items() if law.repro is not None} == OWN_CASE


@pytest.mark.slow
@pytest.mark.parametrize("law_id", list(LAWS))
def test_the_repro_of_every_law_mutant_shows_the_disagreement(law_id: str, tmp_path: Path) -> None:
    law, subject = LAWS[law_id], LAW_MUTANTS[law_id]
    reason = law.skip_reason(subject)
    if reason:  # device-parity without an accelerator: no failure to reproduce here
        pytest.skip(f"{subject.name} cannot fail here: {reason}")
    result = run_law(law, subject, max_examples=100, seed=0, shrink=False)
    assert result.status == "failed", result.message
    assert result.repro is not None
    assert result.repro in result.message.replace("\n    ", "\n")  # the message shows it
    run = _run(result.repro, tmp_path)
    shown = run.stdout + run.stderr
    assert run.returncode == 1, f"{law_id}: exit {run.returncode}\n{result.repro}\n{shown}"
    assert "Traceback" not in run.stderr, f"{law_id}: the repro crashed\n{result.repro}\n{shown}"
    if law_id in OWN_CASE:
        assert "DISAGREE" in run.stdout, shown
    else:
        assert f"law {law_id!r} fails again" in run.stdout, shown
