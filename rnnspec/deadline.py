"""Calling a candidate with a time limit, on one long-lived worker thread.

A Python thread cannot be killed, so a call that never returns is abandoned on its
daemon worker and a fresh worker takes the next call.  Reusing one worker matters:
each new thread that enters torch's CPU kernels gets its own OpenMP team, and
creating one per call makes every call slower.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["DeadlineExceeded", "call_with_deadline"]


class DeadlineExceeded(Exception):
    """The call did not return within its deadline; it was abandoned."""


class _Worker:
    def __init__(self) -> None:
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        thread = threading.Thread(target=self._loop, name="rnnspec-candidate", daemon=True)
        thread.start()

    def _loop(self) -> None:
        while True:
            fn, args, grad_enabled, threads, box, done = self.tasks.get()
            try:
                if torch.get_num_threads() != threads:  # OpenMP's setting is per thread
                    torch.set_num_threads(threads)
                with torch.set_grad_enabled(grad_enabled):  # grad mode is per thread
                    box["result"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box["error"] = exc
            done.set()


_worker: _Worker | None = None
_lock = threading.Lock()


def call_with_deadline(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    """``fn(*args)`` on the worker thread; DeadlineExceeded after ``seconds``."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = _Worker()
        worker = _worker
    box: dict[str, Any] = {}
    done = threading.Event()
    worker.tasks.put((fn, args, torch.is_grad_enabled(), torch.get_num_threads(), box, done))
    if not done.wait(seconds):
        with _lock:
            if _worker is worker:
                _worker = None  # abandon it: the next call gets a fresh worker
        raise DeadlineExceeded(f"did not return within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["result"]
