"""A failed law as data: what went wrong, on which example, by how much and where.

:class:`LawFailure` carries the law, the subject, the problem (one line), the whole
drawn example, the other labelled draws and every :class:`Difference` found; its
message and its repro script are rendered from those (``rnnspec.laws._repro``), so
nothing downstream reads a message back.  :class:`FailureRecord` is what a run keeps
of it, made once (:meth:`LawFailure.record`) and held as it is by the run's result
and the mode matrix.  :class:`LawSkipped` and :class:`CandidateHung` stop a law at
once: not applicable, or past its deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rnnspec.laws._locate import Location
from rnnspec.laws._repro import repro
from rnnspec.tolerance import Tolerance

if TYPE_CHECKING:
    from rnnspec.config import Example
    from rnnspec.laws._core import Law, Subject

__all__ = ["CandidateHung", "Difference", "FailureRecord", "LawFailure", "LawSkipped"]


@dataclass(frozen=True)
class Difference:
    """Two results that differ beyond the tolerance: by how much, how often and where."""

    what: str  # what was compared, e.g. "packed sequence 1 (length 3) vs alone output"
    max_abs: float  # max |difference| (inf where a result is NaN)
    rtol: float
    atol: float
    count: int  # elements beyond the tolerance...
    total: int  # ...of this many
    location: Location = field(default_factory=Location)

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.rtol, self.atol)

    def __str__(self) -> str:
        return (
            f"{self.what}: max |difference| {self.max_abs:.3g} exceeds tolerance "
            f"({self.tolerance}); {self.count} of {self.total} elements differ{self.location}"
        )


@dataclass(frozen=True)
class FailureRecord:
    """A failed law as a run keeps it: plain data, with its message and repro rendered.

    ``problem`` is what went wrong (one line) and ``message`` the whole text; ``example``
    the example the law drew (None if none yet), ``draws`` its other labelled draws,
    ``difference`` the first comparison that failed (None when none did), ``notes`` the
    law's extra lines, ``repro`` the law's own case as a script.  What the runner adds:
    ``blob``, Hypothesis's ``@reproduce_failure`` blob of the shrunk example, and
    ``diagnosis``, the ids of the known bugs (:mod:`rnnspec.run.diagnosis`) the candidate
    reproduces on it (() when none; None when not diagnosed).  It holds no law and no
    candidate, so it travels back from a worker process.
    """

    problem: str
    message: str
    example: Example | None = None
    draws: dict[str, Any] = field(default_factory=dict)
    difference: Difference | None = None
    notes: tuple[str, ...] = ()
    repro: str | None = None
    blob: str | None = None
    diagnosis: tuple[str, ...] | None = None

    @property
    def compared(self) -> str | None:
        """What was compared when the law failed (None when no comparison failed)."""
        return self.difference.what if self.difference else None


class LawFailure(AssertionError):
    """A law does not hold for a candidate: the failure's data, and its message as ``str()``.

    ``problem`` is what went wrong (one line); ``example`` the whole example the law
    drew (None if none yet); ``draws`` its other labelled draws (e.g. packed's
    ``lengths``, dropout's ``p``); ``differences`` every comparison that failed
    (``difference`` the first); ``notes`` extra lines the law added.
    """

    def __init__(
        self,
        law: Law,
        subject: Subject,
        problem: str,
        example: Example | None = None,
        draws: dict[str, Any] | None = None,
        differences: tuple[Difference, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        self.law, self.subject, self.problem = law, subject, problem
        self.example, self.draws = example, dict(draws or {})
        self.differences, self.notes = differences, notes
        super().__init__(problem)  # the message is rendered when read (shrinking makes many)

    def __str__(self) -> str:
        return self.message()

    @property
    def difference(self) -> Difference | None:
        return self.differences[0] if self.differences else None

    @property
    def compared(self) -> str | None:
        """What was compared when the law failed (None when no comparison failed)."""
        return self.difference.what if self.difference else None

    def headline(self) -> str:
        return f"law {self.law.id!r} failed for {self.subject.name} ({self.subject.kind})"

    def message(self, extra: tuple[str, ...] | list[str] = ()) -> str:
        """The failure as text; ``extra`` lines (e.g. a diagnosis) go before the repro."""
        lines = [f"{self.headline()}: {self.problem}", f"  the law: {self.law.sentence}"]
        hint = self.law.scope_hint()
        if hint:
            lines.append(f"  {hint}")
        if self.example is not None:
            lines.append(f"  example: {self.example!r}")
        lines.extend(f"  {label}: {value!r}" for label, value in self.draws.items())
        lines.extend(f"  {n}" for n in self.notes)
        lines.extend(f"  {line}" for line in extra)
        lines.append("  repro:\n" + _indent(self.repro(), 4))
        return "\n".join(lines)

    def repro(self) -> str:
        """Python lines that rerun the law's own case on the failing example and show it."""
        return repro(self)

    def record(
        self,
        blob: str | None = None,
        diagnosis: tuple[str, ...] | None = None,
        extra: tuple[str, ...] | list[str] = (),
    ) -> FailureRecord:
        """The failure as a run keeps it; ``extra`` lines (the diagnosis) join the message."""
        return FailureRecord(
            self.problem,
            self.message(extra),
            self.example,
            self.draws,
            self.difference,
            self.notes,
            self.repro(),
            blob,
            diagnosis,
        )


class LawSkipped(BaseException):
    """Raised by :meth:`Trial.skip`: the law cannot apply to this candidate, found at run time.

    The runner reports the law "skipped" with the reason, never passed.  A BaseException,
    so that Hypothesis stops at once (no other example, no shrinking): what makes a law
    inapplicable is the candidate itself (not an nn.Module, no parameters), not an example.
    """


class CandidateHung(BaseException):
    """A candidate call passed its deadline: the runner stops the law at once.

    A BaseException, so that Hypothesis does not replay or shrink the example
    (each replay would wait for the deadline again).  ``failure`` holds its data.
    """

    def __init__(self, failure: LawFailure) -> None:
        self.failure = failure
        super().__init__(str(failure))


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())
