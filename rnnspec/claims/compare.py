"""The speed claims side by side across devices, rendered from saved ledgers (no measuring).

``rnnspec claims --compare cpu.json cuda.json [--plot DIR]`` reads ledgers written by
``rnnspec claims --json`` on different machines and prints, as Markdown, each speed claim's
verdict per device and the seed loop's slowdown against nn.RNN by sequence length; with
``--plot`` it also draws that slowdown against sequence length, one line per device.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnspec.claims.plots import SPEED_CLAIM, figure_class, plain_log_ticks
from rnnspec.text import markdown_table

__all__ = ["Ledger", "compare_markdown", "load_ledger", "ratio_by_device_figure"]

Ledger = Mapping[str, Any]
"""A ledger as ``rnnspec claims --json`` writes it: ``{"meta": ..., "claims": [...]}``."""


def load_ledger(path: str | Path) -> Ledger:
    """Read a ledger; a ValueError names the file when it is not one."""
    try:
        ledger = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable ledger ({exc})") from None
    if not isinstance(ledger, dict) or not {"meta", "claims"} <= set(ledger):
        raise ValueError(f"{path}: not a ledger written by `rnnspec claims --json`")
    return ledger


def _device(ledger: Ledger) -> str:
    """The short device name: the ledger's device description up to its first bracket."""
    return str(ledger["meta"]["device"]).split(" (", 1)[0]


def _by_length(ledger: Ledger) -> dict[int, dict[str, float]]:
    """Loop / nn.RNN forward ratios by sequence length, at the seed's batch and hidden sizes."""
    claim = next((c for c in ledger["claims"] if c["id"] == SPEED_CLAIM), None)
    if claim is None or "sweep" not in claim["data"]:
        return {}
    base = claim["data"]["sizes"]
    found = {}
    for point in claim["data"]["sweep"]:
        sizes = point["sizes"]
        if (sizes["batch_size"], sizes["hidden_size"]) == (base["batch_size"], base["hidden_size"]):
            found[sizes["seq_len"]] = {n: r["median"] for n, r in point["ratios"].items()}
    return dict(sorted(found.items()))


def compare_markdown(ledgers: Sequence[Ledger]) -> str:
    """Each speed claim's verdict per ledger, then the seed loop's slowdown by length."""
    devices = [_device(ledger) for ledger in ledgers]
    speed = [c for c in ledgers[0]["claims"] if c["kind"] == "speed"]
    by_id = [{c["id"]: c for c in ledger["claims"]} for ledger in ledgers]
    rows = []
    for claim in speed:
        row = [f"`{claim['id']}`", claim["quote"]]
        for claims in by_id:
            other = claims.get(claim["id"])
            measured = str(other["measured"]).split(": ", 1)[-1] if other else ""
            row.append(f"{measured} (**{other['verdict']}**)" if other else "-")
        rows.append(row)
    lines = ["Measured on:", ""]
    lines += [f"- {d}: {ledger['meta']['device']}; {ledger['meta']['clock']} clock"
              + (" (--quick)" if ledger["meta"].get("quick") else "")
              for d, ledger in zip(devices, ledgers, strict=True)]  # fmt: skip
    lines += ["", markdown_table(["claim", "the seed says", *devices], rows), ""]
    curves = [_by_length(ledger) for ledger in ledgers]
    lengths = sorted({n for curve in curves for n in curve})
    if lengths:
        header = ["T", *(f"{d}: seed loop / nn.RNN" for d in devices)]
        header += [f"{d}: premul loop / nn.RNN" for d in devices]
        table = []
        for n in lengths:
            cells = [str(n)]
            for name in ("naive", "premul"):
                cells += [f"{c[n][name]:.2f}x" if n in c else "-" for c in curves]
            table.append(cells)
        lines.append("Forward time of a Python loop over nn.RNN's, by sequence length "
                     "(batch and hidden at the seed's sizes):")  # fmt: skip
        lines += ["", markdown_table(header, table)]
    return "\n".join(lines)


def ratio_by_device_figure(ledgers: Sequence[Ledger], path: str | Path) -> Path:
    """The seed loop's (and the premul loop's) slowdown against length, a line per device."""
    figure = figure_class()(figsize=(6.4, 4.2))
    ax = figure.add_subplot()
    ax.axhspan(10, 50, color="0.9", label='the seed\'s "10-50x"')
    for ledger, style in zip(ledgers, ("-", "--", ":", "-."), strict=False):
        curve = _by_length(ledger)
        lengths = list(curve)
        for name, marker in (("naive", "o"), ("premul", "s")):
            label = f"{_device(ledger)}: {'seed loop' if name == 'naive' else 'premul loop'}"
            ax.plot(lengths, [curve[n][name] for n in lengths], style, marker=marker, label=label)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T (batch 32, input 50, hidden 128)")
    ax.set_ylabel("forward time / nn.RNN's")
    plain_log_ticks(ax)
    ax.legend(fontsize=7)
    ax.set_title("How much slower a Python loop is than nn.RNN, by device", fontsize=9)
    figure.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    return out
