"""The result of a conformance check: one result per law, as text or JSON."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from rnnspec.config import Example, dtype_name
from rnnspec.devices import Tf32
from rnnspec.laws._failure import Difference, FailureRecord
from rnnspec.scope import Scope
from rnnspec.text import table
from rnnspec.tolerance import GROWTH_STEPS, tolerance

__all__ = ["LawResult", "Report"]

STATUSES = ("passed", "failed", "skipped", "interrupted")


@dataclass(frozen=True)
class LawResult:
    """The outcome of one law: passed, failed (with a message), skipped (with why), or
    interrupted (Ctrl-C stopped the run before the law was decided).

    A failure is data too, held in ``failure`` (a :class:`FailureRecord`) and read
    through this result: ``problem`` (what went wrong, one line), ``example`` (the whole
    example the law drew), ``draws`` (its other labelled draws), ``difference`` (max
    |difference|, tolerance, count, location and what was compared; None when the
    failure is no numeric comparison), ``notes``, ``repro`` (the law's own case as a
    standalone script), ``blob`` and ``diagnosis``.  ``message`` is the failure's whole
    text, rendered from them; for any other status it is ``reason``.
    """

    law: str
    status: str
    reason: str = ""  # why skipped or interrupted (a failure without a record: its message)
    sentence: str = ""
    examples: int = 0
    seconds: float = 0.0
    first_failure_seconds: float | None = None
    # another failed law that probably caused this failure (rnnspec.run.causes), or None
    probable_cause: str | None = None
    failure: FailureRecord | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def message(self) -> str:
        """The failure's whole text; why skipped or interrupted; "" for a pass."""
        return self.failure.message if self.failure is not None else self.reason

    @property
    def problem(self) -> str:
        return self.failure.problem if self.failure is not None else ""

    @property
    def example(self) -> Example | None:
        return self.failure.example if self.failure is not None else None

    @property
    def draws(self) -> dict[str, Any]:
        return self.failure.draws if self.failure is not None else {}

    @property
    def difference(self) -> Difference | None:
        return self.failure.difference if self.failure is not None else None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.failure.notes if self.failure is not None else ()

    @property
    def repro(self) -> str | None:
        return self.failure.repro if self.failure is not None else None

    @property
    def blob(self) -> str | None:
        """Hypothesis's @reproduce_failure blob of the shrunk example, or None."""
        return self.failure.blob if self.failure is not None else None

    @property
    def diagnosis(self) -> tuple[str, ...] | None:
        """Ids of the known bugs (rnnspec.run.diagnosis) the candidate reproduces on the
        shrunk example; () when none matches; None when not diagnosed (passed, or not a
        forward law)."""
        return self.failure.diagnosis if self.failure is not None else None

    @property
    def compared(self) -> str | None:
        """What was compared when the law failed, or None."""
        return self.difference.what if self.difference else None

    def detail(self) -> str:
        """One line: what went wrong (a failure), or why skipped."""
        if self.status == "failed":
            return self.problem or (self.message.splitlines()[0] if self.message else "")
        return self.message.splitlines()[0] if self.message else ""

    def failure_text(self, cause: str | None = None) -> str:
        """A failure in full, as the summary and the pytest plugin show it: the message,
        the failed law it probably shares a cause with (``cause`` names it; by default
        ``probable_cause`` quoted), and the Hypothesis blob."""
        if cause is None and self.probable_cause:
            cause = repr(self.probable_cause)
        lines = [self.message]
        if cause:
            lines.append(
                f"  probably the same cause as {cause}, which failed too and compares "
                "the same forward: fix that first, then rerun"
            )
        if self.blob:
            lines.append(f"  Hypothesis blob: {self.blob}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (the example both as fields and as its repr)."""
        example, difference = self.example, self.difference
        data = {
            "law": self.law,
            "status": self.status,
            "message": self.message,
            "sentence": self.sentence,
            "examples": self.examples,
            "seconds": self.seconds,
            "first_failure_seconds": self.first_failure_seconds,
            "blob": self.blob,
            "probable_cause": self.probable_cause,
            "diagnosis": self.diagnosis,
            "problem": self.problem,
            "example": None if example is None else {**asdict(example), "repr": repr(example)},
            "draws": self.draws,
            "difference": None if difference is None else asdict(difference),
            "notes": self.notes,
            "repro": self.repro,
            "compared": self.compared,
        }
        return {key: _plain(value) for key, value in data.items()}


def _plain(value: Any) -> Any:
    """A value as JSON holds it: tuples as lists, dict keys as strings, objects as reprs."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


@dataclass
class Report:
    """What ``rnnspec.check`` found: ``ok``, ``results`` and ``failed``."""

    kind: str
    subject: str
    scope: Scope
    seed: int
    max_examples: int
    results: list[LawResult] = field(default_factory=list)
    first_failure_seconds: float | None = None  # from the start of the check...
    first_failed_law: str | None = None  # ...to the first failing example, of this law
    # the process's TF32 settings, which the candidate ran under
    tf32: Tf32 = field(default_factory=Tf32.current)
    interrupted: bool = False  # Ctrl-C stopped the run: the undecided laws are "interrupted"

    @property
    def ok(self) -> bool:
        """No law failed, and the run was not interrupted."""
        return not self.interrupted and all(r.ok for r in self.results)

    @property
    def failed(self) -> list[LawResult]:
        return [r for r in self.results if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    def as_dict(self) -> dict[str, Any]:
        from rnnspec.version import __version__

        return {
            "rnnspec": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "device": ", ".join(self.scope.devices),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "tf32": self.tf32.as_dict(),
            "kind": self.kind,
            "subject": self.subject,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "first_failure_seconds": self.first_failure_seconds,
            "first_failed_law": self.first_failed_law,
            "scope": self.scope.as_dict(),
            "tolerances": {
                dtype_name(dtype): {
                    "rtol": tol.rtol,
                    "atol": tol.atol,
                    "grows": f"x (1 + steps / {GROWTH_STEPS})",
                }
                for dtype in self.scope.dtypes
                for tol in [tolerance(dtype, 0, self.scope.tolerances)]
            },
            "results": [r.as_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def summary(self) -> str:
        """A table of every law, then each failure's full message."""
        rows = []
        for r in self.results:
            detail = r.detail()
            if r.status == "failed":
                if r.probable_cause:
                    detail = f"probably the same cause as {r.probable_cause}: {detail}"
            rows.append([r.law, r.status, f"{r.seconds:.2f}s", detail[:90]])
        c = self.counts()
        traced = sum(bool(r.probable_cause) for r in self.failed)
        lines = [
            table(["law", "status", "time", "detail"], rows),
            "",
            f"{self.subject} ({self.kind}): {c['passed']} passed, {c['failed']} failed, "
            f"{c['skipped']} skipped"
            + (f", {c['interrupted']} interrupted (Ctrl-C)" if self.interrupted else "")
            + f"; seed {self.seed}"
            + (f"; {traced} failed probably from the same cause as another" if traced else "")
            + (f"; {self.tf32}" if torch.cuda.is_available() else ""),
        ]
        for r in self.failed:
            lines += ["", r.failure_text()]
        return "\n".join(lines)
