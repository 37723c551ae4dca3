"""The execution-mode matrix: every mode of ``rnnspec.modes.table`` x rnn, lstm, gru, via check.

``run_matrix()`` runs :func:`rnnspec.check` for each available mode and kind, within
the mode's scope and budget, and collects one :class:`Cell` per pair: "passed",
"failed: <law ids>", "unavailable: <why>" or "skipped: <why>".  Each failure keeps
the shrunk example and a self-contained repro script in plain torch
(``rnnspec.modes.repro``), to attach to a bug report upstream.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from rnnspec.config import KINDS, Example
from rnnspec.laws._failure import FailureRecord
from rnnspec.modes.repro import repro_script
from rnnspec.modes.table import DEFAULT_MODES, Mode, get_mode
from rnnspec.run.report import LawResult, Report
from rnnspec.text import markdown_table, table

__all__ = ["MATRIX_SEED", "Cell", "Failure", "Matrix", "Progress", "repro_script", "run_matrix"]

MATRIX_SEED = 0
"""The matrix's seed unless --seed: the published tables (docs/modes.md) replay as they are."""
Progress = Callable[[str, str, str | None, LawResult | None], None]
"""``progress(mode, kind, law_id, result)``: law_id None when a cell starts."""


@dataclass(frozen=True)
class Failure:
    """A failed law of one cell: rnnspec's record of it and a plain-torch repro.

    ``record`` is the law's own :class:`FailureRecord` (message, shrunk example, draws,
    blob), as the cell's report holds it; ``repro`` the plain-torch script
    (``rnnspec.modes.repro``), None without an example.
    """

    law: str
    record: FailureRecord
    repro: str | None

    @property
    def message(self) -> str:
        return self.record.message

    @property
    def example(self) -> Example | None:
        return self.record.example

    @property
    def blob(self) -> str | None:
        return self.record.blob

    @property
    def headline(self) -> str:
        """What went wrong, one line (the law's ``problem``)."""
        return self.record.problem or self.record.message.partition("\n")[0]

    @property
    def draws(self) -> dict[str, Any]:
        """The law's other labelled draws (e.g. packed's ``lengths``)."""
        return self.record.draws


@dataclass
class Cell:
    mode: str
    kind: str
    status: str  # passed, failed, unavailable, skipped
    reason: str = ""  # why unavailable or skipped
    seconds: float = 0.0
    report: Report | None = None
    failures: list[Failure] = field(default_factory=list)

    def text(self) -> str:
        if self.status == "failed":
            return "failed: " + ", ".join(f.law for f in self.failures)
        return f"{self.status}: {self.reason}" if self.reason else self.status


