"""rnnspec.deadline: a call with a time limit, on one reused worker thread."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from rnnspec.deadline import DeadlineExceeded, call_with_deadline


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
