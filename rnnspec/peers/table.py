"""Run peers through the laws and tabulate them: peer x kind -> passed, failed laws, unavailable."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rnnspec.config import KINDS
from rnnspec.peers import PEERS, Peer, peer_named
from rnnspec.text import markdown_table, table

__all__ = ["Cell", "PeerRun", "render", "cell_in_child", "run_cell", "run_peers"]


@dataclass(frozen=True)
class Cell:
    """One peer's one kind: its status, the laws it failed (with diagnoses) and its cost."""

    kind: str
    # "passed", "failed", "unavailable", "error" (the run itself raised), "crashed" (its
    # process died: rnnspec.peers.child)
    status: str
    failed: tuple[str, ...] = ()  # law ids, a diagnosis in brackets where one was named
    passed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    why: str = ""  # unavailable / error: one line
    report: dict[str, Any] | None = field(default=None, repr=False)

    def text(self) -> str:
        if self.status == "passed":
            return f"passed ({self.passed} laws)"
        if self.status == "failed":
            return f"failed: {', '.join(self.failed)} ({self.passed} passed)"
        if self.status == "unavailable":
            return "unavailable"  # the row's last column says why, once
        return f"{self.status}: {self.why}"


@dataclass(frozen=True)
class PeerRun:
    peer: Peer
    versions: dict[str, str]
    cells: tuple[Cell, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer.name,
            "description": self.peer.description,
            "versions": self.versions,
            "kinds": {
                c.kind: {
                    "status": c.status,
                    "failed": list(c.failed),
                    "passed": c.passed,
                    "skipped": c.skipped,
                    "seconds": round(c.seconds, 1),
                    "why": c.why,
                    "report": c.report,
                }
                for c in self.cells
            },
        }


def versions(peer: Peer) -> dict[str, str]:
    """The installed version of each distribution the peer needs (and torch's)."""
    found = {}
    for name in ("torch", *peer.distributions):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_cell(peer: Peer, kind: str, max_examples: int, seed: int, progress: Any) -> Cell:
    """One peer's one kind through every law in its scope, in this process."""
    from rnnspec.run.checker import check

    started = time.perf_counter()
    # import the framework here, once: each law's worker process is forked from this one
    # and starts with it, so its import (seconds, for some) never counts against the
    # deadline of a factory call
    why = peer.unavailable()
    if why is not None:
        return Cell(kind, "unavailable", why=why)
    try:
        report = check(
            peer.factory(kind),
            kind,
            scope=peer.scope(kind),
            max_examples=max_examples,
            seed=seed,
            name=f"{peer.name} {kind}",
            progress=progress,
            # a peer that crashes its process must fail its law, not end the run
            isolate=True,
            deadline=peer.deadline,
        )
    except Exception as exc:  # the run itself broke: say so, go on with the next
        return Cell(kind, "error", why=f"{type(exc).__name__}: {exc}".splitlines()[0])
    seconds = time.perf_counter() - started
    counts = report.counts()
    failed = tuple(
        r.law + (f" [{', '.join(r.diagnosis)}]" if r.diagnosis else "") for r in report.failed
    )
    return Cell(
        kind,
        "failed" if failed else "passed",
        failed,
        counts.get("passed", 0),
        counts.get("skipped", 0),
        seconds,
        report=report.as_dict(),
    )


def run_peers(
    names: Iterable[str] | None = None,
    *,
    max_examples: int = 30,
    seed: int = 0,
    progress: Callable[[str, str], bool] | None = None,
    processes: bool = True,
) -> list[PeerRun]:
    """Run each named peer (default: all) through every law of each kind it has.

    A peer whose framework does not import here gets ``unavailable`` cells saying why.
    With ``processes`` each cell runs in a child process (:mod:`rnnspec.peers.child`), so
    that a peer that crashes the interpreter ends its cell only.  ``progress(peer,
    kind)`` is called before each cell; it returns whether to print each law's progress.
    """
    peers = [peer_named(n) for n in names] if names else list(PEERS.values())
    runs = []
    for peer in peers:
        why = peer.unavailable()
        cells = []
        for kind in KINDS:
            if kind not in peer.kinds:
                continue
            if why is not None:
                cells.append(Cell(kind, "unavailable", why=why))
                continue
            verbose = progress(peer.name, kind) if progress else False
            if processes:
                cells.append(cell_in_child(peer, kind, max_examples, seed, verbose))
            else:
                laws = law_progress if verbose else None
                cells.append(run_cell(peer, kind, max_examples, seed, laws))
        runs.append(PeerRun(peer, versions(peer) if why is None else {}, tuple(cells)))
    return runs


def cell_in_child(peer: Peer, kind: str, max_examples: int, seed: int, verbose: bool) -> Cell:
    """``run_cell`` in a child process (``python -m rnnspec.peers.child``): a framework
    that kills the interpreter ends that cell, reported ``crashed`` with the signal, and
    the table goes on; each child also imports its framework afresh (Keras picks its
    backend once a process)."""
    spec = {
        "peer": asdict(peer),
        "kind": kind,
        "max_examples": max_examples,
        "seed": seed,
        "verbose": verbose,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rnnspec-peer-") as folder:
        spec_path, out_path = Path(folder) / "spec.json", Path(folder) / "cell.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        command = [sys.executable, "-m", "rnnspec.peers.child", str(spec_path), str(out_path)]
        # what the child prints (a framework's crash report too) goes to our stderr:
        # stdout is the table's
        code = subprocess.run(command, check=False, stdout=_stderr_fd()).returncode
        seconds = time.perf_counter() - started
        if code < 0:
            name = signal.Signals(-code).name
            return Cell(kind, "crashed", why=f"the process died of {name}", seconds=seconds)
        if not out_path.exists():
            return Cell(kind, "error", why=f"the process exited {code} with no result")
        data = json.loads(out_path.read_text(encoding="utf-8"))
    return Cell(**{**data, "failed": tuple(data["failed"])})


def _stderr_fd() -> int | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stream: inherit instead
        return None


def law_progress(law_id: str, result: Any) -> None:
    if result is None:
        print(f"  {law_id} ...", end="", file=sys.stderr, flush=True)
    else:
        print(f" {result.status} ({result.seconds:.1f}s)", file=sys.stderr, flush=True)


def render(runs: list[PeerRun], markdown: bool = False) -> str:
    """The table: one row per peer, one column per kind, and each row's time and versions."""
    header = ["peer", *KINDS, "time", "versions (or why unavailable)"]
    rows = []
    for run in runs:
        cells = {c.kind: c.text() for c in run.cells}
        seconds = sum(c.seconds for c in run.cells)
        shown = ", ".join(f"{k} {v}" for k, v in run.versions.items() if k != "torch")
        why = next((c.why for c in run.cells if c.status == "unavailable"), "")
        rows.append(
            [
                run.peer.name,
                *(cells.get(kind, "-") for kind in KINDS),
                f"{seconds:.0f}s" if seconds else "-",
                shown or why or "-",
            ]
        )
    return (markdown_table if markdown else table)(header, rows)
