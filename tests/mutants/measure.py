"""Measure the zoo: first failing law and time to it, full-check time, baseline detection.

Run from tests/: ``python -m mutants.measure [--markdown] [--first | --diagnosis] [NAME ...]``
(names: only those mutants).  Checks run at default settings (``rnnspec.check(factory,
kind, seed=0)``: 100 examples per law); ``--first`` stops after the runner's scouting passes
(``max(SCOUT_EXAMPLES)`` examples per law), which gives the same first failure, faster.
``--diagnosis`` runs only the diagnosed laws (rnnspec.run.diagnosis.DIAGNOSED_LAWS) and
tabulates, per mutant, the known bugs named on each failure's shrunk example.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import rnnspec.run.diagnosis
from mutants.baselines import constant_weight_case, fixed_random_case
from mutants.zoo import MUTANTS
from rnnspec import check
from rnnspec.run.plan import SCOUT_EXAMPLES
from rnnspec.text import markdown_table, table


def diagnoses(markdown: bool, names: list[str]) -> None:
    """Per mutant: the diagnosis of each failing diagnosed law, and the time it took."""
    spent: list[float] = []
    diagnose = rnnspec.run.diagnosis.diagnose

    def timed(*args: object) -> tuple[str, ...]:
        start = time.perf_counter()
        try:
            return diagnose(*args)  # type: ignore[arg-type]
        finally:
            spent.append(time.perf_counter() - start)

    rnnspec.run.diagnosis.diagnose = timed  # type: ignore[assignment]
    rows, named = [], 0
    chosen = [m for m in MUTANTS if not names or m.name in names]
    for mutant in chosen:
        before = len(spent)
        report = check(
            mutant.factory,
            mutant.kind,
            seed=0,
            scope=mutant.scope,
            laws=rnnspec.run.diagnosis.DIAGNOSED_LAWS,
        )
        found = [r for r in report.failed if r.diagnosis is not None]
        ids = sorted({i for r in found for i in r.diagnosis or ()})
        named += bool(ids)
        if ids:
            verdict = ", ".join(f"`{i}`" if markdown else i for i in ids)
        elif found:
            verdict = rnnspec.run.diagnosis.NO_MATCH
        else:
            verdict = "(passes " + " and ".join(rnnspec.run.diagnosis.DIAGNOSED_LAWS) + ")"
        cost = sum(spent[before:])
        rows.append([mutant.name, mutant.kind, verdict, f"{cost:.2f}s" if found else "-"])
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    header = ["mutant", "kind", "diagnosis on the shrunk example", "diagnosis time"]
    print((markdown_table if markdown else table)(header, rows))
    print()
    print(
        f"{named} of {len(chosen)} diagnosed by name; diagnosis time per failing law: "
        f"median {statistics.median(spent):.2f}s, max {max(spent):.2f}s "
        f"(torch {torch.__version__})"
    )


def main(markdown: bool, names: list[str], first_only: bool = False) -> None:
    rows, firsts, fulls = [], [], []
    caught = {"rnnspec": 0, "constant": 0, "random": 0}
    chosen = [m for m in MUTANTS if not names or m.name in names]
    for mutant in chosen:
        start = time.perf_counter()
        budget = max(SCOUT_EXAMPLES) if first_only else 100
        report = check(mutant.factory, mutant.kind, seed=0, scope=mutant.scope, max_examples=budget)
        full = time.perf_counter() - start
        failed = report.failed
        to_first = report.first_failure_seconds  # from the start of check
        constant, _ = constant_weight_case(mutant.factory, mutant.kind)
        random_, _ = fixed_random_case(mutant.factory, mutant.kind)
        caught["rnnspec"] += bool(failed)
        caught["constant"] += constant
        caught["random"] += random_
        if to_first is not None:
            firsts.append(to_first)
        fulls.append(full)
        rows.append(
            [
                mutant.name + (" (errors=True)" if mutant.scope else ""),
                mutant.kind,
                report.first_failed_law or "(none)",
                f"{to_first:.2f}s" if to_first is not None else "-",
                f"{full:.1f}s",
                str(len(failed)),
                "yes" if constant else "no",
                "yes" if random_ else "no",
            ]
        )
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    header = [
        "mutant",
        "kind",
        "first failing law",
        "to first failure",
        "first passes" if first_only else "full check",
        "laws failed",
        "constant-weight case",
        "fixed random case",
    ]
    print((markdown_table if markdown else table)(header, rows))
    n = len(chosen)
    print()
    print(
        f"detection: rnnspec.check {caught['rnnspec']}/{n}, constant-weight case "
        f"{caught['constant']}/{n}, fixed random case {caught['random']}/{n}"
    )
    print(
        f"time to first failure: median {statistics.median(firsts):.2f}s, max {max(firsts):.2f}s; "
        f"{'first passes' if first_only else 'full check'}: median "
        f"{statistics.median(fulls):.1f}s, max {max(fulls):.1f}s "
        f"(torch {torch.__version__}; check uses 1 intra-op thread)"
    )


if __name__ == "__main__":
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    mutant_names = [a for a in sys.argv[1:] if a not in flags]
    if "--diagnosis" in flags:
        diagnoses("--markdown" in flags, mutant_names)
    else:
        main("--markdown" in flags, mutant_names, "--first" in flags)
