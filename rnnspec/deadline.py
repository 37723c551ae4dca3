"""Calling a candidate with a time limit, on one long-lived worker thread.

A Python thread cannot be killed, so a call that never returns is abandoned on its
daemon worker and a fresh worker takes the next call.  Reusing one worker matters:
each new thread that enters torch's CPU kernels gets its own OpenMP team, and
creating one per call makes every call slower.

torch keeps some settings per thread, and a new thread starts from the defaults.  The
call runs under the caller's: its context variables (torch's Dynamo and Inductor
configuration live in them since torch 2.9, e.g. ``torch._dynamo.config.allow_rnn``),
grad mode, inference mode, autocast per device type, and intra-op threads.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["DeadlineExceeded", "ThreadState", "call_with_deadline"]


class DeadlineExceeded(Exception):
    """The call did not return within its deadline; it was abandoned."""


_AUTOCAST_DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class ThreadState:
    """The caller's thread-local torch state, to re-enter on the worker thread."""

    context: contextvars.Context
    grad: bool
    inference: bool
    threads: int
    autocast: tuple[tuple[str, torch.dtype], ...]  # (device type, dtype) where enabled

    @classmethod
    def capture(cls) -> ThreadState:
        autocast = tuple(
            (device, torch.get_autocast_dtype(device))
            for device in _AUTOCAST_DEVICES
            if torch.is_autocast_enabled(device)
        )
        return cls(
            contextvars.copy_context(),
            torch.is_grad_enabled(),
            torch.is_inference_mode_enabled(),
            torch.get_num_threads(),
            autocast,
        )

    def run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """``fn(*args)`` under this state, on the current thread."""
        return self.context.run(self._enter_and_call, fn, args)

    def _enter_and_call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if torch.get_num_threads() != self.threads:  # OpenMP's setting is per thread
            torch.set_num_threads(self.threads)
        with ExitStack() as stack:
            stack.enter_context(torch.inference_mode(self.inference))
            stack.enter_context(torch.set_grad_enabled(self.grad))
            for device, dtype in self.autocast:
                stack.enter_context(torch.autocast(device, dtype=dtype))
            return fn(*args)


class _Worker:
    def __init__(self) -> None:
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        thread = threading.Thread(target=self._loop, name="rnnspec-candidate", daemon=True)
        thread.start()

    def _loop(self) -> None:
        while True:
            fn, args, state, box, done = self.tasks.get()
            try:
                box["result"] = state.run(fn, args)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box["error"] = exc
            done.set()


_worker: _Worker | None = None
_lock = threading.Lock()


def call_with_deadline(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    """``fn(*args)`` on the worker thread, under the caller's thread-local torch state;
    DeadlineExceeded after ``seconds``."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = _Worker()
        worker = _worker
    box: dict[str, Any] = {}
    done = threading.Event()
    worker.tasks.put((fn, args, ThreadState.capture(), box, done))
    if not done.wait(seconds):
        with _lock:
            if _worker is worker:
                _worker = None  # abandon it: the next call gets a fresh worker
        raise DeadlineExceeded(f"did not return within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["result"]
