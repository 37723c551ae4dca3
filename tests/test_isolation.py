"""A candidate that crashes, exits, hangs or eats memory fails its law; the run goes on.

The planted faults of ``tests/faults`` are checked through ``rnnspec.check`` in this
process (cheap: no interpreter to start) and, where the process's own exit is what is
tested (Ctrl-C, the JSON report), through ``rnnspec check`` in a subprocess.  Each test
asserts the law's status and message and bounds the time the fault may cost; the bounds
are loose (a shared machine), what they catch is a hang that is never stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faults
import pytest

from rnnspec import LawResult, check
from rnnspec.bytesize import format_bytes, parse_bytes
from rnnspec.run import forking

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FORK = forking.START_METHOD == "fork"
needs_fork = pytest.mark.skipif(not FORK, reason="these factories are local: they need fork")


def _run(factory: Any, laws: list[str], **options: Any) -> dict[str, LawResult]:
    options = {"max_examples": 10, "seed": 0, "deadline": 2.0, **options}
    report = check(factory, "gru", laws=laws, **options)
    return {r.law: r for r in report.results}


@needs_fork
@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (faults.segfaults, "the candidate crashed: SIGSEGV"),
        (faults.aborts, "the candidate crashed: SIGABRT"),
        (faults.exits, "the candidate ended its worker process with exit status 3"),
    ],
    ids=["segfault", "abort", "os-exit"],
)
def test_a_crash_fails_its_law_with_the_cause_the_example_and_a_repro(
    fault: Any, cause: str
) -> None:
    started = time.perf_counter()
    results = _run(fault, ["shape", "unbatched"], isolate=True)
    assert time.perf_counter() - started < 60
    crashed = results["shape"]
    assert crashed.status == "failed"
    assert crashed.problem == cause
    assert "example: Example(config=RNNConfig(kind='gru'" in crashed.message
    assert crashed.example is not None
    assert crashed.example.batch_size >= 2  # the faults crash on batched inputs only
    assert crashed.repro is not None
    assert "replay.replay(" in crashed.repro
    assert "from faults import " in crashed.repro
    # a fresh worker takes the next law: unbatched inputs never reach the fault
    assert results["unbatched"].status == "passed"


def test_sys_exit_in_the_candidate_or_its_factory_fails_the_law_without_isolation() -> None:
    results = _run(faults.sys_exits, ["shape"])
    assert results["shape"].status == "failed"
    assert results["shape"].problem == "the candidate raised SystemExit: 5"
    results = _run(faults.factory_exits, ["shape"])
    assert results["shape"].status == "failed"
    assert results["shape"].problem == "the factory raised SystemExit: 7"


@needs_fork
def test_a_hang_holding_the_gil_gets_its_worker_killed_within_the_deadline() -> None:
    started = time.perf_counter()
    results = _run(faults.hangs_holding_the_gil, ["shape", "unbatched"], isolate=True)
    assert time.perf_counter() - started < 30
    hung = results["shape"]
    assert hung.status == "failed"
    assert hung.problem is not None
    assert hung.problem.startswith("the candidate did not return within 2 s (deadline)")
    assert "worker process was killed" in hung.problem
    assert hung.seconds < 10
    assert results["unbatched"].status == "passed"


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
def test_a_law_after_a_deadline_overrun_is_judged_on_its_own(isolate: bool) -> None:
    """The overrun call keeps sleeping in this process without isolation (a thread cannot
    be killed); either way the next law must pass, not inherit the hung call's state."""
    if isolate and not FORK:
        pytest.skip("these factories are local: they need fork")
    results = _run(faults.sleeps, ["equivalence", "unbatched"], isolate=isolate, deadline=1.0)
    assert results["equivalence"].status == "failed"
    assert "did not return within 1 s (deadline)" in results["equivalence"].message
    assert results["unbatched"].status == "passed", results["unbatched"].message


