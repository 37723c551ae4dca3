"""``rnnspec check`` and ``rnnspec laws``: the conformance checker's command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from rnnspec.cli.options import (
    DEFAULT_RUN_EXAMPLES,
    UsageError,
    add_options,
    load_object,
    parse_laws,
    positive_int,
)
from rnnspec.config import KINDS, MAX_EXAMPLES, class_name, module_class

__all__ = ["add_parsers"]


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="run the laws against an implementation (default: torch's own modules and the seed)",
        description="Run rnnspec's laws against TARGET, a factory given as MODULE:FACTORY that "
        "builds a candidate from a torch nn.RNN/nn.LSTM/nn.GRU. Without TARGET, check torch's "
        "own modules on every device present and the seed's methods. Exit 0 when every law "
        "passed, 1 when one failed, 2 on a usage error.",
    )
    p.add_argument("target", nargs="?", metavar="MODULE:FACTORY", help="the factory to check")
    add_options(p.add_argument)
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="run laws in N worker processes side by side (implies --isolate; default 1)",
    )
    p.add_argument("--json", metavar="PATH", help="also write the report(s) as JSON to PATH")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument(
        "--modes",
        nargs="?",
        const="default",
        metavar="NAME,NAME",
        help="check torch against itself: every execution mode (jit, compile, export, "
        "quantized, oneDNN off, devices) x rnn/lstm/gru, as a matrix (default: the default "
        "modes; 'all' adds the opt-in ones); see rnnspec.modes.table",
    )
    p.set_defaults(handler=_run_check)

    laws = sub.add_parser("laws", help="print the table of laws (id, sentence, kinds)")
    laws.add_argument("--markdown", action="store_true", help="as a Markdown table")
    laws.set_defaults(handler=_run_laws)


def _progress(quiet: bool, parallel: bool) -> Any:
    """Print each law as it runs, on stderr; laws run side by side get one line when done."""

    def report(law_id: str, result: Any) -> None:
        if quiet:
            return
        if parallel:
            if result is not None:
                print(f"  {law_id} {result.status} ({result.seconds:.1f}s)", file=sys.stderr)
        elif result is None:
            print(f"  {law_id} ...", end="", file=sys.stderr, flush=True)
        else:
            print(f" {result.status} ({result.seconds:.1f}s)", file=sys.stderr, flush=True)

    return report


def _run_check(args: argparse.Namespace) -> int:
    if args.modes is not None:
        from rnnspec.cli.modes import cli

        return cli(args)
    reports: list[Any] = []
    interrupted = False
    try:
        plans = _target_plans(args) if args.target else _default_plans(args)
        for banner, plan in plans:
            print(banner, file=sys.stderr)
            reports.append(_run(plan, args))
    except UsageError as exc:
        print(f"rnnspec check: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C: report what ran, as pytest does
        interrupted = True
        report = getattr(exc, "report", None)  # a RunInterrupted's partial report
        if report is not None:
            reports.append(report)
        print(file=sys.stderr)
    for report in reports:
        print(report.summary())
        print()
    if args.json:
        payload = [r.as_dict() for r in reports]
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload[0] if len(payload) == 1 else payload, handle, indent=2)
    failed = [r for r in reports if not r.ok]
    if interrupted:
        print(f"rnnspec check: interrupted (Ctrl-C) after {len(reports)} report(s)")
        # The law that ran in this process was left running on its thread, perhaps inside
        # torch's C++ code, which aborts the interpreter's shutdown ("terminate called
        # without an active exception"): the report is written, so end here, as Ctrl-C does.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    verdict = (
        "every law passed" if not failed else f"{len(failed)} of {len(reports)} subjects failed"
    )
    print(f"rnnspec check: {verdict}")
    return 1 if failed else 0


def _run(plan: Any, args: argparse.Namespace) -> Any:
    from rnnspec.run.checker import run_plan

    parallel = plan.isolation is not None and plan.isolation.workers > 1
    return run_plan(plan, _progress(args.quiet, parallel))


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_examples": args.max_examples or MAX_EXAMPLES,
        "seed": args.seed,
        "laws": parse_laws(args.laws),
        "isolate": args.isolate,
        "workers": args.workers,
        "max_memory": args.max_memory,
    }


def _target_plans(args: argparse.Namespace) -> list[tuple[str, Any]]:
    factory = load_object(args.target, "the factory")
    if args.kind is None:
        raise UsageError("--kind is required with a target (rnn, lstm or gru)")
    scope = load_object(args.scope, "--scope") if args.scope else None
    from rnnspec.run.checker import resolve

    try:  # the one door: it validates all of it, as for rnnspec.check()
        plan = resolve(factory, args.kind, scope=scope, deadline=args.deadline, **_common(args))
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    if plan.misspelled_scope:  # one line, where check() warns
        print(f"rnnspec check: warning: {plan.misspelled_scope}", file=sys.stderr)
    return [(f"checking {args.target} as {args.kind}", plan)]


def _default_plans(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """torch's nn.RNN / nn.LSTM / nn.GRU on every device present, then the seed's methods."""
    if args.scope:
        raise UsageError("--scope needs a target")
    from rnnspec.devices import available_devices
    from rnnspec.run.candidates import SEED_SUBJECT, torch_module
    from rnnspec.run.checker import plan_subject, resolve
    from rnnspec.scope import Scope

    common = _common(args)
    if args.max_examples is None:
        common["max_examples"] = DEFAULT_RUN_EXAMPLES
    scope = Scope(devices=available_devices(), errors=True)
    kinds = (args.kind,) if args.kind else KINDS
    try:  # every plan first: a bad value is a usage error before anything runs
        plans = [
            resolve(
                torch_module,
                kind,
                scope=scope,
                name=f"torch nn.{class_name(kind)}",
                constructor=module_class(kind),
                deadline=None,  # torch's own modules get no per-call deadline
                **common,
            )
            for kind in kinds
        ]
        if not args.kind:
            plans.append(plan_subject(SEED_SUBJECT, **common))
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    on = ", ".join(scope.devices)
    return [
        (
            "checking the seed's methods"
            if plan.subject is SEED_SUBJECT
            else f"checking {plan.subject.name} on {on}",
            plan,
        )
        for plan in plans
    ]


def _run_laws(args: argparse.Namespace) -> int:
    from rnnspec.laws import LAWS
    from rnnspec.text import markdown_table, table

    rows = [[law.id, law.sentence, ", ".join(law.kinds)] for law in LAWS.values()]
    render = markdown_table if args.markdown else table
    print(render(["law", "the sentence", "kinds"], rows))
    return 0
