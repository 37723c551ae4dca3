"""Flax linen (JAX): ``nn.RNN`` over ``nn.SimpleCell`` / ``nn.LSTMCell`` / ``nn.GRUCell``.

Flax has no multi-layer recurrent module: the port stacks one ``nn.RNN`` per layer (an
``nn.Bidirectional`` of two, the second ``reverse=True, keep_order=True``, when
bidirectional), as a Flax user does.  Each layer's ``apply`` is compiled with ``jax.jit``
once per configuration and shape.

Weight mapping (Flax's ``Dense`` kernels are ``(in, out)``, torch's transposed):

- LSTM: one ``Dense`` per gate, ``ii/if/ig/io`` on the input (no bias) and ``hi/hf/hg/ho``
  on h (with the folded bias ``b_ih + b_hh``); the carry is ``(c, h)``, not ``(h, c)``.
- GRU: ``ir/iz/in`` carry ``b_ih`` (plus ``b_hh`` for r and z), ``hn`` carries ``b_hn``
  inside the reset gate, as torch: Flax's GRUCell is torch's variant.
- RNN: ``i`` carries the folded bias, ``h`` none; ``relu`` is ``activation_fn``.

With ``bias=False`` the biases Flax always has are zeros, which computes the same.
float64 runs under ``jax.enable_x64``.
"""

from __future__ import annotations

import functools
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

NAME = "flax"


def _cell_params(spec: Spec, d: Direction) -> dict[str, Any]:
    hidden = spec.hidden_size
    block = functools.partial(_block, hidden)
    if spec.kind == "lstm":
        bias = folded_bias(d, d.w_ih)
        params: dict[str, Any] = {}
        for k, gate in enumerate("ifgo"):
            params["i" + gate] = {"kernel": block(d.w_ih, k).T}
            params["h" + gate] = {"kernel": block(d.w_hh, k).T, "bias": block(bias, k)}
        return params
    if spec.kind == "gru":
        b_ih, b_hh = bias_or_zeros(d.b_ih, d.w_ih), bias_or_zeros(d.b_hh, d.w_ih)
        params = {}
        for k, gate in enumerate("rz"):
            params["i" + gate] = {"kernel": block(d.w_ih, k).T, "bias": block(b_ih + b_hh, k)}
            params["h" + gate] = {"kernel": block(d.w_hh, k).T}
        params["in"] = {"kernel": block(d.w_ih, 2).T, "bias": block(b_ih, 2)}
        params["hn"] = {"kernel": block(d.w_hh, 2).T, "bias": block(b_hh, 2)}
        return params
    return {
        "i": {"kernel": d.w_ih.T, "bias": folded_bias(d, d.w_ih)},
        "h": {"kernel": d.w_hh.T},
    }


def _block(hidden: int, array: np.ndarray, k: int) -> np.ndarray:
    return array[k * hidden : (k + 1) * hidden]


@functools.lru_cache(maxsize=64)
def _compiled(kind: str, hidden: int, bidirectional: bool, nonlinearity: str, dtype: str) -> Any:
    """One layer's ``apply``, jitted: the same configuration reuses its compilations."""
    import flax.linen as fnn
    import jax

    def cell() -> Any:
        options = {"dtype": dtype, "param_dtype": dtype}
        if kind == "lstm":
            return fnn.LSTMCell(hidden, **options)
        if kind == "gru":
            return fnn.GRUCell(hidden, **options)
        activation = fnn.relu if nonlinearity == "relu" else fnn.tanh
        return fnn.SimpleCell(hidden, activation_fn=activation, **options)

    if bidirectional:
        layer: Any = fnn.Bidirectional(
            fnn.RNN(cell()), fnn.RNN(cell(), reverse=True, keep_order=True), return_carry=True
        )
    else:
        layer = fnn.RNN(cell(), return_carry=True)
    return jax.jit(layer.apply)


def _factory(reference: nn.RNNBase) -> Ported:
    import jax
    import jax.numpy as jnp

    spec = Spec.of(reference)
    dtype = str(spec.numpy_dtype)
    with jax.enable_x64(dtype == "float64"):
        layers = []
        for row in weights(reference):
            cells = [jax.tree.map(jnp.asarray, _cell_params(spec, d)) for d in row]
            if spec.bidirectional:
                layers.append(
                    {
                        "params": {
                            "forward_rnn": {"cell": cells[0]},
                            "backward_rnn": {"cell": cells[1]},
                        }
                    }
                )
            else:
                layers.append({"params": {"cell": cells[0]}})
    apply = _compiled(spec.kind, spec.hidden_size, spec.bidirectional, spec.nonlinearity, dtype)

    def carry(state: tuple[np.ndarray, ...]) -> Any:
        return (state[1], state[0]) if spec.kind == "lstm" else state[0]  # Flax's LSTM: (c, h)

    def final(value: Any) -> tuple[Any, ...]:
        return (value[1], value[0]) if spec.kind == "lstm" else (value,)

    def run_layer(layer: int, x: Any, initial: list[tuple[np.ndarray, ...]]) -> Any:
        carries = tuple(carry(s) for s in initial)
        if spec.bidirectional:
            finals, out = apply(layers[layer], x, initial_carry=carries)
            return out, [final(f) for f in finals]
        last, out = apply(layers[layer], x, initial_carry=carries[0])
        return out, [final(last)]

    def run(call: Call) -> Any:
        with jax.enable_x64(dtype == "float64"):
            return stacked(spec, call, run_layer)

    return Ported(spec, run, NAME)


def rnn(reference: nn.RNN) -> Ported:
    """Flax linen ``nn.RNN(nn.SimpleCell)`` holding ``reference``'s weights."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """Flax linen ``nn.RNN(nn.LSTMCell)`` holding ``reference``'s weights."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """Flax linen ``nn.RNN(nn.GRUCell)`` holding ``reference``'s weights."""
    return _factory(reference)


# Flax's cells have no projection (proj_size), no dropout between layers (there are no
# layers), and the port computes outside torch's autograd: PORT declares these.
rnn.scope = lstm.scope = gru.scope = PORT  # type: ignore[attr-defined]
