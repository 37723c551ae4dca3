"""The worked example through the API, the CLI and the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from examples.custom_lstm import factory
from rnnspec import check
from rnnspec.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_lstm_conforms_within_its_scope() -> None:
    report = check(factory, "lstm", max_examples=10, seed=0)
    assert report.ok, report.summary()
    skipped = {r.law for r in report.results if r.status == "skipped"}
    assert {"packed", "bidirectional-ends", "unbatched", "dropout-between-layers"} <= skipped


def test_the_example_through_the_cli() -> None:
    argv = [
        "check",
        "examples.custom_lstm:factory",
        "--kind",
        "lstm",
        "--max-examples",
        "5",
        "--laws",
        "equivalence,streaming",
        "--seed",
        "0",
        "--quiet",
    ]
    assert main(argv) == 0


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(tmp_path / "pytest.ini"),
        "--rootdir",
        str(tmp_path),
        str(tmp_path),
        "-p",
        "no:cacheprovider",
        "--rnnspec-max-examples",
        "5",
        "--rnnspec-seed",
        "0",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_plugin_collects_one_item_per_law_and_honours_xfail(tmp_path: Path) -> None:
    impl = "tests.mutants.zoo:LSTMGatesIGFO.from_module"
    laws = ["--rnnspec-impl", impl, "--rnnspec-kind", "lstm", "--rnnspec-laws", "equivalence,shape"]
    proc = _pytest(tmp_path, *laws, "--rnnspec-xfail", "equivalence", "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rnnspec::lstm::equivalence XFAIL" in proc.stdout
    assert "rnnspec::lstm::shape PASSED" in proc.stdout  # XFAIL: the law failed, as expected


def test_the_plugin_refuses_a_bad_target_in_one_line(tmp_path: Path) -> None:
    proc = _pytest(
        tmp_path, "--rnnspec-impl", "examples.custom_lstm:nothing", "--rnnspec-kind", "lstm"
    )
    assert proc.returncode == 4  # pytest's usage error
    assert "rnnspec: module 'examples.custom_lstm' has no attribute 'nothing'" in proc.stderr
