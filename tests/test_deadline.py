"""rnnspec.deadline: runs and calls with a time limit, on one reused worker thread."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import torch

from rnnspec import deadline
from rnnspec.deadline import DeadlineExceeded, Watch, call_with_deadline, run_watched


def test_the_result_comes_back_and_errors_are_raised_here() -> None:
    assert call_with_deadline(lambda a, b: a + b, (2, 3), 10.0) == 5
    with pytest.raises(ZeroDivisionError):
        call_with_deadline(lambda: 1 / 0, (), 10.0)


def test_a_call_past_its_deadline_is_abandoned_and_the_next_gets_a_fresh_worker() -> None:
    release = threading.Event()
    start = time.perf_counter()
    with pytest.raises(DeadlineExceeded, match=r"did not return within 0.2 s"):
        call_with_deadline(release.wait, (30,), 0.2)
    assert time.perf_counter() - start < 10
    try:
        assert call_with_deadline(lambda: "next", (), 10.0) == "next"
    finally:
        release.set()  # let the abandoned worker end


def test_calls_reuse_one_worker_thread() -> None:
    names = {call_with_deadline(lambda: threading.current_thread().ident, (), 10.0) for _ in "ab"}
    assert len(names) == 1
    assert threading.get_ident() not in names


def test_the_call_runs_under_the_callers_grad_mode_and_threads() -> None:
    def read() -> tuple[bool, int]:
        return torch.is_grad_enabled(), torch.get_num_threads()

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.no_grad():
            assert call_with_deadline(read, (), 10.0) == (False, 1)
        assert call_with_deadline(read, (), 10.0) == (True, 1)
    finally:
        torch.set_num_threads(threads)


# -- watched runs: the runner hands the worker a whole pass and watches its calls --------
def _hung() -> BaseException:
    return DeadlineExceeded("hung")


def test_a_watched_run_happens_on_the_worker_and_gives_back_its_result_or_error() -> None:
    watch = Watch()
    ident = run_watched(lambda: watch.call(threading.get_ident, (), _hung), (), watch, 10.0)
    assert ident != threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        run_watched(lambda: watch.call(lambda: 1 / 0, (), _hung), (), watch, 10.0)


def test_only_a_watched_call_has_a_deadline_not_the_work_between_calls() -> None:
    watch = Watch()

    def run() -> str:
        time.sleep(0.5)  # longer than the deadline, but not a candidate call
        return str(watch.call(lambda: "done", (), _hung))

    assert run_watched(run, (), watch, 0.2) == "done"


def test_a_call_past_its_deadline_ends_the_wait_and_the_run_stops_at_its_next_call() -> None:
    watch, release, ended = Watch(), threading.Event(), threading.Event()
    reached: list[str] = []

    def run() -> None:
        try:
            watch.call(release.wait, (30,), _hung)
            reached.append("after the hung call")
            watch.call(reached.append, ("another call",), _hung)
        finally:
            ended.set()

    start = time.perf_counter()
    with pytest.raises(DeadlineExceeded, match="hung"):
        run_watched(run, (), watch, 0.2)
    assert time.perf_counter() - start < 10
    assert call_with_deadline(lambda: "next", (), 10.0) == "next"  # a fresh worker
    release.set()
    assert ended.wait(10)
    assert reached == []  # the abandoned run went no further than its hung call


def test_a_run_started_on_the_worker_gets_a_worker_of_its_own() -> None:
    # (the caller's worker is busy with the outer run: sharing it would wait forever, and
    # the outer call's deadline would end the test)
    outer = Watch()

    def run() -> object:
        return outer.call(call_with_deadline, (lambda: 5, (), 10.0), _hung)

    assert run_watched(run, (), outer, 10.0) == 5


def test_a_thread_never_waits_behind_another_threads_hung_call() -> None:
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hangs() -> None:
        started.set()
        release.wait(30)

    def other_thread() -> None:
        try:
            call_with_deadline(hangs, (), 5.0)
        except DeadlineExceeded as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        assert started.wait(10)
        assert call_with_deadline(lambda: "mine", (), 1.0) == "mine"  # its own worker
    finally:
        release.set()
        thread.join(10)
    assert errors == []  # released within its deadline


def test_a_worker_ends_after_the_thread_it_works_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "_IDLE_SECONDS", 0.05)
    workers = []

    def caller() -> None:
        call_with_deadline(lambda: None, (), 10.0)
        workers.append(deadline._local.worker)

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(10)
    workers[0].thread.join(10)
    assert not workers[0].thread.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_runs_with_a_deadline_on_workers_of_its_own() -> None:
    """The parent's worker thread is not copied by fork; the child must not wait on it."""
    assert call_with_deadline(lambda: 1, (), 5.0) == 1  # this thread now has a worker
    pid = os.fork()
    if pid == 0:  # the child: answers, or SIGALRM ends it (waiting on a dead thread)
        signal.alarm(30)
        ok = False
        try:
            ok = call_with_deadline(lambda: 2, (), 5.0) == 2
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
