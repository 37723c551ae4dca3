"""The speed and gradient checks of the claims ledger: verdicts from measured numbers.

Speed verdicts are ``holds here`` / ``refuted here``: they come from ratios of timings made
side by side in one run (:func:`rnnspec.bench.timing.measure`), with the sizes, the device and the
torch version in the evidence.  Gradient verdicts are ``holds`` / ``refuted``: they are maths
at torch's default initialisation, the same on every machine.  Each rule is stated in the
evidence it produces.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnspec.bench import timing as bench
from rnnspec.bench.gradients import GradientCurve
from rnnspec.claims.model import HOLDS, HOLDS_HERE, REFUTED, REFUTED_HERE, Context, Outcome

__all__ = [
    "BETTER",
    "FASTER",
    "VANISHED",
    "faster",
    "gated_better",
    "holds_from",
    "manual_speed",
    "python_loop_speed",
    "ratio_near",
    "stacked_speed",
    "vanishes",
]

FASTER = 1.05
"""A side counts as faster only if the other takes at least this many times as long."""
VANISHED = 1e-3
"""A gradient has vanished when its norm at the longest length is below this fraction of its
norm at the shortest."""
BETTER = 10.0
"""A gated cell keeps long-range gradients 'better' when its norm is at least this many times
the plain RNN's at the longest length."""


# --- speed ---------------------------------------------------------------------------------


def _where(t: bench.Timings) -> str:
    clock = "wall-clock time" if t.clock == "wall" else "process CPU time"
    return f"At {bench.sizes_label(t.sizes)}; {t.device}; {clock}."


def _ratios(t: bench.Timings, baseline: str) -> dict[str, dict[str, float | int]]:
    return {name: t.ratio(name, baseline).as_dict() for name in t.seconds if name != baseline}


def _device_type(t: bench.Timings) -> str:
    """``cpu`` or ``cuda``: the first word of the timings' device description."""
    return t.device.split(" ", 1)[0]


def holds_from(points: list[tuple[int, float]], low: float) -> int | None:
    """The smallest length from which every ratio in ``points`` (length, ratio) is >= ``low``."""
    start = None
    for length, ratio in sorted(points):
        if ratio < low:
            start = None
        elif start is None:
            start = length
    return start


def manual_speed(low: float, high: float | None) -> Callable[[Context], Outcome]:
    """nn.RNN's forward against the seed's loop: holds here if the ratio is in [low, high].

    The verdict is taken at the seed's sizes; the evidence adds the range over the sweep and
    the sequence length from which the seed's figure (at least ``low``) holds.
    """

    def check(ctx: Context) -> Outcome:
        t = ctx.timings("manual-forward")
        naive, premul, scripted = (t.ratio(n, "nn.RNN") for n in ("naive", "premul", "scripted"))
        train = ctx.timings("manual-train").ratio("naive", "nn.RNN")
        sweep = [t, *(ctx.timings("manual-forward", s) for s in ctx.sweep())]
        across = [s.ratio("naive", "nn.RNN").median for s in sweep]
        by_length = [(s.sizes.seq_len, r) for s, r in zip(sweep, across, strict=True)
                     if (s.sizes.batch_size, s.sizes.hidden_size)
                     == (t.sizes.batch_size, t.sizes.hidden_size)]  # fmt: skip
        start = holds_from(by_length, low)
        lengths = sorted(n for n, _ in by_length)
        where = (
            f"at least {low:g}x from T={start} on (up to T={lengths[-1]})"
            if start is not None
            else f"below {low:g}x at T={lengths[-1]}, the longest measured"
        )
        ok = low <= naive.median and (high is None or naive.median <= high)
        wanted = f"{low:g}-{high:g}x" if high is not None else f"at least {low:g}x"
        device = _device_type(t)
        return Outcome(
            HOLDS_HERE if ok else REFUTED_HERE,
            f"{device}: naive {naive.median:.2f}x, premul {premul.median:.2f}x, "
            f"scripted {scripted.median:.2f}x; {where}",
            f"Rule: holds here if the seed's ManualRNN loop takes {wanted} as long as nn.RNN "
            f"(forward, median of interleaved per-repeat ratios) at the seed's sizes. Measured "
            f"on {device}: naive loop {naive}; premul loop (input projections in one matmul) "
            f"{premul}; the same scripted with TorchScript {scripted}; training step "
            f"naive/nn.RNN {train}. Over {len(sweep)} sizes (sequence length, batch, hidden) "
            f"naive/nn.RNN ranged {min(across):.2f}-{max(across):.2f}x; by sequence length "
            f"({', '.join(f'T={n}: {r:.1f}x' for n, r in sorted(by_length))}) it is {where}. "
            f"{_where(t)}",
            {
                "ratios": _ratios(t, "nn.RNN"),
                "train": train.as_dict(),
                "sizes": vars(t.sizes),
                "device": t.device,
                "device_type": device,
                "clock": t.clock,
                "range": [min(across), max(across)],
                "holds_from_seq_len": start,
                "sweep": [{**s.as_dict(), "ratios": _ratios(s, "nn.RNN")} for s in sweep],
            },
        )

    return check


