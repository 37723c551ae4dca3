"""PaddlePaddle: ``paddle.nn.SimpleRNN`` / ``LSTM`` / ``GRU``, fused and as a cell loop.

``rnn``/``lstm``/``gru`` are Paddle's multi-layer modules, which run the fused ``rnn``
kernel when every cell has four parameters (an LSTM with ``proj_size`` has five, and
takes Python's loop over its layers instead).  The ``*_cells`` factories are the
public cell API instead: ``paddle.nn.RNN`` (or ``BiRNN``) of a ``SimpleRNNCell`` /
``LSTMCell`` / ``GRUCell`` per layer, stacked by the port as a Paddle user does.

Weight mapping: Paddle's cells hold torch's layout and gate orders (``weight_ih``
``(G*H, I)``, i, f, g, o and r, z, n, the GRU's reset gate after the matmul as torch's);
a projection is ``weight_ho`` ``(H, P)``, torch's ``weight_hr`` transposed.  The port
sets the cells' own parameters (``layer[l].cell`` or ``cell_fw``/``cell_bw``), not the
flat aliases ``weight_ih_l0``... (with ``bias=False`` or ``proj_size`` Paddle zips those
names with the wrong tensors; see docs/peers.md).  The dropout p and the training mode
are the reference's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
from torch import nn

from rnnspec.peers._port import Call, Direction, Ported, Spec, stacked, weights
from rnnspec.peers._scopes import PORT

__all__ = ["gru", "gru_cells", "lstm", "lstm_cells", "rnn", "rnn_cells"]

NAME = "paddle"


def _set(param: Any, value: np.ndarray) -> None:
    if tuple(param.shape) != value.shape:
        raise ValueError(f"{NAME}: shape {tuple(param.shape)} != torch's {value.shape}")
    param.set_value(value.astype(str(param.dtype).removeprefix("paddle.")))


def _load(cell: Any, d: Direction) -> None:
    _set(cell.weight_ih, d.w_ih)
    _set(cell.weight_hh, d.w_hh)
    for name, value in (("bias_ih", d.b_ih), ("bias_hh", d.b_hh)):
        if value is not None:
            _set(getattr(cell, name), value)
    if d.w_hr is not None:
        _set(cell.weight_ho, d.w_hr.T)


@contextmanager
def _default_dtype(paddle: Any, dtype: str) -> Iterator[None]:
    """Paddle creates parameters in its default dtype (``Layer.to(dtype=...)`` fails on the
    RNN's empty dropout-state buffer): set it for the construction, then put it back."""
    before = paddle.get_default_dtype()
    paddle.set_default_dtype(dtype)
    try:
        yield
    finally:
        paddle.set_default_dtype(before)


def _options(spec: Spec) -> dict[str, Any]:
    return {"bias_ih_attr": False, "bias_hh_attr": False} if not spec.bias else {}


def _fused(paddle: Any, spec: Spec) -> Any:
    options: dict[str, Any] = {
        "num_layers": spec.num_layers,
        "direction": "bidirect" if spec.bidirectional else "forward",
        "time_major": False,
        "dropout": spec.dropout,
        **_options(spec),
    }
    if spec.kind == "lstm":
        return paddle.nn.LSTM(
            spec.input_size, spec.hidden_size, proj_size=spec.proj_size, **options
        )
    if spec.kind == "gru":
        return paddle.nn.GRU(spec.input_size, spec.hidden_size, **options)
    return paddle.nn.SimpleRNN(
        spec.input_size, spec.hidden_size, activation=spec.nonlinearity, **options
    )


def _cell(paddle: Any, spec: Spec, input_size: int) -> Any:
    if spec.kind == "lstm":
        return paddle.nn.LSTMCell(
            input_size, spec.hidden_size, proj_size=spec.proj_size, **_options(spec)
        )
    if spec.kind == "gru":
        return paddle.nn.GRUCell(input_size, spec.hidden_size, **_options(spec))
    return paddle.nn.SimpleRNNCell(
        input_size, spec.hidden_size, activation=spec.nonlinearity, **_options(spec)
    )


def _state(paddle: Any, state: tuple[np.ndarray, ...]) -> Any:
    tensors = tuple(paddle.to_tensor(s) for s in state)
    return tensors if len(tensors) == 2 else tensors[0]


def _arrays(state: Any) -> tuple[np.ndarray, ...]:
    return tuple(s.numpy() for s in state) if isinstance(state, tuple | list) else (state.numpy(),)


def _factory(reference: nn.RNNBase, fused: bool = True) -> Ported:
    import paddle

    spec = Spec.of(reference)
    rows = weights(reference)
    with _default_dtype(paddle, str(spec.numpy_dtype)):
        if fused:
            module = _fused(paddle, spec)
            layers = [module[index] for index in range(spec.num_layers)]
        else:  # one paddle.nn.RNN / BiRNN of cells per layer, stacked here
            layers = []
            for row in rows:
                cells = [_cell(paddle, spec, d.w_ih.shape[1]) for d in row]
                wrapper = paddle.nn.BiRNN(*cells) if spec.bidirectional else paddle.nn.RNN(cells[0])
                layers.append(wrapper)
    for layer, row in zip(layers, rows, strict=True):
        cells = [layer.cell_fw, layer.cell_bw] if spec.bidirectional else [layer.cell]
        for cell, d in zip(cells, row, strict=True):
            _load(cell, d)
    for layer in layers:
        layer.train() if spec.training else layer.eval()

    def run_fused(call: Call) -> Any:
        module.train() if spec.training else module.eval()
        h0 = paddle.to_tensor(call.h0)
        state = (h0, paddle.to_tensor(call.c0)) if call.c0 is not None else h0
        out, final = module(paddle.to_tensor(call.x), state)
        finals = _arrays(final)
        return out.numpy(), finals[0], finals[1] if len(finals) == 2 else None

    def run_layer(index: int, x: Any, initial: list[tuple[np.ndarray, ...]]) -> Any:
        states = [_state(paddle, s) for s in initial]
        x = paddle.to_tensor(np.asarray(x))
        if spec.bidirectional:
            out, finals = layers[index](x, tuple(states))
            return out.numpy(), [_arrays(f) for f in finals]
        out, final = layers[index](x, states[0])
        return out.numpy(), [_arrays(final)]

    def run_cells(call: Call) -> Any:
        return stacked(spec, call, run_layer)

    return Ported(spec, run_fused if fused else run_cells, NAME if fused else NAME + " (cells)")


def rnn(reference: nn.RNN) -> Ported:
    """``paddle.nn.SimpleRNN`` holding ``reference``'s weights (fused where Paddle can)."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """``paddle.nn.LSTM`` holding ``reference``'s weights (fused where Paddle can)."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """``paddle.nn.GRU`` holding ``reference``'s weights (fused where Paddle can)."""
    return _factory(reference)


def rnn_cells(reference: nn.RNN) -> Ported:
    """``paddle.nn.RNN`` / ``BiRNN`` of ``SimpleRNNCell`` per layer, stacked by the port."""
    return _factory(reference, fused=False)


def lstm_cells(reference: nn.LSTM) -> Ported:
    """``paddle.nn.RNN`` / ``BiRNN`` of ``LSTMCell`` per layer, stacked by the port."""
    return _factory(reference, fused=False)


def gru_cells(reference: nn.GRU) -> Ported:
    """``paddle.nn.RNN`` / ``BiRNN`` of ``GRUCell`` per layer, stacked by the port."""
    return _factory(reference, fused=False)


# Paddle's modules have torch's dropout between layers and LSTM projections: both in
# scope.  The port computes outside torch's autograd; PackedSequence and the meta device
# are torch's.  The cells have projections but no dropout between layers (the port
# stacks them, as a user of paddle.nn.RNN does).
rnn.scope = lstm.scope = gru.scope = replace(PORT, dropout=True, proj_size=True)  # type: ignore[attr-defined]
CELLS = replace(PORT, proj_size=True)
rnn_cells.scope = lstm_cells.scope = gru_cells.scope = CELLS  # type: ignore[attr-defined]
