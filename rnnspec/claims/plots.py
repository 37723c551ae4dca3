"""Figures of the measured claims, drawn from the ledger's results (or its JSON).

matplotlib is an optional extra (``pip install rnnspec[plot]``) and is imported only when a
figure is drawn.  The figures use matplotlib's object API (no pyplot, no global backend).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnspec.errors import MissingMatplotlib  # its home; imported from here too

__all__ = ["MissingMatplotlib", "figure_class", "figure_data", "plain_log_ticks", "write_figures"]

SPEED_CLAIM = "manual-10-50x"
GRADIENT_CLAIM = "lstm-solves-vanishing"
_METHODS = ("naive", "premul", "scripted", "nn.RNN")


def figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingMatplotlib("plots need matplotlib: install rnnspec[plot]") from None
    return Figure


def figure_data(claims: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The ``data`` of the claims the figures draw, by claim id (from results' ``as_dict``)."""
    return {c["id"]: c["data"] for c in claims if c["id"] in (SPEED_CLAIM, GRADIENT_CLAIM)}


def _point_label(sizes: Mapping[str, int], base: Mapping[str, int]) -> str:
    changed = [k for k in ("seq_len", "batch_size", "hidden_size") if sizes[k] != base[k]]
    names = {"seq_len": "T", "batch_size": "B", "hidden_size": "H"}
    if not changed:
        return f"seed\nT={sizes['seq_len']}"
    return "\n".join(f"{names[k]}={sizes[k]}" for k in changed)


def _stamp(ax: Any, data: Mapping[str, Any]) -> None:
    """Say in small print where and by which clock the numbers were measured."""
    clock = data.get("clock") or data["sweep"][0].get("clock", "wall")
    text = f"{data['device']}; {clock} clock"
    ax.text(0.01, 0.99, text, transform=ax.transAxes, fontsize=6, alpha=0.7, va="top")


def plain_log_ticks(ax: Any) -> None:
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))


def _time_vs_length(figure_cls: Any, data: Mapping[str, Any], path: Path) -> Path:
    base = data["sizes"]
    points = [
        p
        for p in data["sweep"]
        if all(p["sizes"][k] == base[k] for k in ("batch_size", "hidden_size", "input_size"))
    ]
    points.sort(key=lambda p: p["sizes"]["seq_len"])
    fig = figure_cls(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    lengths = [p["sizes"]["seq_len"] for p in points]
    for method in _METHODS:
        ms = [p["median_seconds"][method] * 1e3 for p in points]
        ax.plot(lengths, ms, marker="o", label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("forward time per batch (ms, median)")
    ax.set_title(
        f"Forward time vs length (batch {base['batch_size']}, hidden {base['hidden_size']})"
    )
    ax.legend(loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    plain_log_ticks(ax)
    _stamp(ax, data)
    fig.savefig(path, dpi=120)
    return path


def _ratio_vs_size(figure_cls: Any, data: Mapping[str, Any], path: Path) -> Path:
    base = data["sizes"]
    points = data["sweep"]
    fig = figure_cls(figsize=(7.2, 4.2), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / 3
    for i, method in enumerate(("naive", "premul", "scripted")):
        xs = [j + (i - 1) * width for j in range(len(points))]
        ys = [p["ratios"][method]["median"] for p in points]
        lows = [y - p["ratios"][method]["q1"] for y, p in zip(ys, points, strict=True)]
        highs = [p["ratios"][method]["q3"] - y for y, p in zip(ys, points, strict=True)]
        ax.bar(xs, ys, width, yerr=[lows, highs], capsize=2, label=f"{method} / nn.RNN")
    ax.axhspan(10, 50, color="tab:red", alpha=0.12, label="seed's claim: 10-50x")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(points)), [_point_label(p["sizes"], base) for p in points])
    ax.set_ylabel("time / nn.RNN time (median, IQR)")
    ax.set_title("Hand-written loops vs nn.RNN, forward")
    ax.legend(fontsize=8)
    plain_log_ticks(ax)
    _stamp(ax, data)
    fig.savefig(path, dpi=120)
    return path


def _gradient_vs_length(figure_cls: Any, data: Mapping[str, Any], path: Path) -> Path:
    fig = figure_cls(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for curve in data["curves"]:
        lengths = curve["lengths"]
        medians = [sorted(n)[len(n) // 2] for n in curve["norms"]]
        ax.plot(lengths, medians, marker="o", label=curve["kind"])
        ax.fill_between(
            lengths, [min(n) for n in curve["norms"]], [max(n) for n in curve["norms"]], alpha=0.2
        )
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("||d h_T / d x_1|| (float64)")
    ax.set_title("Gradient of the last state w.r.t. the first input, default init")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120)
    return path


def write_figures(claims: Sequence[Mapping[str, Any]], directory: str | Path) -> list[Path]:
    """Write the PNG figures for the measured claims present in ``claims``; return their paths.

    ``claims`` are result dictionaries (``ClaimResult.as_dict()`` or the ``claims`` list of
    ``rnnspec claims --json``).  Raises :class:`MissingMatplotlib` without matplotlib.
    """
    figure_cls = figure_class()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = figure_data(claims)
    written = []
    if SPEED_CLAIM in data:
        speed = data[SPEED_CLAIM]
        written.append(_time_vs_length(figure_cls, speed, out / "time-vs-seq-len.png"))
        written.append(_ratio_vs_size(figure_cls, speed, out / "speed-ratio-vs-size.png"))
    if GRADIENT_CLAIM in data:
        path = out / "gradient-norm-vs-length.png"
        written.append(_gradient_vs_length(figure_cls, data[GRADIENT_CLAIM], path))
    return written