def python_loop_speed(ctx: Context) -> Outcome:
    """Is the seed's loop slower, and is the Python loop the reason? (Training too.)"""
    t = ctx.timings("manual-forward")
    naive, premul = t.ratio("naive", "nn.RNN"), t.ratio("premul", "nn.RNN")
    slower, loop_costs = naive.median >= FASTER, premul.median >= FASTER
    if slower and not loop_costs:
        why = (
            "a Python loop with the input projections hoisted is no slower than nn.RNN, so the "
            "cost is the seed's per-step concatenation and its two Linear layers per step (the "
            "input projection among them), not the loop"
        )
    elif slower:
        why = "both Python loops are slower than nn.RNN"
    else:
        why = "the seed's loop is not slower than nn.RNN here"
    trains = [ctx.timings("manual-train", s) for s in (ctx.sizes, *ctx.train_sweep())]
    training = "; ".join(
        f"T={s.sizes.seq_len}: "
        + ", ".join(f"{n} {s.ratio(n, 'nn.RNN').median:.2f}x" for n in s.seconds if n != "nn.RNN")
        for s in trains
    )
    return Outcome(
        HOLDS_HERE if slower and loop_costs else REFUTED_HERE,
        f"{_device_type(t)}: naive {naive.median:.2f}x, premul {premul.median:.2f}x",
        f"Rule: holds here if the seed's loop is slower than nn.RNN (ratio >= {FASTER}) and a "
        f"Python loop doing only the recurrence (premul) is slower too. Measured naive/nn.RNN "
        f"{naive}, premul/nn.RNN {premul}: {why}. A training step (forward, backward) over "
        f"nn.RNN's, by length: {training}. {_where(t)}",
        {
            "ratios": _ratios(t, "nn.RNN"),
            "train": [{**s.as_dict(), "ratios": _ratios(s, "nn.RNN")} for s in trains],
        },
    )


def ratio_near(
    group: str, slow: str, fast: str, target: float, *, tolerance: float = 0.25, also: str = ""
) -> Callable[[Context], Outcome]:
    """Holds here if ``slow`` takes ``target`` times as long as ``fast``, within ``tolerance``."""

    def check(ctx: Context) -> Outcome:
        t = ctx.timings(group)
        r = t.ratio(slow, fast)
        low, high = target * (1 - tolerance), target * (1 + tolerance)
        extra = ""
        if also:
            extra = f" {also}: {ctx.timings(also).ratio(slow, fast)}."
        return Outcome(
            HOLDS_HERE if low <= r.median <= high else REFUTED_HERE,
            f"{_device_type(t)}: {slow}/{fast} {r.median:.2f}x",
            f"Rule: holds here if {slow} takes {low:.2f}-{high:.2f}x as long as {fast} "
            f"({target:g}x within {tolerance:.0%}). Measured {group}: {r}.{extra} {_where(t)}",
            {"ratio": r.as_dict(), "sizes": vars(t.sizes), "device": t.device},
        )

    return check


