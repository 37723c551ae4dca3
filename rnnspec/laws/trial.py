"""A trial: one run of one law against one subject, and the results it compares.

A law's check receives a :class:`Trial`, which draws examples from Hypothesis
(labelled), builds the torch reference and the candidate from the subject's factory,
calls them safely (each candidate call bounded by the subject's deadline), normalises
what they return into an :class:`Outcome` and compares outcomes with the tolerance
table, raising a :class:`~rnnspec.laws._failure.LawFailure` on a difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import torch
from hypothesis import strategies as st
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

from rnnspec.config import Example
from rnnspec.deadline import DeadlineExceeded, Escaped, Watch, call_with_deadline, contained
from rnnspec.devices import OFF as TF32_OFF
from rnnspec.devices import cuda_precision
from rnnspec.laws._core import Law, Subject
from rnnspec.laws._failure import CandidateHung, Difference, LawFailure, LawSkipped
from rnnspec.laws._locate import locate
from rnnspec.scope import Scope
from rnnspec.silence import ignored
from rnnspec.state import RESULT_NAMES, State, flat_result, time_axis
from rnnspec.tolerance import Tolerance, tolerance, within

__all__ = ["Outcome", "Trial"]

T = TypeVar("T")

GLOBAL_RNG_OFFSET = 7
"""torch's global generator is seeded with ``example.seed + 7`` when a law draws an
example: a stream of its own, apart from those the example's weights and inputs use."""


@dataclass
class Outcome:
    """A normalised result: the output tensor (packed data for PackedSequence) and states."""

    output: Tensor
    states: tuple[Tensor, ...]
    packed: PackedSequence | None = None

    def tensors(self) -> Iterator[tuple[str, Tensor]]:
        yield from zip(RESULT_NAMES, (self.output, *self.states), strict=False)


