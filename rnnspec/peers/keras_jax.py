"""Keras 3 on its JAX backend: SimpleRNN, LSTM and GRU (both ``reset_after`` conventions).

The port is :mod:`rnnspec.peers._keras`; this module names the backend.  ``gru`` is
``reset_after=True`` (Keras' default, torch's GRU); ``gru_reset_before`` is
``reset_after=False``, the 2014 paper's GRU, a design difference the table reports.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from torch import nn

from rnnspec.peers._keras import factories, keras_on
from rnnspec.peers._port import Ported
from rnnspec.peers._scopes import PORT

__all__ = ["gru", "gru_reset_before", "lstm", "probe", "rnn"]


def _x64(on: bool) -> AbstractContextManager[Any]:
    import jax

    return jax.enable_x64(on)


_factory = factories("jax", "keras (jax)", _x64)


def probe() -> None:
    """Raise when Keras cannot run on JAX in this process."""
    keras_on("jax")


def rnn(reference: nn.RNN) -> Ported:
    """``keras.layers.SimpleRNN`` on JAX, holding ``reference``'s weights."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """``keras.layers.LSTM`` on JAX, holding ``reference``'s weights."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """``keras.layers.GRU(reset_after=True)`` on JAX: torch's GRU."""
    return _factory(reference, reset_after=True)


def gru_reset_before(reference: nn.GRU) -> Ported:
    """``keras.layers.GRU(reset_after=False)`` on JAX: the 2014 paper's GRU."""
    return _factory(reference, reset_after=False)


# Keras' layers have no projection; their dropout acts inside each layer on every step
# (dropout, recurrent_dropout), not torch's between layers; the port computes outside
# torch's autograd. PORT declares each.
rnn.scope = lstm.scope = gru.scope = gru_reset_before.scope = PORT  # type: ignore[attr-defined]