def faster(group: str, slow: str, fast: str, *, also: str = "") -> Callable[[Context], Outcome]:
    """Holds here if ``fast`` is faster than ``slow`` by at least the noise margin."""

    def check(ctx: Context) -> Outcome:
        t = ctx.timings(group)
        r = t.ratio(slow, fast)
        extra = f" {also}: {slow}/{fast} {ctx.timings(also).ratio(slow, fast)}." if also else ""
        return Outcome(
            HOLDS_HERE if r.median >= FASTER else REFUTED_HERE,
            f"{_device_type(t)}: {slow}/{fast} {r.median:.2f}x",
            f"Rule: holds here if {slow} takes at least {FASTER}x as long as {fast}. "
            f"Measured {group}: {slow}/{fast} {r}.{extra} {_where(t)}",
            {"ratio": r.as_dict(), "sizes": vars(t.sizes), "device": t.device},
        )

    return check


def stacked_speed(ctx: Context) -> Outcome:
    """Each added layer must make a training step slower."""
    t = ctx.timings("stacked-train")
    names = list(t.seconds)
    steps = [t.ratio(b, a) for a, b in zip(names, names[1:], strict=False)]
    ok = all(r.median >= FASTER for r in steps)
    per_layer = ", ".join(
        f"{b}/{a} {r.median:.2f}x" for a, b, r in zip(names, names[1:], steps, strict=False)
    )
    times = ", ".join(f"{n} {t.median(n) * 1e3:.2f} ms" for n in names)
    return Outcome(
        HOLDS_HERE if ok else REFUTED_HERE,
        f"{_device_type(t)}: 4/1 layers {t.ratio(names[-1], names[0]).median:.2f}x",
        f"Rule: holds here if each added layer makes a training step at least {FASTER}x "
        f"slower. Measured {per_layer} (medians {times}). {_where(t)}",
        {"ratios": _ratios(t, names[0]), "median_seconds": t.as_dict()["median_seconds"]},
    )


# --- gradients -----------------------------------------------------------------------------


def _curve_text(curves: dict[str, GradientCurve]) -> str:
    parts = []
    for kind, c in curves.items():
        norms = ", ".join(f"T={n}: {c.median(n):.1e}" for n in c.lengths)
        parts.append(f"{kind} [{norms}] (x{c.decay_per_step():.2f} per step)")
    return "; ".join(parts)


def _gradient_outcome(ok: bool, measured: str, rule: str, ctx: Context) -> Outcome:
    curves = ctx.gradients()
    seeds = ctx.plan.gradient_seeds
    return Outcome(
        HOLDS if ok else REFUTED,
        measured,
        f"Rule: {rule}. Median over {seeds} seeds of ||d h_T / d x_1|| (Frobenius, float64) "
        f"for single-layer models at default initialisation, input {ctx.sizes.input_size}, "
        f"hidden {ctx.sizes.hidden_size}: {_curve_text(curves)}.",
        {"curves": [c.as_dict() for c in curves.values()], "vanished_below": VANISHED},
    )


def _drop(curve: GradientCurve) -> float:
    return curve.median(curve.lengths[-1]) / curve.median(curve.lengths[0])


def vanishes(kind: str, expected: bool) -> Callable[[Context], Outcome]:
    """The claim holds if ``kind``'s gradient vanishes (``expected``) or does not."""

    def check(ctx: Context) -> Outcome:
        c = ctx.gradients()[kind]
        first, last = c.lengths[0], c.lengths[-1]
        drop = _drop(c)
        gone = drop < VANISHED
        rule = (
            f"{kind}'s gradient has vanished if its norm at T={last} is below "
            f"{VANISHED:g} of its norm at T={first}; the claim says it "
            f"{'does' if expected else 'does not'}"
        )
        measured = f"{kind} T={first}->{last}: {c.median(first):.1e} -> {c.median(last):.1e}"
        return _gradient_outcome(gone == expected, measured, rule, ctx)

    return check


def gated_better(ctx: Context) -> Outcome:
    curves = ctx.gradients()
    last = curves["RNN"].lengths[-1]
    plain = curves["RNN"].median(last)
    gains = {k: curves[k].median(last) / plain for k in ("LSTM", "GRU")}
    rule = f"LSTM's and GRU's norms at T={last} are each at least {BETTER:g}x the plain RNN's"
    measured = ", ".join(f"{k}/RNN at T={last}: {g:.1e}x" for k, g in gains.items())
    return _gradient_outcome(all(g >= BETTER for g in gains.values()), measured, rule, ctx)
