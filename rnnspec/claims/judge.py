"""Judging the ledger: each claim's check run against one shared :class:`Context`."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence

from rnnspec.bench import timing as bench
from rnnspec.claims.ledger import CLAIMS
from rnnspec.claims.model import ADVICE, ERROR, Claim, ClaimResult, Context, Outcome

__all__ = ["all_claims", "run_claims"]


def all_claims() -> tuple[Claim, ...]:
    return CLAIMS


def run_claims(
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
    *,
    context: Context | None = None,
    claims: Sequence[Claim] | None = None,
    threads: int | None = None,
) -> list[ClaimResult]:
    """Check every claim (or ``claims``) and return the results in ledger order."""
    ctx = context or Context(quick=quick)
    if progress is not None:
        ctx.progress = progress
    todo = all_claims() if claims is None else tuple(claims)
    results = []
    with bench.threads(threads):
        for i, claim in enumerate(todo, 1):
            ctx.progress(f"[{i}/{len(todo)}] {claim.id}")
            results.append(ClaimResult(claim, _judge(claim, ctx)))
    return results


def _judge(claim: Claim, ctx: Context) -> Outcome:
    if claim.check is None:
        return Outcome(ADVICE, "-", "A recommendation, not a checkable statement: " + claim.reading)
    try:
        return claim.check(ctx)
    except Exception as exc:  # a failing check is reported, not fatal to the ledger
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        print(traceback.format_exc(), file=sys.stderr)
        return Outcome(ERROR, "check failed", f"the check raised {last}")
