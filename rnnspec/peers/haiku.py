"""Haiku (JAX): ``hk.VanillaRNN``, ``hk.LSTM`` and ``hk.GRU`` under ``hk.dynamic_unroll``.

Haiku's cores are one step each; ``hk.dynamic_unroll`` runs one over a sequence
(``reverse=True`` for the reverse direction).  Haiku has no bidirectional wrapper, so
the port runs one unroll per layer and direction and stacks the layers as torch does.

Weight mapping (``hk.Linear`` weights are ``(in, out)``, torch's transposed):

- LSTM: one ``Linear`` over ``[x, h]``, gate blocks i, g, f, o (torch: i, f, g, o), and
  Haiku adds 1 to the forget gate's pre-activation always: the port subtracts 1 from
  the folded forget bias (``bias=False`` too, where the rest of the bias is zero).
- GRU: blocks z, r, a with ``h' = (1 - z) h + z a``; Haiku's z is torch's ``1 - z``, so
  z's weights and bias are negated (``sigmoid(-v) = 1 - sigmoid(v)``).  Haiku's candidate
  is the 2014 paper's, ``tanh(W_ia x + W_ha (r * h) + b_a)``: the reset gate applies
  before the matmul, and ``b_a = b_in + b_hn``.  No weights make it torch's GRU, whose
  reset gate multiplies ``W_hn h + b_hn``; rnnspec's diagnosis names the difference.
- RNN: ``relu`` only (``VanillaRNN`` has no other activation), biases as given.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np
from torch import nn

from rnnspec.peers._port import (
    Call,
    Direction,
    Ported,
    Spec,
    bias_or_zeros,
    folded_bias,
    stacked,
    weights,
)
from rnnspec.peers._scopes import PORT

__all__ = ["gru", "lstm", "rnn"]

NAME = "haiku"


def _params(spec: Spec, d: Direction) -> dict[str, dict[str, np.ndarray]]:
    hidden = spec.hidden_size
    blocks = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
    if spec.kind == "lstm":
        i, f, g, o = blocks
        order = [i, g, f, o]  # Haiku's gate blocks, as torch's slices
        w = np.concatenate([d.w_ih, d.w_hh], axis=1)[np.r_[tuple(order)]]
        b = folded_bias(d, d.w_ih)[np.r_[tuple(order)]].copy()
        b[2 * hidden : 3 * hidden] -= 1  # Haiku adds 1 to f's pre-activation
        return {"core/linear": {"w": w.T, "b": b}}
    if spec.kind == "gru":
        r, z, n = blocks[:3]
        b_ih, b_hh = bias_or_zeros(d.b_ih, d.w_ih), bias_or_zeros(d.b_hh, d.w_ih)
        w_i = np.concatenate([-d.w_ih[z], d.w_ih[r], d.w_ih[n]])
        w_h = np.concatenate([-d.w_hh[z], d.w_hh[r], d.w_hh[n]])
        b = np.concatenate([-(b_ih[z] + b_hh[z]), b_ih[r] + b_hh[r], b_ih[n] + b_hh[n]])
        return {"core": {"w_i": w_i.T, "w_h": w_h.T, "b": b}}
    return {
        "core/linear": {"w": d.w_ih.T, "b": bias_or_zeros(d.b_ih, d.w_ih)},
        "core/linear_1": {"w": d.w_hh.T, "b": bias_or_zeros(d.b_hh, d.w_ih)},
    }


@functools.lru_cache(maxsize=16)
def _unroll(kind: str, hidden: int, reverse: bool) -> Any:
    """One direction of one layer as a jitted ``apply(params, x, state)``."""
    import haiku as hk
    import jax

    def forward(x: Any, state: Any) -> Any:
        if kind == "lstm":
            core: Any = hk.LSTM(hidden, name="core")
            state = hk.LSTMState(hidden=state[0], cell=state[1])
        elif kind == "gru":
            core = hk.GRU(hidden, name="core")
        else:
            core = hk.VanillaRNN(hidden, name="core")
        return hk.dynamic_unroll(core, x, state, time_major=False, reverse=reverse)

    transformed = hk.without_apply_rng(hk.transform(forward))
    return jax.jit(transformed.apply)


def _factory(reference: nn.RNNBase) -> Ported:
    import jax

    spec = Spec.of(reference)
    x64 = spec.numpy_dtype == np.float64
    params = [[_params(spec, d) for d in row] for row in weights(reference)]

    def run_layer(layer: int, x: Any, initial: list[tuple[np.ndarray, ...]]) -> Any:
        outs, finals = [], []
        for direction, state in enumerate(initial):
            apply = _unroll(spec.kind, spec.hidden_size, direction == 1)
            carry = state if spec.kind == "lstm" else state[0]
            out, last = apply(params[layer][direction], x, carry)
            outs.append(out)
            finals.append((last.hidden, last.cell) if spec.kind == "lstm" else (last,))
        return jax.numpy.concatenate(outs, axis=-1), finals

    def run(call: Call) -> Any:
        with jax.enable_x64(x64):
            return stacked(spec, call, run_layer)

    return Ported(spec, run, NAME)


def rnn(reference: nn.RNN) -> Ported:
    """Haiku ``hk.VanillaRNN`` (relu) per layer and direction, holding ``reference``'s weights."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """Haiku ``hk.LSTM`` per layer and direction, holding ``reference``'s weights."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """Haiku ``hk.GRU`` (the 2014 paper's candidate) holding ``reference``'s weights."""
    return _factory(reference)


# Haiku's cores have no projection and no dropout; the port computes outside torch's
# autograd (PORT says each). hk.VanillaRNN's activation is relu, fixed: tanh is out.
rnn.scope = replace(PORT, nonlinearities=("relu",))  # type: ignore[attr-defined]
lstm.scope = gru.scope = PORT  # type: ignore[attr-defined]
