"""Worker processes: each law pass runs in one, so a candidate that crashes, hangs or eats
memory fails its law and the run goes on.

A worker is a child process (forked where the platform can fork, so that a closure or any
other factory works; spawned elsewhere, where the factory must be importable by name) that
takes law passes from its parent one at a time and sends back their LawResults.  Before
each factory or candidate call it tells the parent what it is about to run (the example
and the law's draws so far, once per example and callee) and marks in shared memory when
the call began.  The parent watches every worker: one that dies (a signal, ``os._exit``,
``abort()``, the kernel's OOM killer) fails its law with the cause and the example it died
on, and a call past its deadline gets the worker killed (a hang that holds the GIL
included), so nothing of it runs on behind the next law.  A fresh worker takes the next
pass either way.

A worker's memory can be capped (``RLIMIT_AS``): an allocation past the cap fails in the
candidate, which fails the law with "exceeded the memory limit".
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import pickle
import re
import signal
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from rnnspec.bytesize import format_bytes
from rnnspec.deadline import Watch
from rnnspec.laws import LAWS, LawFailure
from rnnspec.run import forking
from rnnspec.run.lawrun import conditions, failed_result, run_law

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

    from rnnspec.config import Example
    from rnnspec.laws import Law, Subject
    from rnnspec.run.plan import Isolation
    from rnnspec.run.report import LawResult

__all__ = ["MemoryLimitExceeded", "Pool", "Task"]

POLL_SECONDS = 0.25
"""How often the parent looks at its workers' running calls, at most, for a deadline."""

_ALLOCATION_FAILED = re.compile(r"can't allocate memory|Cannot allocate memory|out of memory")


class MemoryLimitExceeded(Exception):
    """A candidate call failed to allocate within its worker's memory limit."""


@dataclass(frozen=True)
class Task:
    """One pass of one law: what a worker runs."""

    law_id: str
    examples: int
    seed: int
    shrink: bool = True


@dataclass(frozen=True)
class Crumb:
    """What a worker is calling: who, on which example with which draws, and how many
    examples of its pass have called the candidate so far (this one included)."""

    who: str
    example: Example | None
    draws: dict[str, Any] = field(default_factory=dict)
    examples: int = 0


# -- in the worker ----------------------------------------------------------------------
class ProcessWatch(Watch):
    """A worker's candidate calls, told to its parent: the parent keeps the deadline."""

    def __init__(
        self, conn: multiprocessing.connection.Connection, clock: Any, max_memory: int | None
    ) -> None:
        super().__init__()
        self.conn, self.clock, self.max_memory = conn, clock, max_memory
        self.new_pass()

    def new_pass(self) -> None:
        self.told: tuple[int, int, str] | None = None
        self.example: Any = None  # kept, so that its id is not reused while compared
        self.examples = 0

    def call(
        self,
        fn: Any,
        args: tuple[Any, ...],
        hung: Any,
        where: Any = None,
    ) -> Any:
        if where is not None:
            self._tell(*where)
        self.clock.value = time.monotonic()
        try:
            return fn(*args)
        except MemoryError as exc:
            raise self._exceeded(exc) from exc
        except RuntimeError as exc:
            if self.max_memory is not None and _ALLOCATION_FAILED.search(str(exc)):
                raise self._exceeded(exc) from exc
            raise
        finally:
            self.clock.value = 0.0

    def _tell(self, trial: Any, who: str) -> None:
        example = trial.example
        told = (id(example), len(trial.draws), who)
        if told == self.told:
            return
        if example is not self.example:
            self.example, self.examples = example, self.examples + 1
        self.told = told
        crumb = Crumb(who, example, dict(trial.draws), self.examples)
        try:
            self.conn.send(("at", crumb))
        except (pickle.PicklingError, TypeError, AttributeError):  # a draw that cannot travel
            draws = {label: repr(value) for label, value in crumb.draws.items()}
            self.conn.send(("at", replace(crumb, draws=draws)))

    def _exceeded(self, exc: BaseException) -> MemoryLimitExceeded:
        cap = "" if self.max_memory is None else f" of {format_bytes(self.max_memory)}"
        return MemoryLimitExceeded(
            f"exceeded the memory limit{cap} ({type(exc).__name__}: {str(exc)[:200]})"
        )


