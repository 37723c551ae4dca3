"""Keras 3 on its TensorFlow backend: SimpleRNN, LSTM and GRU (both ``reset_after`` conventions).

The port is :mod:`rnnspec.peers._keras`, shared with :mod:`rnnspec.peers.keras_jax`; this
module names the backend.  ``gru`` is ``reset_after=True`` (Keras' default, torch's GRU);
``gru_reset_before`` is ``reset_after=False``, the 2014 paper's GRU, a design
difference the table reports.

float64: TensorFlow computes in float64 without a switch, so no precision context is
needed.  Measured with keras 3.15.1 and tensorflow 2.21.0: Keras on TensorFlow does
*not* have Keras-on-JAX's float64 defect.  ``keras.backend.result_type("float64")`` is
float64 here, because the table that demotes 64-bit results to 32-bit
(``BIT64_TO_BIT32_DTYPE`` in ``keras/src/backend/common/dtypes.py``) keeps float64 and
int64 when the backend is TensorFlow; so ``keras.ops.tanh`` of a float64 tensor is
float64, a float64 LSTM agrees with a NumPy float64 computation to ~1e-16, and a
float64 SimpleRNN with ``tanh`` runs and returns float64
(docs/peers/keras_float64_tanh.py with ``KERAS_BACKEND=tensorflow``).  So this peer
needs no float32-only row.

TensorFlow is imported only when a factory or :func:`probe` runs (through Keras).
Keras picks its backend once per process: a process that already imported Keras on
another backend (JAX, say) cannot run this peer, and :func:`probe` says so.
"""

from __future__ import annotations

from torch import nn

from rnnspec.peers._keras import factories, keras_on
from rnnspec.peers._port import Ported
from rnnspec.peers._scopes import PORT

__all__ = ["gru", "gru_reset_before", "lstm", "probe", "rnn"]

_factory = factories("tensorflow", "keras (tensorflow)", None)


def probe() -> None:
    """Raise when Keras cannot run on TensorFlow in this process."""
    keras_on("tensorflow")


def rnn(reference: nn.RNN) -> Ported:
    """``keras.layers.SimpleRNN`` on TensorFlow, holding ``reference``'s weights."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """``keras.layers.LSTM`` on TensorFlow, holding ``reference``'s weights."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """``keras.layers.GRU(reset_after=True)`` on TensorFlow: torch's GRU."""
    return _factory(reference, reset_after=True)


def gru_reset_before(reference: nn.GRU) -> Ported:
    """``keras.layers.GRU(reset_after=False)`` on TensorFlow: the 2014 paper's GRU."""
    return _factory(reference, reset_after=False)


# As for Keras on JAX: no projection; Keras' dropout acts inside each layer on every
# step, not torch's between layers; the port computes outside torch's autograd.
rnn.scope = lstm.scope = gru.scope = gru_reset_before.scope = PORT  # type: ignore[attr-defined]
