"""``rnnspec check --modes``: the execution-mode matrix run from the command line.

:func:`cli` resolves the modes and laws named, runs :func:`rnnspec.modes.matrix.run_matrix`
with a progress line per law on stderr, prints the table and writes the JSON; it lives
here, above ``rnnspec.modes``, so that nothing under ``modes/`` imports the shells.
"""

from __future__ import annotations

import sys
from typing import Any

from rnnspec.cli.options import parse_laws
from rnnspec.config import KINDS
from rnnspec.modes.matrix import MATRIX_SEED, Progress, run_matrix
from rnnspec.modes.table import MODES
from rnnspec.run.report import LawResult

__all__ = ["cli"]


def cli(args: Any) -> int:
    """``rnnspec check --modes [NAMES]``: run the matrix, print it; exit 1 if a cell failed."""
    from rnnspec.laws import LAWS

    names = None if args.modes in ("", "default") else parse_laws(args.modes)
    names = list(MODES) if names == ["all"] else names
    laws = parse_laws(args.laws)
    unknown = [n for n in names or () if n not in MODES] + [i for i in laws or () if i not in LAWS]
    problem = "--modes checks torch itself: give no MODULE:FACTORY" if args.target else ""
    if unknown or problem:
        problem = problem or f"unknown mode or law {unknown}; modes: {', '.join(MODES)}"
        print(f"rnnspec check: error: {problem}", file=sys.stderr)
        return 2
    kinds = (args.kind,) if args.kind else KINDS
    seed = MATRIX_SEED if args.seed is None else args.seed
    printer = None if args.quiet else _printer()
    matrix = run_matrix(names, kinds, args.max_examples, seed, laws, printer)
    print(matrix.table())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(matrix.to_json())
    failed = f"{len(matrix.failed)} of {len(matrix.cells)} cells failed"
    verdict = "no mode disagrees with eager" if matrix.ok else failed
    print(f"\nrnnspec check --modes: {verdict} ({matrix.seconds:.0f}s)")
    return 0 if matrix.ok else 1


def _printer() -> Progress:
    def show(mode: str, kind: str, law_id: str | None, result: LawResult | None) -> None:
        if law_id is None:
            print(f"checking {mode} / {kind}", file=sys.stderr, flush=True)
        elif result is None:
            print(f"  {law_id} ...", end="", file=sys.stderr, flush=True)
        else:
            print(f" {result.status} ({result.seconds:.1f}s)", file=sys.stderr, flush=True)

    return show