def _serve(
    conn: multiprocessing.connection.Connection,
    clock: Any,
    subject: Subject,
    max_memory: int | None,
    inherited: tuple[multiprocessing.connection.Connection, ...],
) -> None:
    """A worker's life: run the passes its parent sends until it sends None or goes."""
    for other in inherited:  # the parent's ends of other workers' pipes, copied by fork
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if max_memory is not None:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, hard))
    watch = ProcessWatch(conn, clock, max_memory)
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent is gone
            return
        if task is None:
            return
        watch.new_pass()
        with conditions():
            result = run_law(LAWS[task.law_id], subject, max_examples=task.examples,
                             seed=task.seed, shrink=task.shrink, watch=watch)  # fmt: skip
        try:
            conn.send(("done", result))
        except (pickle.PicklingError, TypeError, AttributeError):
            failure = result.failure  # a draw that cannot travel goes as its repr
            if failure is not None:
                draws = {label: repr(value) for label, value in failure.draws.items()}
                failure = replace(failure, draws=draws)
            conn.send(("done", replace(result, failure=failure)))


# -- in the parent ----------------------------------------------------------------------
class _Worker:
    """One worker process, its pipe and its clock, as the parent sees them."""

    def __init__(
        self, ctx: BaseContext, subject: Subject, max_memory: int | None, others: list[_Worker]
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.clock = ctx.Value("d", 0.0, lock=False)  # when the running call began; 0: none
        inherited = tuple(w.conn for w in others) if forking.START_METHOD == "fork" else ()
        self.process: BaseProcess = ctx.Process(  # type: ignore[attr-defined]
            target=_serve,
            args=(child, self.clock, subject, max_memory, inherited),
            name="rnnspec-law-worker",
        )
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a process with threads may deadlock the
            # child: rnnspec's own idle deadline threads hold no lock a worker needs
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            self.process.start()
        child.close()
        self.task: Task | None = None
        self.tag: Any = None
        self.crumb: Crumb | None = None
        self.started = 0.0

    def send(self, task: Task, tag: Any) -> None:
        self.task, self.tag, self.crumb, self.started = task, tag, None, time.perf_counter()
        self.conn.send(task)

    def stop(self, kill: bool = False) -> None:
        """End the process: asked to, or killed (``kill``, or when it does not go)."""
        if not kill and self.process.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class Pool:
    """``isolation.workers`` worker processes running the passes of one subject's laws.

    :meth:`submit` hands a task to an idle worker; :meth:`next_result` waits until a
    busy worker's pass ends and returns ``(tag, result)``: its LawResult, or a failed
    one when the worker died or a call passed the deadline (the worker is then gone, and
    another starts when a task needs it).  A context manager: leaving it ends them all.
    """

    def __init__(self, subject: Subject, isolation: Isolation) -> None:
        self.subject, self.isolation = subject, isolation
        self.ctx = multiprocessing.get_context(forking.START_METHOD)
        self.slots: list[_Worker | None] = [None] * isolation.workers

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    @property
    def busy(self) -> bool:
        return any(w is not None and w.task is not None for w in self.slots)

    @property
    def idle(self) -> bool:
        return any(w is None or w.task is None for w in self.slots)

    def submit(self, task: Task, tag: Any) -> None:
        """Run ``task`` on an idle worker (starting one where needed)."""
        index = next(i for i, w in enumerate(self.slots) if w is None or w.task is None)
        worker = self.slots[index]
        if worker is None:
            others = [w for w in self.slots if w is not None]
            worker = self.slots[index] = _Worker(
                self.ctx, self.subject, self.isolation.max_memory, others
            )
        worker.send(task, tag)

    def run(self, task: Task) -> LawResult:
        """``task``'s result, on one worker (for a pool of one, as the plugin runs a law)."""
        self.submit(task, None)
        return self.next_result()[1]

    def next_result(self) -> tuple[Any, LawResult]:
        """Wait for a busy worker's pass to end; its tag and result."""
        deadline = self.subject.deadline
        while True:
            busy = [w for w in self.slots if w is not None and w.task is not None]
            assert busy, "next_result with no pass running"
            ready = multiprocessing.connection.wait(
                [w.conn for w in busy] + [w.process.sentinel for w in busy],
                _timeout(busy, deadline),
            )
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    ended = self._read(worker)
                    if ended is not None:
                        return ended
                    if not worker.process.is_alive():
                        return self._lost(worker, self._death(worker))
                began = worker.clock.value
                if deadline is not None and began and time.monotonic() - began > deadline:
                    worker.stop(kill=True)
                    who = worker.crumb.who if worker.crumb else "candidate"
                    return self._lost(
                        worker,
                        f"the {who} did not return within {deadline:g} s (deadline); "
                        "its worker process was killed",
                    )

    def close(self, kill: bool = False) -> None:
        """End every worker (``kill``: at once, as on Ctrl-C)."""
        for worker in self.slots:
            if worker is not None:
                worker.stop(kill=kill or worker.task is not None)
        self.slots = [None] * len(self.slots)

    def _read(self, worker: _Worker) -> tuple[Any, LawResult] | None:
        """Take the worker's messages; its pass's end, if it came."""
        while worker.conn.poll():
            try:
                what, value = worker.conn.recv()
            except (EOFError, OSError):  # it died: the sentinel says how
                return None
            if what == "at":
                worker.crumb = value
            else:
                tag = worker.tag
                worker.task = worker.tag = None
                return tag, value
        return None

    def _death(self, worker: _Worker) -> str:
        """What ended the worker, as the problem line of its law."""
        worker.process.join(5.0)
        code = worker.process.exitcode
        who = f"the {worker.crumb.who}" if worker.crumb else "the law's worker process"
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            problem = f"{who} crashed: {name}"
        else:
            problem = f"{who} ended its worker process with exit status {code}"
        if worker.crumb is None:
            problem += " (before any factory or candidate call)"
        cap = self.isolation.max_memory
        if cap is not None and code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV):
            problem += (
                f"; the worker's memory limit is {format_bytes(cap)}: it may have exceeded it"
            )
        return problem

    def _lost(self, worker: _Worker, problem: str) -> tuple[Any, LawResult]:
        """The failed result of the pass a worker died or hung in; the worker is let go."""
        task, tag, crumb = worker.task, worker.tag, worker.crumb
        assert task is not None
        seconds = time.perf_counter() - worker.started
        worker.stop(kill=True)
        self.slots[self.slots.index(worker)] = None
        law: Law = LAWS[task.law_id]
        notes = (
            "the example is the one the call was made on, not shrunk: the worker process "
            "did not come back from it",
            "the repro runs that case in a fresh interpreter (save it, run it with python)",
        )
        failure = LawFailure(
            law,
            self.subject,
            problem,
            crumb.example if crumb else None,
            crumb.draws if crumb else {},
            notes=notes,
        )
        examples = crumb.examples if crumb else 0
        state = {"examples": examples, "first_failure": seconds}
        return tag, failed_result(failure, state, seconds)


def _timeout(busy: list[_Worker], deadline: float | None) -> float | None:
    """How long the parent may wait before a running call can pass its deadline."""
    if deadline is None:
        return None
    now, wait = time.monotonic(), POLL_SECONDS
    for worker in busy:
        began = worker.clock.value
        if began:
            wait = min(wait, max(0.0, deadline - (now - began)) + 0.01)
    return wait
