"""The ``rnnspec claims`` subcommand: run the claims ledger, print it, save it, plot it.

Only the argument parser is built at import time; torch and the ledger load when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rnnspec.cli.options import positive_int

if TYPE_CHECKING:
    from rnnspec.claims.model import ClaimResult

__all__ = ["add_parser", "markdown_ledger", "text_ledger"]

_SIZE_DEFAULTS = {"batch_size": 32, "seq_len": 10, "input_size": 50, "hidden_size": 128}
"""The seed's sizes (rnnspec.seed.methods.SEED_SIZES), spelled out so --help needs no torch."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``claims`` on ``subparsers`` (made by the one-line-error parser of cli.main)."""
    p = subparsers.add_parser(
        "claims",
        help="check the seed's claims: shapes, parameters, structure, speed, gradients",
        description="Run every checkable sentence of the seed notebook and print a ledger: "
        "what the seed says, what was measured here, and a verdict (holds / refuted; "
        "holds here / refuted here for speed; advice for what cannot be checked). "
        "Progress goes to stderr.",
    )
    p.add_argument("--json", metavar="PATH", help="also write the ledger as JSON to PATH")
    p.add_argument(
        "--compare",
        nargs="+",
        metavar="LEDGER",
        help="measure nothing: print the speed claims of saved ledgers (from --json, e.g. one "
        "per device) side by side as Markdown; with --plot, draw the loop/nn.RNN ratio by "
        "sequence length per ledger",
    )
    p.add_argument("--markdown", action="store_true", help="print a Markdown table and evidence")
    p.add_argument("--quick", action="store_true", help="fewer repeats and sizes: faster, noisier")
    p.add_argument("--plot", metavar="DIR", help="write PNG figures to DIR (needs rnnspec[plot])")
    p.add_argument("--device", default="cpu", help="where speed is measured: cpu or cuda[:N]")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch intra-op threads while measuring (default 1: tiny RNN matmuls gain little "
        "from more, and several threads on a busy machine distort the timings)",
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (default); cpu: process CPU time, robust on a shared machine "
        "(use with --threads 1; CPU device only)",
    )
    for field, default in _SIZE_DEFAULTS.items():
        p.add_argument(
            "--" + field.replace("_", "-"),
            type=positive_int,
            default=default,
            help=f"size for the speed claims (default {default}, the seed's)",
        )
    p.set_defaults(handler=lambda args: _run(args, p))


def _progress(start: float) -> Callable[[str], None]:
    def report(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from rnnspec.claims.compare import compare_markdown, load_ledger, ratio_by_device_figure

    try:
        ledgers = [load_ledger(path) for path in args.compare]
    except ValueError as exc:
        parser.error(f"--compare: {exc}")
    print(compare_markdown(ledgers))
    if args.plot is not None:
        path = ratio_by_device_figure(ledgers, Path(args.plot) / "speed-ratio-by-device.png")
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: install rnnspec[plot]")
    if args.compare:
        return _compare(args, parser)
    import torch

    from rnnspec.bench import timing as bench
    from rnnspec.claims.judge import run_claims
    from rnnspec.claims.model import Context
    from rnnspec.seed.methods import SEED_SIZES, Sizes

    try:
        device = torch.device(args.device)
    except RuntimeError:
        parser.error(f"--device: not a torch device: {args.device!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available in this torch build / machine")
    if device.type not in ("cpu", "cuda"):
        parser.error(f"--device: expected cpu or cuda, got {args.device!r}")
    if args.clock == "cpu" and device.type != "cpu":
        parser.error("--clock cpu: only for --device cpu; CUDA is timed by the wall clock")
    sizes = Sizes(
        args.batch_size, args.seq_len, args.input_size, args.hidden_size, SEED_SIZES.output_size
    )
    start = time.perf_counter()
    ctx = Context(
        quick=args.quick,
        sizes=sizes,
        device=device,
        progress=_progress(start),
        clock=args.clock,
    )
    results = run_claims(args.quick, context=ctx, threads=args.threads)
    ctx.progress(f"done: {len(results)} claims")
    with bench.threads(args.threads):
        meta = ctx.describe()
    meta["seconds"] = round(time.perf_counter() - start, 1)
    print(markdown_ledger(results, meta) if args.markdown else text_ledger(results, meta))
    dicts = [r.as_dict() for r in results]
    if args.json is not None:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "claims": dicts}, indent=2) + "\n", encoding="utf-8"
        )
        ctx.progress(f"wrote {args.json}")
    if args.plot is not None:
        from rnnspec.claims.plots import write_figures

        for path in write_figures(dicts, args.plot):
            ctx.progress(f"wrote {path}")
    return 1 if any(r.verdict == "error" for r in results) else 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _tally(results: Sequence[ClaimResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items())


def _header(meta: dict[str, object]) -> str:
    sizes = meta["sizes"]
    assert isinstance(sizes, dict)
    at = ", ".join(f"{k} {v}" for k, v in sizes.items())
    quick = " (--quick)" if meta["quick"] else ""
    return (
        f"Measured on {meta['device']}; {meta['platform']}, Python {meta['python']}. "
        f"Speed at {at}{quick}, {meta['clock']} clock; the run took {meta['seconds']} s."
    )


def _name(r: ClaimResult) -> str:
    return f"{r.claim.id} (erratum)" if r.claim.erratum else r.claim.id


def text_ledger(results: Sequence[ClaimResult], meta: dict[str, object]) -> str:
    """The ledger as a plain-text table for the terminal."""
    from rnnspec.text import table

    rows = [
        [_name(r), _clip(r.claim.quote, 44), _clip(r.outcome.measured, 52), r.verdict]
        for r in results
    ]
    body = table(["claim", "the seed says", "measured", "verdict"], rows)
    return f"{_header(meta)}\n{body}\n{len(results)} claims: {_tally(results)}"


def _quoted(quote: str) -> str:
    """Printed output and code stay verbatim (spaces kept) in a code span; prose stays prose."""
    code = "  " in quote or "torch.Size" in quote or quote.startswith("nn.")
    return f"`{quote}`" if code else quote


def markdown_ledger(results: Sequence[ClaimResult], meta: dict[str, object]) -> str:
    """The ledger as a Markdown table, followed by each claim's reading and evidence."""
    from rnnspec.text import markdown_table

    rows = [
        [f"`{_name(r)}`", _quoted(r.claim.quote), r.outcome.measured, f"**{r.verdict}**"]
        for r in results
    ]
    lines = [
        _header(meta),
        "",
        markdown_table(["claim", "the seed says", "measured", "verdict"], rows),
        "",
        f"{len(results)} claims: {_tally(results)}.",
        "",
        "### Evidence",
        "",
    ]
    for r in results:
        if r.claim.kind == "advice":
            continue
        extra = [f"law `{r.claim.law}`"] if r.claim.law else []
        extra += [f"erratum `{r.claim.erratum}`"] if r.claim.erratum else []
        tags = f" ({', '.join(extra)})" if extra else ""
        lines.append(
            f"- `{r.claim.id}` [{r.claim.kind}]{tags}: read as: {r.claim.reading}. "
            f"{r.outcome.evidence}"
        )
    return "\n".join(lines)
