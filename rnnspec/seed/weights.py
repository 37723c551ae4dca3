"""Copying weights between layouts, and closed-form parameter counts.

The seed's ``ManualRNN`` computes ``tanh(i2h([x, h]))``: its ``i2h.weight`` is
``[W_ih | W_hh]`` side by side and its one bias is ``b_ih + b_hh``.  That is
exactly a single-layer, unidirectional, tanh ``nn.RNN``.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnspec.config import gate_count
from rnnspec.reference.seed import (
    BiRNN,
    BuiltInRNN,
    GRUModel,
    LSTMModel,
    ManualRNN,
    Seq2Seq,
    StackedRNN,
)

__all__ = [
    "copy_manual_to_rnn",
    "copy_rnn_to_manual",
    "linear_parameters",
    "recurrent_parameters",
    "seed_parameters",
]


def _check_plain_rnn(rnn: nn.RNN, manual: ManualRNN) -> None:
    if not isinstance(rnn, nn.RNN) or isinstance(rnn, nn.LSTM | nn.GRU):
        raise TypeError(f"expected an nn.RNN, got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh":
        raise ValueError(
            "ManualRNN equals only a single-layer, unidirectional, tanh nn.RNN; got "
            f"num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}, "
            f"nonlinearity={rnn.nonlinearity!r}"
        )
    expected = (manual.hidden_size, manual.i2h.in_features - manual.hidden_size)
    if (rnn.hidden_size, rnn.input_size) != expected:
        raise ValueError(
            f"size mismatch: nn.RNN(hidden_size={rnn.hidden_size}, input_size={rnn.input_size}) "
            f"vs ManualRNN(hidden_size={expected[0]}, input_size={expected[1]})"
        )


@torch.no_grad()
def copy_rnn_to_manual(rnn: nn.RNN, manual: ManualRNN) -> ManualRNN:
    """Set ``manual.i2h`` from ``rnn`` so their hidden sequences agree; ``i2o`` is untouched."""
    _check_plain_rnn(rnn, manual)
    params = dict(rnn.named_parameters())
    weight = torch.cat([params["weight_ih_l0"], params["weight_hh_l0"]], dim=1)  # (H, I+H)
    manual.i2h.weight.copy_(weight)
    bias = torch.zeros_like(manual.i2h.bias)
    if rnn.bias:
        bias = params["bias_ih_l0"] + params["bias_hh_l0"]
    manual.i2h.bias.copy_(bias)
    return manual


@torch.no_grad()
def copy_manual_to_rnn(manual: ManualRNN, rnn: nn.RNN) -> nn.RNN:
    """Set ``rnn``'s weights from ``manual.i2h``; the folded bias goes to ``bias_ih``."""
    _check_plain_rnn(rnn, manual)
    if not rnn.bias:
        raise ValueError("nn.RNN(bias=False) cannot hold ManualRNN's i2h bias")
    params = dict(rnn.named_parameters())
    input_size = rnn.input_size
    params["weight_ih_l0"].copy_(manual.i2h.weight[:, :input_size])  # (H, I)
    params["weight_hh_l0"].copy_(manual.i2h.weight[:, input_size:])  # (H, H)
    params["bias_ih_l0"].copy_(manual.i2h.bias)
    params["bias_hh_l0"].zero_()
    return rnn


def linear_parameters(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(in_features, out_features, bias)``."""
    return in_features * out_features + (out_features if bias else 0)


def recurrent_parameters(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bias: bool = True,
    bidirectional: bool = False,
    proj_size: int = 0,
) -> int:
    """Parameters of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with this config, in closed form.

    Per layer and direction, with ``g`` gate blocks, ``P = proj_size or H`` and layer input
    ``I_l`` (``input_size`` for layer 0, ``D * P`` above it):
    ``g H I_l + g H P + 2 g H [bias] + P H [proj]``.
    """
    if proj_size and kind != "lstm":
        raise ValueError(f"proj_size is only defined for lstm, got kind={kind!r}")
    gate = gate_count(kind) * hidden_size
    out = proj_size or hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else directions * out
        per_direction = gate * layer_in + gate * out + (2 * gate if bias else 0)
        if proj_size:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return total


def seed_parameters(
    method: str, input_size: int, hidden_size: int, output_size: int, num_layers: int | None = None
) -> int:
    """Parameters of one of the seed's methods, by its class name, in closed form."""
    head = linear_parameters(hidden_size, output_size)
    if method == ManualRNN.__name__:
        combined = input_size + hidden_size
        return linear_parameters(combined, hidden_size) + linear_parameters(combined, output_size)
    if method == Seq2Seq.__name__:
        encoder = recurrent_parameters("rnn", input_size, hidden_size)
        decoder = recurrent_parameters("rnn", output_size, hidden_size)
        return encoder + decoder + head
    defaults = {
        BuiltInRNN.__name__: ("rnn", 1, False),
        LSTMModel.__name__: ("lstm", 1, False),
        GRUModel.__name__: ("gru", 1, False),
        BiRNN.__name__: ("rnn", 1, True),
        StackedRNN.__name__: ("rnn", 3, False),
    }
    if method not in defaults:
        raise ValueError(f"unknown seed method {method!r}; expected one of {sorted(defaults)}")
    kind, layers, bidirectional = defaults[method]
    layers = num_layers if num_layers is not None else layers
    body = recurrent_parameters(kind, input_size, hidden_size, layers, bidirectional=bidirectional)
    if bidirectional:
        head = linear_parameters(2 * hidden_size, output_size)
    return body + head
