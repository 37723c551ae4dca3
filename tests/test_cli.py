"""The console script: subcommands, output, and one-line usage errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rnnspec.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_methods_flags_the_stacked_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "seed printed shape [32, 10, 10], code gives [32, 10]" in out
    assert "1 of 7 methods disagree with the seed" in out


def test_methods_at_other_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods", "--seq-len", "3", "--hidden-size", "7"]) == 0
    out = capsys.readouterr().out
    assert "Seq2Seq      [32, 3, 10]" in out
    assert "0 of 7 methods disagree" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["methods", "--hidden-size", "0"], "expected a positive integer, got 0"),
        (["methods", "--seq-len", "x"], "expected a positive integer, got 'x'"),
        (["nope"], "invalid choice"),
        (["check", "nomodule_here:f", "--kind", "lstm"], "cannot import module 'nomodule_here'"),
        (
            ["check", "rnnspec.run.candidates:nothing", "--kind", "rnn"],
            "has no attribute 'nothing'",
        ),
        (["check", "rnnspec.run.candidates", "--kind", "rnn"], "must look like MODULE:NAME"),
        (["check", "rnnspec.laws:LAWS", "--kind", "rnn"], "factory must be callable, got dict"),
        (["check", "rnnspec.run.candidates:torch_module"], "--kind is required"),
        (["check", "rnnspec.run.candidates:torch_module", "--kind", "cnn"], "invalid choice"),
        (
            ["check", "rnnspec.run.candidates:torch_module", "--kind", "rnn", "--laws", "x"],
            "unknown law",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert message in lines[0]


def test_the_console_script_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rnnspec.cli.main", "methods", "--batch-size", "-1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "rnnspec methods: error: argument --batch-size: expected a positive integer, got -1"
    )


@pytest.mark.parametrize("command", [[], ["check"], ["laws"], ["methods"], ["claims"]])
def test_help_imports_no_torch(command: list[str]) -> None:
    code = (
        "import sys\n"
        "from rnnspec.cli.main import main\n"
        "try:\n"
        f"    main({[*command, '--help']!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "assert 'torch' not in sys.modules, 'rnnspec --help imported torch'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "usage: rnnspec" in proc.stdout


def test_a_closed_pipe_ends_quietly() -> None:
    """``rnnspec laws | head -3``: the reader closes the pipe early; no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnspec.cli.main", "laws"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # as head does after its lines: here before the first is written
    with proc.stderr:
        err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "BrokenPipeError" not in err, err
    assert err == ""
    assert proc.returncode == 1


def test_laws_prints_every_law(capsys: pytest.CaptureFixture[str]) -> None:
    from rnnspec.laws import LAWS

    assert main(["laws", "--markdown"]) == 0
    out = capsys.readouterr().out
    for law_id in LAWS:
        assert f"| {law_id} |" in out


def test_check_a_target_writes_json_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    code = main(
        [
            "check",
            "rnnspec.run.candidates:torch_module",
            "--kind",
            "gru",
            "--max-examples",
            "3",
            "--laws",
            "equivalence,shape",
            "--seed",
            "5",
            "--json",
            str(path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads(path.read_text())
    assert report["ok"] is True
    assert report["seed"] == 5
    assert [r["law"] for r in report["results"]] == ["equivalence", "shape"]


def test_check_exits_1_when_a_law_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            "rnnspec.run.candidates:ManualRNNCandidate",
            "--kind",
            "rnn",
            "--max-examples",
            "20",
            "--laws",
            "shape",
            "--seed",
            "1",
            "--quiet",
        ]
    )
    # ManualRNN is one-directional, one layer, tanh: the full-scope default draws relu
    # and bidirectional configs, which it cannot do, so a law fails with a message.
    assert code == 1
    assert "law 'shape' failed" in capsys.readouterr().out