def test_a_candidate_that_changes_the_default_dtype_fails_global_state() -> None:
    results = _run(faults.sets_default_dtype, ["global-state"])
    assert results["global-state"].status == "failed"
    assert "default dtype" in results["global-state"].message
    import torch

    assert torch.get_default_dtype() == torch.float32  # put back after the law


@needs_fork
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS as on Linux")
def test_a_memory_hog_exceeds_the_worker_limit_and_the_run_goes_on() -> None:
    cap = 8 * 2**30  # above this process's address space (torch maps a few GiB)
    results = _run(faults.eats_memory, ["shape", "unbatched"], max_memory=cap)
    assert results["shape"].status == "failed"
    assert f"exceeded the memory limit of {format_bytes(cap)}" in results["shape"].message
    assert results["unbatched"].status == "passed"


def test_a_local_factory_is_refused_with_one_line_where_workers_must_be_spawned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forking, "START_METHOD", "spawn")
    with pytest.raises(ValueError, match="name an importable one as MODULE:FACTORY"):
        check(lambda reference: reference, "gru", isolate=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"workers": 0}, "workers must be a positive integer, got 0"),
        ({"workers": True}, "workers must be a positive integer, got True"),
        ({"max_memory": -1}, "max_memory must be a positive number of bytes or None"),
        ({"max_memory": 1024}, "is below this process's own address space"),
    ],
)
def test_bad_isolation_options_are_one_line_errors(value: dict[str, Any], message: str) -> None:
    if "max_memory" in value and value["max_memory"] == 1024 and not FORK:
        pytest.skip("the address-space check is for forked workers")
    with pytest.raises(ValueError, match=message):
        check(faults.segfaults, "gru", **value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("512M", 512 * 2**20), ("2G", 2 * 2**30), ("1.5GiB", 3 * 2**29), ("4096", 4096)],
)
def test_byte_sizes_parse_as_people_write_them(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0"])
def test_a_bad_byte_size_says_what_it_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a"):
        parse_bytes(text)


# -- the command line: the report is always written -------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rnnspec.cli.main", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}


@needs_fork
def test_the_cli_writes_the_json_report_of_a_run_whose_candidate_crashed(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run(
        _cli("check", "faults:segfaults", "--kind", "gru", "--isolate", "--laws",
             "shape,unbatched", "--max-examples", "10", "--seed", "0", "--json", str(out)),
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    statuses = {r["law"]: (r["status"], r["problem"]) for r in data["results"]}
    assert statuses == {
        "shape": ("failed", "the candidate crashed: SIGSEGV"),
        "unbatched": ("passed", ""),
    }


@contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """A process started with SIGINT ignored (a shell's background job, ``cmd &``) passes
    that on to its children, and Python then leaves Ctrl-C ignored, as a command run
    with nohup should.  For the child below to get Ctrl-C, this process must not ignore
    it while starting the child: a handler is reset to the default across exec."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("isolate", [[], ["--isolate"]], ids=["in-process", "isolated"])
def test_ctrl_c_prints_what_ran_writes_the_json_and_exits_130(
    tmp_path: Path, isolate: list[str]
) -> None:
    out = tmp_path / "r.json"
    with _sigint_not_ignored():
        proc = subprocess.Popen(
            _cli("check", "examples.custom_lstm:factory", "--kind", "lstm", *isolate,
                 "--max-examples", "300", "--seed", "0", "--json", str(out)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until a law has been decided and the next one runs
        if " passed (" in line:
            break
    time.sleep(0.5)  # each law runs for seconds at this budget: the next one is running
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "rnnspec check: interrupted (Ctrl-C)" in stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["interrupted"] is True
    assert data["ok"] is False
    assert data["counts"]["passed"] >= 1
    assert data["counts"]["interrupted"] >= 1
    interrupted = [r["message"] for r in data["results"] if r["status"] == "interrupted"]
    # the law that was running is marked so; the others never ran to the end
    assert sum("interrupted while it ran" in m for m in interrupted) == 1, interrupted
    others = [m for m in interrupted if "interrupted while it ran" not in m]
    assert all(m.startswith("not run to the end: the run was interrupted") for m in others)
