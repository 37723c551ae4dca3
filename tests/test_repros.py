"""Every law's repro reproduces: run in a fresh interpreter, it shows the disagreement.

For each law, the one-bug mutant of ``tests/mutants/law_mutants.py`` fails it; the
failure's repro (``LawResult.repro``, the law's own case or a replay of its check)
is written to a file and run with ``python``; it must exit non-zero.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mutants.factory_shapes import IMPORTABLE, NAMELESS, doubled
from mutants.law_mutants import LAW_MUTANTS
from rnnspec import Scope
from rnnspec.laws import LAWS, Subject
from rnnspec.laws._names import spell
from rnnspec.run.lawrun import run_law

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


_RUN_EACH = """
import runpy, sys
for path in sys.argv[1:]:
    try:
        runpy.run_path(path, run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:
        code = f"crashed: {exc!r}"
    print("EXIT", path, code, flush=True)
"""


@pytest.mark.parametrize("law_id", ["equivalence", "oracle"])  # its own case; a replay
def test_every_shape_of_factory_gets_a_repro_that_runs(law_id: str, tmp_path: Path) -> None:
    paths, expected = [], {}
    for index, (shape, factory) in enumerate({**IMPORTABLE, **NAMELESS}.items()):
        subject = Subject("rnn", factory, Scope(), shape)
        result = run_law(LAWS[law_id], subject, max_examples=5, seed=0, shrink=False)
        assert result.status == "failed", result.message
        script = result.repro
        assert script is not None
        compile(script, "<repro>", "exec")
        assert "<lambda>" not in script
        assert "<locals>" not in script
        named = shape in IMPORTABLE
        assert ("factory = None" in script) is not named, f"{shape}:\n{script}"
        path = tmp_path / f"repro_{index}.py"
        path.write_text(script, encoding="utf-8")
        paths.append(str(path))
        expected[str(path)] = ("1" if named else "2", shape)
    # every script in one fresh interpreter: what claims a name imports it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    run = subprocess.run(
        [sys.executable, "-c", _RUN_EACH, *paths],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    exits = {line.split()[1]: line.split(maxsplit=2)[2] for line in run.stdout.splitlines()
             if line.startswith("EXIT ")}  # fmt: skip
    for path, (code, shape) in expected.items():
        assert exits.get(path) == code, f"{shape}: exit {exits.get(path)}\n{run.stdout}{run.stderr}"
    assert run.stderr.count("this repro needs the factory under test") == len(NAMELESS)


def test_a_partial_is_rebuilt_only_from_arguments_whose_repr_gives_them_back() -> None:
    rebuilt = spell(functools.partial(doubled, 2.0, dtype=torch.float32, sizes=(1, [2])))
    assert (
        rebuilt.expression == "functools.partial(doubled, 2.0, dtype=torch.float32, sizes=(1, [2]))"
    )
    assert rebuilt.imports == ("import functools", "from mutants.factory_shapes import doubled")
    for value in (float("nan"), torch.ones(1), object()):
        assert spell(functools.partial(doubled, scale=value)).expression is None
