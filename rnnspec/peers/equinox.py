"""Equinox (JAX): ``eqx.nn.LSTMCell`` and ``eqx.nn.GRUCell``, scanned over time.

Equinox has cells only (no vanilla RNN cell, no sequence or multi-layer module), each
for one sample: the port runs a cell with ``jax.lax.scan`` over time (``reverse=True``
for the reverse direction), ``jax.vmap`` over the batch, as Equinox's documentation
shows, under ``eqx.filter_jit``; and stacks layers as torch does.

Weight mapping: Equinox holds torch's layout (``weight_ih`` ``(G*H, I)``, ``weight_hh``
``(G*H, H)``, torch's gate orders i, f, g, o and r, z, n) with one bias: the LSTM's is
``b_ih + b_hh``; the GRU's is ``b_ih`` plus ``b_hh``'s r and z blocks, and ``bias_n``
is ``b_hn``, inside the reset gate as in torch.  ``bias=False`` is ``use_bias=False``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from torch import nn

from rnnspec.peers._port import Call, Direction, Ported, Spec, folded_bias, stacked, weights
from rnnspec.peers._scopes import PORT

__all__ = ["gru", "lstm"]

NAME = "equinox"


def _cell(spec: Spec, d: Direction, input_size: int) -> Any:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    dtype = jnp.dtype(str(spec.numpy_dtype))
    cls = eqx.nn.LSTMCell if spec.kind == "lstm" else eqx.nn.GRUCell
    cell = cls(input_size, spec.hidden_size, use_bias=spec.bias, dtype=dtype, key=jax.random.key(0))
    new: dict[str, np.ndarray] = {"weight_ih": d.w_ih, "weight_hh": d.w_hh}
    if spec.bias:
        hidden = spec.hidden_size
        if spec.kind == "lstm":
            new["bias"] = folded_bias(d, d.w_ih)
        else:
            assert d.b_ih is not None
            assert d.b_hh is not None
            new["bias"] = d.b_ih + np.concatenate(
                [d.b_hh[: 2 * hidden], np.zeros(hidden, d.b_hh.dtype)]
            )
            new["bias_n"] = d.b_hh[2 * hidden :]
    names = list(new)
    return eqx.tree_at(
        lambda c: [getattr(c, n) for n in names], cell, [jnp.asarray(new[n]) for n in names]
    )


@functools.cache
def _sequence() -> Any:
    """A cell run over a batch-major sequence: scan over time, vmap over samples, jitted."""
    import equinox as eqx
    import jax

    @functools.partial(eqx.filter_jit)
    def run(cell: Any, x: Any, state: Any, reverse: bool) -> Any:
        def one(xs: Any, s: Any) -> Any:
            def step(carry: Any, xt: Any) -> Any:
                new = cell(xt, carry)
                return new, new[0] if isinstance(new, tuple) else new

            return jax.lax.scan(step, s, xs, reverse=reverse)

        return jax.vmap(one)(x, state)

    return run


def _factory(reference: nn.RNNBase) -> Ported:
    import jax

    spec = Spec.of(reference)
    x64 = spec.numpy_dtype == np.float64
    with jax.enable_x64(x64):
        cells = [[_cell(spec, d, d.w_ih.shape[1]) for d in row] for row in weights(reference)]
    sequence = _sequence()

    def run_layer(layer: int, x: Any, initial: list[tuple[np.ndarray, ...]]) -> Any:
        outs, finals = [], []
        for direction, state in enumerate(initial):
            carry = state if spec.kind == "lstm" else state[0]  # Equinox's LSTM: (h, c)
            last, out = sequence(cells[layer][direction], x, carry, direction == 1)
            outs.append(out)
            finals.append(tuple(last) if spec.kind == "lstm" else (last,))
        return jax.numpy.concatenate(outs, axis=-1), finals

    def run(call: Call) -> Any:
        with jax.enable_x64(x64):
            return stacked(spec, call, run_layer)

    return Ported(spec, run, NAME)


def lstm(reference: nn.LSTM) -> Ported:
    """Equinox ``eqx.nn.LSTMCell`` per layer and direction, holding ``reference``'s weights."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """Equinox ``eqx.nn.GRUCell`` per layer and direction, holding ``reference``'s weights."""
    return _factory(reference)


# Equinox's cells have no projection and no dropout; the port computes outside torch's
# autograd (PORT says each). Equinox has no vanilla RNN cell: no `rnn` factory.
lstm.scope = gru.scope = PORT  # type: ignore[attr-defined]