@dataclass
class Matrix:
    """What ``run_matrix`` found: one :class:`Cell` per (mode, kind)."""

    modes: list[Mode]
    kinds: tuple[str, ...]
    seed: int
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    seconds: float = 0.0
    budgets: dict[str, int] = field(default_factory=dict)  # mode -> max_examples used
    laws: list[str] | None = None  # the laws asked for, instead of each mode's own

    @property
    def ok(self) -> bool:
        return all(c.status != "failed" for c in self.cells.values())

    @property
    def failed(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.status == "failed"]

    def _rows(self) -> list[list[str]]:
        rows = []
        for mode in self.modes:
            cells = [self.cells[mode.name, k] for k in self.kinds]
            took = sum(c.seconds for c in cells)
            rows.append([mode.name, *(c.text() for c in cells), f"{took:.0f}s"])
        return rows

    def _budget(self, mode: Mode) -> str:
        chosen = self.laws or mode.laws
        laws = ", ".join(chosen) if chosen else "every law"
        if mode.exclude and not self.laws:
            laws += " but " + ", ".join(mode.exclude)
        return f"{self.budgets.get(mode.name, mode.max_examples)} examples a law; {laws}"

    def table(self) -> str:
        """The matrix as text, then each mode's budget and notes, then every failure."""
        lines = [table(["mode", *self.kinds, "time"], self._rows()), ""]
        lines.append(f"{_environment()['summary']}; seed {self.seed}; {self.seconds:.0f}s")
        for mode in self.modes:
            lines.append(f"  {mode.name}: {mode.summary}; {self._budget(mode)}")
            lines.extend(f"    not checked: {note}" for note in mode.notes)
        for cell in self.failed:
            for f in cell.failures:
                lines += ["", f"== {cell.mode} / {cell.kind}: {f.law}: {f.headline}"]
                lines += [f"   shrunk example: {f.example!r}"] if f.example else []
                lines += ["-- repro (plain torch):", f.repro] if f.repro else [f.message]
        return "\n".join(lines)

    def markdown(self) -> str:
        """The matrix as Markdown: the table, budgets and notes, each failure with its repro."""
        lines = [markdown_table(["mode", *self.kinds, "time"], self._rows()), ""]
        lines.append(
            f"Measured on {_environment()['summary']}, seed {self.seed}, "
            f"{self.seconds:.0f} s in all."
        )
        lines.append("")
        for mode in self.modes:
            notes = "; ".join(mode.notes)
            lines.append(
                f"- **{mode.name}**: {mode.summary}. {self._budget(mode)}."
                + (f" Not checked: {notes}." if notes else "")
            )
        for cell in self.failed:
            for f in cell.failures:
                lines += ["", f"### {cell.mode} / {cell.kind}: `{f.law}`", "", f.headline, ""]
                if f.example is not None:
                    lines += [f"Shrunk example: `{f.example!r}`", ""]
                if f.repro:
                    lines += ["```python", f.repro, "```"]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        from rnnspec.version import __version__

        return {
            "rnnspec": __version__,
            **_environment(),
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "ok": self.ok,
            "kinds": list(self.kinds),
            "modes": [
                {
                    "name": m.name,
                    "summary": m.summary,
                    "max_examples": self.budgets.get(m.name, m.max_examples),
                    "laws": self.laws or (list(m.laws) if m.laws else None),
                    "exclude": list(m.exclude),
                    "scope": m.scope.as_dict(),
                    "notes": list(m.notes),
                }
                for m in self.modes
            ],
            "cells": [
                {
                    "mode": c.mode,
                    "kind": c.kind,
                    "status": c.status,
                    "text": c.text(),
                    "seconds": round(c.seconds, 2),
                    "counts": c.report.counts() if c.report else None,
                    "failures": [
                        {
                            "law": f.law,
                            "message": f.message,
                            "example": repr(f.example) if f.example else None,
                            "draws": {k: repr(v) for k, v in f.draws.items()},
                            "blob": f.blob,
                            "repro": f.repro,
                        }
                        for f in c.failures
                    ],
                }
                for c in self.cells.values()
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


def run_matrix(
    modes: Iterable[str | Mode] | None = None,
    kinds: Iterable[str] = KINDS,
    max_examples: int | None = None,
    seed: int = 0,
    laws: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> Matrix:
    """Run every available mode (default: ``DEFAULT_MODES``) for each kind through check.

    ``max_examples`` and ``laws`` override every mode's own budget and law list.
    """
    from rnnspec.run.checker import check

    chosen = [m if isinstance(m, Mode) else get_mode(m) for m in (modes or DEFAULT_MODES)]
    kinds = tuple(kinds)
    matrix = Matrix(chosen, kinds, seed, laws=None if laws is None else list(laws))
    start = time.perf_counter()
    for mode in chosen:
        budget = max_examples or mode.max_examples
        matrix.budgets[mode.name] = budget
        ready = False
        for kind in kinds:
            why = mode.available(kind)
            if why:
                matrix.cells[mode.name, kind] = Cell(mode.name, kind, "unavailable", why)
                continue
            if not ready and mode.setup is not None:
                mode.setup()
            ready = True
            if progress:
                progress(mode.name, kind, None, None)
            ids = matrix.laws if matrix.laws is not None else mode.law_ids(kind)

            def relay(
                law_id: str, result: LawResult | None, m: str = mode.name, k: str = kind
            ) -> None:
                if progress:
                    progress(m, k, law_id, result)

            t0 = time.perf_counter()
            report = check(
                mode.wrap,
                kind,
                scope=mode.scope,
                max_examples=budget,
                seed=seed,
                laws=ids,
                deadline=mode.deadline,
                name=mode.name,
                progress=relay,
                shrink=mode.shrink,
            )
            matrix.cells[mode.name, kind] = _cell(mode, kind, report, time.perf_counter() - t0)
    matrix.seconds = time.perf_counter() - start
    return matrix


def _cell(mode: Mode, kind: str, report: Report, seconds: float) -> Cell:
    counts = report.counts()
    if counts["failed"]:
        failures = []
        for r in report.failed:
            record = r.failure or FailureRecord(r.detail(), r.message)
            example = record.example
            lengths = record.draws.get("lengths")  # drawn by the laws that pack their input
            repro = repro_script(mode, example, r.law, lengths) if example else None
            failures.append(Failure(r.law, record, repro))
        return Cell(mode.name, kind, "failed", "", seconds, report, failures)
    if not counts["passed"]:
        return Cell(mode.name, kind, "skipped", "every law out of scope", seconds, report)
    return Cell(mode.name, kind, "passed", "", seconds, report)


def _environment() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    summary = f"torch {torch.__version__}, {cpu}, {torch.get_num_threads()} threads"
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "onednn": torch.backends.mkldnn.is_available(),
        "gpu": gpu,
        "summary": summary + (f", {gpu}" if gpu else ""),
    }
