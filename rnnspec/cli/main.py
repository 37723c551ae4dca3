"""The ``rnnspec`` console script: a thin shell over the library.

Subcommands import what they need when they run: building the parser imports no
torch, so ``rnnspec --help`` stays fast (tests/test_cli.py checks it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from rnnspec.cli import check as check_cli
from rnnspec.cli import claims as claims_cli
from rnnspec.cli import peers as peers_cli
from rnnspec.cli.options import positive_int

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_methods(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "methods",
        help="build and run the seed's methods; compare shapes and parameter counts with the seed",
        description="Build and run the seed's seven methods and print each output shape and "
        "parameter count next to what the seed printed, flagging disagreements.",
    )
    for field in _SIZE_FIELDS:  # the defaults (SEED_SIZES) are read when it runs: no torch
        flag = "--" + field.replace("_", "-")
        p.add_argument(flag, type=positive_int, help="default: the seed's")
    p.set_defaults(handler=_run_methods)


_SIZE_FIELDS = ("batch_size", "seq_len", "input_size", "hidden_size", "output_size")


def _run_methods(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from rnnspec.seed.methods import SEED_SIZES, measure_methods
    from rnnspec.text import table

    given = {f: getattr(args, f) for f in _SIZE_FIELDS if getattr(args, f) is not None}
    sizes = replace(SEED_SIZES, **given)
    rows = measure_methods(sizes)
    print(
        f"seed methods at batch={sizes.batch_size} seq_len={sizes.seq_len} "
        f"input={sizes.input_size} hidden={sizes.hidden_size} output={sizes.output_size}"
    )

    def shown(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, tuple):
            return str(list(value))
        return f"{value:,}"

    body = [
        [
            r.label,
            shown(r.shape),
            shown(r.printed_shape),
            shown(r.params),
            shown(r.printed_params),
            "; ".join(r.disagreements) or "agrees",
        ]
        for r in rows
    ]
    print(
        table(["method", "output shape", "seed printed", "params", "seed printed", "verdict"], body)
    )
    flagged = sum(bool(r.disagreements) for r in rows)
    print(f"{flagged} of {len(rows)} methods disagree with the seed")
    return 0


def build_parser() -> _Parser:
    parser = _Parser(
        prog="rnnspec", description="An executable specification of recurrent networks."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_methods(sub)
    check_cli.add_parsers(sub)
    claims_cli.add_parser(sub)
    peers_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:  # e.g. `rnnspec laws | head -3`: the reader has all it wants
        # stdout's remaining buffer would fail again at exit: send it nowhere instead
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