class Trial:
    """One run of one law against one subject, drawing from Hypothesis via ``draw``."""

    def __init__(
        self, law: Law, subject: Subject, draw: Callable[..., Any], watch: Watch | None = None
    ) -> None:
        self.law = law
        self.subject = subject
        self._draw = draw
        # set when the runner runs this trial on its worker thread and watches the calls
        self.watch = watch
        self.example: Example | None = None
        self.draws: dict[str, Any] = {}  # every labelled draw but the example
        self.notes: list[str] = []
        self.differences: list[Difference] = []  # the comparisons that failed, in order

    @property
    def kind(self) -> str:
        return self.subject.kind

    @property
    def scope(self) -> Scope:
        return self.subject.scope

    def draw(self, strategy: st.SearchStrategy[T], label: str) -> T:
        value = self._draw(strategy, label=label)
        if label != "example":
            self.draws[label] = value
        return value

    def draw_example(self, configs: dict[str, Any] | None = None, **overrides: Any) -> Example:
        """Draw an example within the subject's scope (``configs`` narrows its configs).

        torch's global random generator is seeded from the example too: a candidate that
        draws from it (dropout, a random initial state) then does the same on the same
        example whatever ran before, in this process or in a worker, and in its repro.
        """
        self.example = self.draw(self.subject.examples(configs, **overrides), "example")
        seed = self.example.seed + GLOBAL_RNG_OFFSET
        torch.default_generator.manual_seed(seed)  # the CPU's: torch.manual_seed costs 90 us
        if torch.cuda.is_initialized():
            torch.cuda.manual_seed_all(seed)
        return self.example

    def skip(self, reason: str) -> NoReturn:
        """Stop the law as "skipped" with ``reason``: it cannot apply to this candidate.

        For what only the built candidate shows (``Law.needs`` decides from the subject
        before the run); a law must never pass having checked nothing.
        """
        raise LawSkipped(reason)

    def note(self, text: str) -> None:
        """Add a line to the failure message (e.g. extra drawn values)."""
        self.notes.append(text)

    # -- building and calling -----------------------------------------------------
    def candidate(self, reference: Any) -> Callable[..., Any]:
        """The subject's candidate for ``reference``; a factory that hangs fails the law too."""
        try:
            return self.invoke(self.subject.factory, reference, who="factory")
        except Exception as exc:  # noqa: BLE001 - any factory error is the candidate's
            self.fail(f"the factory raised {raised(exc)}")

    def build(
        self, example: Example | None = None, training: bool = False
    ) -> tuple[Any, Callable[..., Any]]:
        """The torch reference for ``example`` (default: the drawn one) and its candidate.

        ``training=True`` puts the reference in training mode before the factory sees it
        (with the drawn dropout of 0 it computes the same function as in eval mode).
        """
        example = example or self.drawn()
        reference = example.reference().train(training)
        return reference, self.candidate(reference)

    def call(self, fn: Callable[..., Any], *args: Any, who: str = "candidate") -> Outcome:
        """Call ``fn`` and check the shape of what it returns; any error fails the law."""
        exact = who == "reference" and any(_on_accelerator(a) for a in args)
        try:
            with ignored():  # a candidate may warn; that is no failure (rnnspec.silence)
                # a reference on CUDA runs in full float32 whatever the caller's TF32 settings
                with cuda_precision(TF32_OFF) if exact else nullcontext():
                    result = self.invoke(fn, *args, who=who)
        except LawFailure:
            raise
        except Exception as exc:  # noqa: BLE001 - a candidate's error is a failed law
            self.fail(f"the {who} raised {raised(exc)}")
        return self.outcome(result, who)

    def run(
        self, fn: Callable[..., Any], x: Any, hx: State = None, who: str = "candidate"
    ) -> Outcome:
        """``call(fn, x)`` or ``call(fn, x, hx)``: ``hx=None`` is not passed at all."""
        return self.call(fn, x, who=who) if hx is None else self.call(fn, x, hx, who=who)

    def invoke(self, fn: Callable[..., Any], *args: Any, who: str = "candidate") -> Any:
        """``fn(*args)``, failing the law if it takes longer than the subject's deadline.

        The reference (torch's own module) is called directly: only a candidate can hang.
        Under the runner (``watch`` set) this thread is its worker and the runner waits
        on the watch (in a worker process, the parent does); otherwise the call goes to
        the worker thread itself.  Whatever the call raises but Ctrl-C comes out as an
        Exception (``SystemExit`` as :class:`~rnnspec.deadline.Escaped`): a failed law.
        """
        if who == "reference":
            return fn(*args)
        if self.watch is not None:
            return self.watch.call(contained, (fn, args), lambda: self._hung(who), (self, who))
        deadline = self.subject.deadline
        if deadline is None:
            return contained(fn, args)
        try:
            return call_with_deadline(contained, (fn, args), deadline)
        except DeadlineExceeded:
            raise self._hung(who) from None

    def _hung(self, who: str) -> CandidateHung:
        within = f"{self.subject.deadline:g} s"
        return CandidateHung(self.failure(f"the {who} did not return within {within} (deadline)"))

    def outcome(self, result: Any, who: str = "candidate") -> Outcome:
        """``result`` as an :class:`Outcome`; a result not shaped ``(output, state)`` fails."""
        expected_states = 2 if self.kind == "lstm" else 1
        if not isinstance(result, tuple | list) or len(result) != 2:
            self.fail(f"the {who} returned {_describe(result)}, expected (output, state)")
        output, *states = flat_result(result)
        state = result[1]
        if expected_states == 1 and isinstance(state, tuple | list):
            states = [state]  # a tuple where h_n belongs: reported as such below
        if len(states) != expected_states or not all(isinstance(s, Tensor) for s in states):
            want = "(h_n, c_n)" if expected_states == 2 else "h_n"
            self.fail(f"the {who} returned state {_describe(state)}, expected {want}")
        if not isinstance(output, Tensor):
            self.fail(f"the {who} returned output {_describe(output)}, expected a Tensor")
        packed = result[0] if isinstance(result[0], PackedSequence) else None
        return Outcome(output, tuple(states), packed)

    # -- comparing ----------------------------------------------------------------
    def tolerance(self, dtype: torch.dtype, steps: int | None = None) -> Tolerance:
        if steps is None:
            steps = self.drawn().seq_len
        return tolerance(dtype, steps, self.scope.tolerances)

    def close(
        self,
        actual: Tensor,
        expected: Tensor,
        what: str,
        tol: Tolerance | None = None,
        time_dim: int | None = None,
        state_rows: bool = False,
    ) -> None:
        """Fail unless ``actual`` matches ``expected`` within ``tol`` (default: by dtype).

        ``time_dim`` names the time axis of an output, ``state_rows`` says that dim 0
        indexes (layer, direction) as in h_n: both locate the first divergence.
        """
        problem = self.mismatch(actual, expected, what, tol, time_dim, state_rows)
        if problem:
            self.fail(problem)

    def mismatch(
        self,
        actual: Tensor,
        expected: Tensor,
        what: str,
        tol: Tolerance | None = None,
        time_dim: int | None = None,
        state_rows: bool = False,
    ) -> str | None:
        """What differs between ``actual`` and ``expected`` beyond ``tol``, or None.

        A difference of values is also kept in ``differences``, for the failure's data.
        """
        if tuple(actual.shape) != tuple(expected.shape):
            return f"{what}: shape {list(actual.shape)}, expected {list(expected.shape)}"
        if (
            actual.dtype == expected.dtype
            and actual.device == expected.device
            and torch.equal(actual, expected)  # False wherever a NaN is
            # and no inf (inf vs inf fails below, as ever): with an inf the sum is not
            # finite; one that overflows without an inf only takes the path below
            and math.isfinite(expected.sum().item())
        ):
            return None  # the passing path, cheaply: equal values are within any tolerance
        tol = tol or self.tolerance(actual.dtype)
        a = actual.detach().to("cpu", torch.float64)
        b = expected.detach().to("cpu", torch.float64)
        diff = (a - b).abs()
        bad = ~within(a, b, tol)  # NaN in a counts as bad
        if not bool(bad.any()):
            return None
        finite = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
        config = self.example.config if self.example else None
        difference = Difference(
            what,
            float(finite.max()),
            tol.rtol,
            tol.atol,
            int(bad.sum()),
            bad.numel(),
            locate(bad, config, what=what, time_dim=time_dim, state_rows=state_rows),
        )
        self.differences.append(difference)
        return str(difference)

    def equal_outcomes(
        self, actual: Outcome, expected: Outcome, what: str, tol: Tolerance | None = None
    ) -> None:
        """Fail unless every tensor of ``actual`` matches ``expected``'s (see :meth:`close`)."""
        example = self.drawn()
        time_dim = None
        if actual.packed is None and expected.output.dim() in (2, 3):
            time_dim = time_axis(example.config.batch_first, expected.output.dim() == 3)
        for (name, a), (_, b) in zip(actual.tensors(), expected.tensors(), strict=True):
            label = f"{what} {name}"
            if name == "output":
                self.close(a, b, label, tol, time_dim=time_dim)
            else:
                self.close(a, b, label, tol, state_rows=True)

    # -- failing ------------------------------------------------------------------
    def fail(self, problem: str) -> NoReturn:
        raise self.failure(problem)

    def failure(self, problem: str) -> LawFailure:
        """The failure, as data, of this trial with ``problem``."""
        return LawFailure(
            self.law,
            self.subject,
            problem,
            self.example,
            self.draws,
            tuple(self.differences),
            tuple(self.notes),
        )

    def drawn(self) -> Example:
        """The example drawn so far (a law that uses it before drawing is a bug in rnnspec)."""
        if self.example is None:
            raise RuntimeError(f"law {self.law.id} used the example before drawing one")
        return self.example


def raised(exc: Exception) -> str:
    """``Type: message`` of what a call raised (what was escaping, for :class:`Escaped`)."""
    return str(exc) if isinstance(exc, Escaped) else f"{type(exc).__name__}: {exc}"


def _on_accelerator(value: Any) -> bool:
    if isinstance(value, PackedSequence):
        value = value.data
    if isinstance(value, tuple | list):
        return any(_on_accelerator(v) for v in value)
    return isinstance(value, Tensor) and value.device.type not in ("cpu", "meta")


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a Tensor of shape {list(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"
