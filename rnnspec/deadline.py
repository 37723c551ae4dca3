"""Running checks on a worker thread, with a time limit on each call of a candidate.

A Python thread cannot be killed, so work that may hang runs on a long-lived daemon
worker (one per calling thread) while the caller waits.  :func:`run_watched` hands the
worker a whole run (the runner gives it one pass of a law: tens of examples), and each
candidate call in it goes through :meth:`Watch.call`, which marks when the call began.
The caller wakes when the run ends or when the call under way may have passed its
deadline; a call past it gets the run abandoned (whatever the worker does next is
stopped at its next candidate call) and a fresh worker takes the next run.  Handing the
worker each call instead costs two thread switches a call, about 0.1 ms on a 2-core
machine: some 0.6 s of a 12 s check of torch's LSTM.  :func:`call_with_deadline` is one
watched call.

Reusing one worker matters too: each new thread that enters torch's CPU kernels gets
its own OpenMP team, and creating one per run makes every call slower.

torch keeps some settings per thread, and a new thread starts from the defaults.  The
run happens under the caller's: its context variables (torch's Dynamo and Inductor
configuration live in them since torch 2.9, e.g. ``torch._dynamo.config.allow_rnn``),
grad mode, inference mode, autocast per device type, and intra-op threads.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import torch

__all__ = [
    "Abandoned",
    "DeadlineExceeded",
    "Escaped",
    "ThreadState",
    "Watch",
    "call_with_deadline",
    "contained",
    "run_watched",
]


class DeadlineExceeded(Exception):
    """The call did not return within its deadline; it was abandoned."""


class Escaped(Exception):
    """A candidate call raised a BaseException that is not an Exception (``SystemExit``,
    ``GeneratorExit``, one of its own), carried as an Exception so that it fails the law
    instead of ending rnnspec.  ``original`` is what was raised."""

    def __init__(self, original: BaseException) -> None:
        self.original = original
        super().__init__(f"{type(original).__name__}: {original}")


def contained(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)``, with any BaseException but KeyboardInterrupt raised as :class:`Escaped`.

    Ctrl-C is the user's, and stops the run; everything else a candidate raises is the
    candidate's, and fails its law.
    """
    try:
        return fn(*args)
    except (Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit and the like, turned into a failure
        raise Escaped(exc) from exc


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


class Abandoned(BaseException):
    """Raised on an abandoned worker when its hung call returns: the run stops there.

    A BaseException, so that nothing on the way (Hypothesis included) takes it for the
    test's own failure; nobody waits for the run any more.
    """


class Watch:
    """The candidate calls of one watched run, as the thread waiting for it sees them."""

    def __init__(self) -> None:
        # (when the call under way began, what the waiting thread raises if it hangs)
        self.current: tuple[float, Callable[[], BaseException]] | None = None
        self.abandoned = False

    def call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        hung: Callable[[], BaseException],
        where: Any = None,
    ) -> Any:
        """``fn(*args)`` on this thread; should it pass the deadline, the waiting thread
        raises ``hung()`` (called there, while this call is still under way).

        ``where`` says which call this is (the trial and who is called), for a watch
        in another process (:class:`rnnspec.run.workers.ProcessWatch`); unused here.
        """
        if self.abandoned:
            raise Abandoned
        self.current = (time.perf_counter(), hung)  # one assignment: read whole, or not
        try:
            return fn(*args)
        finally:
            self.current = None
            if self.abandoned:
                raise Abandoned  # the run is over, whatever the call did


class _Worker:
    """The worker thread of one calling thread (see :func:`_own_worker`)."""

    def __init__(self) -> None:
        self.owner = threading.current_thread()
        self.abandoned = False
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="rnnspec-worker", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.abandoned:
            try:
                fn, args, state, reply = self.tasks.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                if self.owner.is_alive():
                    continue
                return  # nobody is left to hand it work
            try:
                outcome = (True, state.run(fn, args))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                outcome = (False, exc)
            reply.put(outcome)


_IDLE_SECONDS = 5.0
"""How often an idle worker looks whether the thread it works for has ended."""
_local = threading.local()


def _forget_workers() -> None:
    """In a forked child: the parent's worker threads were not copied, only their
    objects; a run there starts workers of its own (else it waits on a dead one)."""
    global _local
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def _own_worker() -> _Worker:
    """The calling thread's worker, started on its first run and reused after.

    One per calling thread: a run never waits behind another thread's run, which may be
    stuck in a hung call, and a run started on a worker gets a worker of its own.
    """
    worker: _Worker | None = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = _Worker()
    return worker


def run_watched(
    fn: Callable[..., Any], args: tuple[Any, ...], watch: Watch, deadline: float
) -> Any:
    """``fn(*args)`` on the worker thread, under the caller's thread-local torch state.

    Returns what it returns and raises what it raises.  When a call made through
    ``watch.call`` has been under way for ``deadline`` seconds, the run is abandoned
    and that call's ``hung()`` is raised here instead.
    """
    worker = _own_worker()
    reply: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()  # this run's own
    worker.tasks.put((fn, args, ThreadState.capture(), reply))
    wait = deadline
    while True:
        try:
            returned, value = reply.get(timeout=wait)
            break
        except KeyboardInterrupt:  # Ctrl-C: the run is given up, and stops at its next call
            watch.abandoned = worker.abandoned = True
            _local.worker = None
            raise
        except queue.Empty:
            current = watch.current
            if current is None:  # between calls: the next one has all its time to come
                wait = deadline
                continue
            started, hung = current
            wait = deadline - (time.perf_counter() - started)
            if wait <= 0:
                watch.abandoned = worker.abandoned = True
                _local.worker = None  # the next run gets a fresh worker
                raise hung() from None
    if not returned:
        raise value
    return value


def call_with_deadline(fn: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Any:
    """``fn(*args)`` on the worker thread, under the caller's thread-local torch state;
    DeadlineExceeded after ``seconds``."""
    watch = Watch()

    def hung() -> BaseException:
        return DeadlineExceeded(f"did not return within {seconds:g} s")

    return run_watched(watch.call, (fn, args, hung), watch, seconds)
