"""A NumPy float64 implementation of RNN / LSTM / GRU, independent of torch.

The spec must not only check torch against itself: this oracle takes plain NumPy
arrays (weights by their ``state_dict`` names, a time-first input) and computes
the recurrences with nothing from torch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from rnnspec.config import gate_count

__all__ = ["oracle_forward"]

Array = NDArray[np.float64]


def _sigmoid(v: Array) -> Array:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * v)))  # exact identity, no overflow


def _run(
    kind: str, nonlinearity: str, x: Array, h: Array, c: Array, w: Mapping[str, Array], order: range
) -> tuple[Array, Array, Array]:
    """One layer-direction over the steps in ``order``: ``(output, h, c)``.

    The input's part of every step is one product (it does not depend on the state).
    """
    gi = x @ w["ih"].T + w.get("bias_ih", 0.0)  # (T, B, gates)
    out = np.zeros((*x.shape[:2], w["hh"].shape[1]))  # the state's features: proj_size or H
    hidden = w["ih"].shape[0] // gate_count(kind)
    w_hh, b_hh = w["hh"].T, w.get("bias_hh", 0.0)
    for t in order:
        gh = h @ w_hh + b_hh
        if kind == "rnn":
            pre = gi[t] + gh
            h = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)
        elif kind == "gru":
            rz = _sigmoid(gi[t, :, : 2 * hidden] + gh[:, : 2 * hidden])
            r, z = rz[:, :hidden], rz[:, hidden:]
            n = np.tanh(gi[t, :, 2 * hidden :] + r * gh[:, 2 * hidden :])
            h = (1.0 - z) * n + z * h
        else:  # lstm: gates i, f, g, o; the sigmoid of all four, g's unused
            pre = gi[t] + gh
            gates = _sigmoid(pre)
            i, f, o = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 3 * hidden :]
            c = f * c + i * np.tanh(pre[:, 2 * hidden : 3 * hidden])
            h = o * np.tanh(c)
            if "hr" in w:
                h = h @ w["hr"].T
        out[t] = h
    return out, h, c


def _layer_weights(weights: Mapping[str, Array], suffix: str) -> dict[str, Array]:
    """One layer-direction's arrays, keyed ih / hh / hr / bias_ih / bias_hh (absent: left out)."""
    names = {"ih": "weight_ih", "hh": "weight_hh", "hr": "weight_hr"}
    names.update(bias_ih="bias_ih", bias_hh="bias_hh")
    return {
        short: np.asarray(weights[name + suffix], dtype=np.float64)
        for short, name in names.items()
        if name + suffix in weights
    }


def oracle_forward(
    kind: str,
    weights: Mapping[str, Array],
    x: Array,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    nonlinearity: str = "tanh",
    h0: Array | None = None,
    c0: Array | None = None,
) -> tuple[Array, Array, Array | None]:
    """Run the recurrence on time-first ``x`` (T, B, I); return ``(output, h_n, c_n)``.

    ``weights`` maps torch's parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``,
    ``weight_hr_l0`` ...) to arrays; ``c_n`` is None unless ``kind == "lstm"``.
    """
    directions = 2 if bidirectional else 1
    steps, batch, _ = x.shape
    layer_input = np.asarray(x, dtype=np.float64)
    h_finals, c_finals = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            w = _layer_weights(weights, f"_l{layer}" + ("_reverse" if direction else ""))
            index = layer * directions + direction
            h = (
                np.zeros((batch, w["hh"].shape[1]))
                if h0 is None
                else np.array(h0[index], dtype=np.float64)
            )
            c = (
                np.zeros((batch, w["ih"].shape[0] // 4))
                if c0 is None
                else np.array(c0[index], dtype=np.float64)
            )
            order = range(steps - 1, -1, -1) if direction else range(steps)
            out, h, c = _run(kind, nonlinearity, layer_input, h, c, w, order)
            outputs.append(out)
            h_finals.append(h)
            c_finals.append(c)
        layer_input = np.concatenate(outputs, axis=2)  # (T, B, D*H_out)
    c_n = np.stack(c_finals) if kind == "lstm" else None
    return layer_input, np.stack(h_finals), c_n
