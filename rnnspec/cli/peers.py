"""``rnnspec peers``: other frameworks' recurrent layers through every law, as one table."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rnnspec.cli.options import positive_int

__all__ = ["add_parser"]

PEER_EXAMPLES = 30
"""Examples per law of `rnnspec peers`: the budget docs/peers.md was measured with."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "peers",
        help="check other frameworks' RNN/LSTM/GRU (Flax, Keras, ...) and print the table",
        description="Run the named peers (default: all; see rnnspec.peers.PEERS) through every "
        "law in their scope and print a table peer x kind: passed, the failed laws (with "
        "the known bug each reproduces), or unavailable (the framework does not import "
        "here). Exit 0 when no law failed, 1 when one did, 2 on a usage error.",
    )
    p.add_argument("names", nargs="?", metavar="NAME,NAME", help="the peers to run")
    p.add_argument("--json", metavar="PATH", help="also write every peer's reports as JSON")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument(
        "--max-examples",
        type=positive_int,
        default=PEER_EXAMPLES,
        metavar="N",
        help=f"Hypothesis examples per law (default: {PEER_EXAMPLES})",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the run (default: 0)")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run every peer in this process (default: each peer and kind in a child "
        "process, so that one that crashes the interpreter ends only its own cell)",
    )
    p.set_defaults(handler=_run)


def _progress(quiet: bool) -> Any:
    def start(peer: str, kind: str) -> bool:
        if not quiet:
            print(f"checking {peer} {kind}", file=sys.stderr, flush=True)
        return not quiet

    return start


def _run(args: argparse.Namespace) -> int:
    from rnnspec.peers import peer_named
    from rnnspec.peers.table import render, run_peers

    names = [n.strip() for n in args.names.split(",") if n.strip()] if args.names else None
    try:
        for name in names or ():
            peer_named(name)
    except ValueError as exc:
        print(f"rnnspec peers: error: {exc}", file=sys.stderr)
        return 2
    runs = run_peers(
        names,
        max_examples=args.max_examples,
        seed=args.seed,
        progress=_progress(args.quiet),
        processes=not args.in_process,
    )
    print(render(runs, markdown=args.markdown))
    if args.json:
        payload = {
            "max_examples": args.max_examples,
            "seed": args.seed,
            "peers": [run.as_dict() for run in runs],
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
    failed = any(c.status in ("failed", "error", "crashed") for run in runs for c in run.cells)
    return 1 if failed else 0
