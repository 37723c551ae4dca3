"""Keras 3, on whichever backend a peer module names: the port both Keras peers share.

Keras picks its backend once, when first imported, from ``KERAS_BACKEND``: the peer
sets it for that import and puts the variable back; a process that already imported
Keras on another backend cannot run the peer (its probe says so).

Each layer is a ``keras.layers.SimpleRNN`` / ``LSTM`` / ``GRU`` with
``return_sequences=True, return_state=True``, wrapped in ``keras.layers.Bidirectional``
when bidirectional; layers are stacked as torch does, each with its initial states.
Weight mapping (Keras' kernels are ``(in, G*H)``, torch's transposed):

- LSTM: gate blocks i, f, c, o are torch's i, f, g, o; one bias, ``b_ih + b_hh``.
- GRU: gate blocks z, r, h (torch: r, z, n), ``h' = z h + (1 - z) hh`` as torch.
  ``reset_after=True`` (Keras' default, torch's variant): the bias is ``(2, 3H)``,
  ``[b_ih; b_hh]``.  ``reset_after=False`` (the 2014 paper's: the reset gate before
  the matmul) has one bias, ``b_in + b_hn`` for the candidate: no weights make it
  torch's GRU, and rnnspec's diagnosis names the difference.
- RNN: ``activation`` is torch's nonlinearity; one bias, ``b_ih + b_hh``.

``bias=False`` is ``use_bias=False``; the layers' ``dtype`` is the reference's (float64
on JAX under ``jax.enable_x64``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
from torch import nn

from rnnspec.peers._port import Call, Direction, Ported, Spec, folded_bias, stacked, weights

__all__ = ["factories", "keras_on"]


def keras_on(backend: str) -> Any:
    """Keras, imported on ``backend``; RuntimeError when this process has it on another."""
    if "keras" not in sys.modules:
        before = os.environ.get("KERAS_BACKEND")
        os.environ["KERAS_BACKEND"] = backend
        try:
            import keras
        finally:
            if before is None:
                del os.environ["KERAS_BACKEND"]
            else:
                os.environ["KERAS_BACKEND"] = before
    import keras

    found = keras.backend.backend()
    if found != backend:
        raise RuntimeError(
            f"Keras runs on {found} in this process (KERAS_BACKEND is read once, at its "
            f"first import): run the {backend} peer in a process of its own"
        )
    return keras


def _weights(spec: Spec, d: Direction, reset_after: bool) -> list[np.ndarray]:
    """One direction's weights in the order Keras' layer holds them."""
    if spec.kind == "gru":
        hidden = spec.hidden_size
        order = np.r_[hidden : 2 * hidden, 0:hidden, 2 * hidden : 3 * hidden]  # z, r, n
        arrays = [d.w_ih[order].T, d.w_hh[order].T]
        if spec.bias:
            assert d.b_ih is not None
            assert d.b_hh is not None
            b_ih, b_hh = d.b_ih[order], d.b_hh[order]
            arrays.append(np.stack([b_ih, b_hh]) if reset_after else b_ih + b_hh)
        return arrays
    arrays = [d.w_ih.T, d.w_hh.T]  # the LSTM's gate blocks are torch's order
    if spec.bias:
        arrays.append(folded_bias(d, d.w_ih))
    return arrays


def _layer(keras: Any, spec: Spec, reset_after: bool) -> Any:
    common = {
        "units": spec.hidden_size,
        "use_bias": spec.bias,
        "return_sequences": True,
        "return_state": True,
        "dtype": str(spec.numpy_dtype),
    }
    if spec.kind == "lstm":
        layer = keras.layers.LSTM(**common)
    elif spec.kind == "gru":
        layer = keras.layers.GRU(reset_after=reset_after, **common)
    else:
        layer = keras.layers.SimpleRNN(activation=spec.nonlinearity, **common)
    if spec.bidirectional:
        layer = keras.layers.Bidirectional(layer, merge_mode="concat", dtype=common["dtype"])
    return layer


def factories(
    backend: str, name: str, precision: Callable[[bool], AbstractContextManager[Any]] | None
) -> Callable[..., Ported]:
    """A factory ``(reference, reset_after=True) -> Ported`` for Keras on ``backend``;
    ``precision(x64)`` is the context float64 needs (JAX's ``enable_x64``), if any."""

    def factory(reference: nn.RNNBase, reset_after: bool = True) -> Ported:
        keras = keras_on(backend)
        spec = Spec.of(reference)
        x64 = spec.numpy_dtype == np.float64
        context = precision or (lambda _: nullcontext())
        layers = []
        with context(x64):
            for layer_index, row in enumerate(weights(reference)):
                layer = _layer(keras, spec, reset_after)
                width = spec.input_size if layer_index == 0 else spec.directions * spec.out_size
                layer.build((None, None, width))
                layer.set_weights([a for d in row for a in _weights(spec, d, reset_after)])
                layers.append(layer)

        def run_layer(index: int, x: Any, initial: list[tuple[np.ndarray, ...]]) -> Any:
            states = [s for direction in initial for s in direction]
            out, *finals = layers[index](np.asarray(x), initial_state=states)
            per = len(finals) // spec.directions  # (h,) or (h, c) per direction
            final = [tuple(finals[d * per : (d + 1) * per]) for d in range(spec.directions)]
            return np.asarray(out), [tuple(np.asarray(s) for s in f) for f in final]

        def run(call: Call) -> Any:
            with context(x64):
                return stacked(spec, call, run_layer)

        return Ported(spec, run, name)

    return factory
