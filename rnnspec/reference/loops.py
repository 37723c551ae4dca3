"""Step-by-step references for nn.RNN, nn.LSTM and nn.GRU in plain PyTorch.

Each class owns parameters named exactly as the torch module's ``state_dict``
(``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0`` ...), so
``Loop*.from_module(module)`` copies a module's config and weights, and the
loop returns what the module returns: ``(output, h_n)`` or ``(output, (h_n, c_n))``.

The math is written one time step at a time, on purpose: it is the readable
statement of what the fused kernels compute.  The pieces are small methods
(``cell``, ``run_direction``, ``run_layer``) so that a deliberately wrong
variant in ``tests/mutants/`` overrides one of them and nothing else.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnspec.config import gate_count, module_class
from rnnspec.reference._errors import check_hidden, check_input

__all__ = [
    "LoopGRU",
    "LoopLSTM",
    "LoopRNN",
    "LoopRecurrent",
    "State",
    "Weights",
    "linear",
    "loop_from_module",
    "repack",
    "reverse_time",
]

State = tuple[Tensor, ...]  # (h,) or (h, c), each (B, H_state)
Weights = dict[str, Tensor | None]


class LoopRecurrent(nn.Module):
    """Shared machinery: parameters, layers, directions, packing, unbatched input."""

    mode = "RNN_TANH"
    kind = "rnn"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between recurrent layers, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers=1",
                UserWarning,
                stacklevel=2,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = gate_count(self.kind) * hidden_size
        out_size = proj_size or hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * self.num_directions
            for suffix in self._suffixes():
                shapes: dict[str, tuple[int, ...]] = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_in),
                    f"weight_hh_l{layer}{suffix}": (gate_size, out_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                if proj_size:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    param = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                    self.register_parameter(name, param)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_module(cls, module: nn.RNNBase) -> LoopRecurrent:
        """A loop with ``module``'s config, weights, dtype, device and train/eval mode."""
        kwargs: dict[str, Any] = {
            "input_size": module.input_size,
            "hidden_size": module.hidden_size,
            "num_layers": module.num_layers,
            "bias": module.bias,
            "batch_first": module.batch_first,
            "dropout": module.dropout,
            "bidirectional": module.bidirectional,
        }
        if cls.kind == "lstm":
            kwargs["proj_size"] = module.proj_size
        if cls.kind == "rnn":
            kwargs["nonlinearity"] = module.nonlinearity
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
            loop = cls(**kwargs)
        weight = next(module.parameters())
        loop.to(device=weight.device, dtype=weight.dtype)
        loop.load_state_dict(module.state_dict())
        loop.train(module.training)
        return loop

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """Feature size of each state tensor: (H_out,) or, for LSTM, (H_out, H)."""
        return (self.proj_size or self.hidden_size,)

    def _suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.num_directions]

    def weights(self, layer: int, direction: int) -> Weights:
        """The weights of one layer and direction, ``None`` where absent."""
        suffix = self._suffixes()[direction]
        params = dict(self.named_parameters())
        return {
            key: params.get(f"{key}_l{layer}{suffix}")
            for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        }

    # -- the math -----------------------------------------------------------------
    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        """One time step: ``x`` (B, I) and ``state`` -> (output (B, H_out), new state)."""
        raise NotImplementedError

    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        """Run one direction of one layer over ``x`` (T, B, I), one of :meth:`steps` at a time."""
        if reverse:
            x = reverse_time(x, lengths)
        outputs = []
        for t, x_t in enumerate(self.steps(x)):  # x_t: (B, I)
            out, new_state = self.cell(x_t, state, w)
            if lengths is not None:  # packed: finished sequences keep their state
                alive = (t < lengths).unsqueeze(1)  # (B, 1)
                new_state = tuple(
                    torch.where(alive, n, s) for n, s in zip(new_state, state, strict=True)
                )
                out = torch.where(alive, out, torch.zeros_like(out))
            state = new_state
            outputs.append(out)
        y = torch.stack(outputs)  # (T, B, H_out)
        if reverse:
            y = reverse_time(y, lengths)
        return y, state

    def steps(self, x: Tensor) -> Sequence[Tensor]:
        """The time steps of ``x``: ``x.unbind(0)`` rather than ``x[t]``.

        When ``x`` requires grad (an input under test, or the layer below's output), each
        ``x[t]``'s backward writes a gradient as large as all of ``x``, which makes the
        backward quadratic in ``T``; unbind's backward is one stack.
        """
        return x.unbind(0)

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        """Run both directions of ``layer``; outputs are concatenated on features."""
        outputs, finals = [], []
        for direction in range(self.num_directions):
            w = self.weights(layer, direction)
            y, final = self.run_direction(x, states[direction], w, lengths, direction == 1)
            outputs.append(y)
            finals.append(final)
        return torch.cat(outputs, dim=-1), finals  # (T, B, D*H_out)

    def between_layers(self, y: Tensor) -> Tensor:
        """Dropout on every layer's output except the last, in training mode only."""
        return F.dropout(y, p=self.dropout, training=self.training)

    # -- the interface ------------------------------------------------------------
    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        lengths = None
        x: Tensor
        packed = input if isinstance(input, PackedSequence) else None
        if packed is not None:
            x, lengths = pad_packed_sequence(packed)  # (T, B, I), original batch order
            lengths = lengths.to(x.device)
            unbatched = False
        else:
            assert isinstance(input, Tensor)
            x = input
            self.validate_input(x)
            unbatched = x.dim() == 2
            if unbatched:
                x = x.unsqueeze(1)  # (T, 1, I)
            elif self.batch_first:
                x = x.transpose(0, 1)  # (T, B, I)
        states0 = self._initial_states(x, hx, unbatched)
        per_layer = self.num_directions
        finals: list[State] = []
        for layer in range(self.num_layers):
            layer_states = states0[layer * per_layer : (layer + 1) * per_layer]
            x, layer_finals = self.run_layer(x, layer_states, layer, lengths)
            finals.extend(layer_finals)
            if layer < self.num_layers - 1:
                x = self.between_layers(x)
        h_n = tuple(torch.stack([f[i] for f in finals]) for i in range(len(self.state_sizes)))
        if packed is not None:
            output: Any = repack(x, lengths, packed)
        elif unbatched:
            output = x.squeeze(1)  # (T, D*H_out)
            h_n = tuple(h.squeeze(1) for h in h_n)  # (D*L, H_state)
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return output, self._pack_state(h_n)

    def _initial_states(self, x: Tensor, hx: Any, unbatched: bool) -> list[State]:
        """The initial state of every (layer, direction), zeros when ``hx`` is None."""
        count = self.num_layers * self.num_directions
        batch = x.shape[1]
        if hx is None:
            zeros = tuple(x.new_zeros(count, batch, size) for size in self.state_sizes)
            hx = zeros
        else:
            hx = self._unpack_state(hx)
            self.validate_hidden(hx, batch, unbatched)
            if unbatched:
                hx = tuple(h.unsqueeze(1) for h in hx)  # (D*L, 1, H_state)
        return [tuple(h[i] for h in hx) for i in range(count)]

    def validate_input(self, x: Tensor) -> None:
        """Raise what torch raises for a bad input (rank, dtype, width, empty sequence)."""
        check_input(self, x)

    def validate_hidden(self, hx: State, batch: int, unbatched: bool) -> None:
        """Raise what torch raises for initial states of the wrong shape."""
        check_hidden(self, hx, batch, unbatched)

    def _unpack_state(self, hx: Any) -> State:
        return (hx,)

    def _pack_state(self, h_n: State) -> Any:
        return h_n[0]

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bias={self.bias}, batch_first={self.batch_first}, "
            f"bidirectional={self.bidirectional}"
        )


class LoopRNN(LoopRecurrent):
    """nn.RNN: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with act tanh or relu."""

    kind = "rnn"

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(*args, **kwargs)

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        pre = linear(x, w["weight_ih"], w["bias_ih"]) + linear(h, w["weight_hh"], w["bias_hh"])
        h = torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)
        return h, (h,)


class LoopLSTM(LoopRecurrent):
    """nn.LSTM: gates i, f, g, o; ``c' = f c + i g``; ``h' = o tanh(c')``, projected if asked."""

    mode = "LSTM"
    kind = "lstm"

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        h, c = state
        gates = linear(x, w["weight_ih"], w["bias_ih"]) + linear(h, w["weight_hh"], w["bias_hh"])
        i, f, g, o = gates.chunk(4, dim=1)  # each (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        if w["weight_hr"] is not None:
            h = h @ w["weight_hr"].t()  # (B, P)
        return h, (h, c)

    def _unpack_state(self, hx: Any) -> State:
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            raise RuntimeError("LSTM expects hx as a tuple (h_0, c_0)")
        return (hx[0], hx[1])

    def _pack_state(self, h_n: State) -> Any:
        return (h_n[0], h_n[1])


class LoopGRU(LoopRecurrent):
    """nn.GRU: gates r, z, n with ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``."""

    mode = "GRU"
    kind = "gru"

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        gi = linear(x, w["weight_ih"], w["bias_ih"])  # (B, 3H)
        gh = linear(h, w["weight_hh"], w["bias_hh"])  # (B, 3H)
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h = (1 - z) * n + z * h
        return h, (h,)


LOOPS: dict[str, type[LoopRecurrent]] = {loop.kind: loop for loop in (LoopRNN, LoopLSTM, LoopGRU)}
"""The loop reference of each kind."""


def loop_from_module(module: nn.RNNBase) -> LoopRecurrent:
    """The loop reference for any nn.RNN / nn.LSTM / nn.GRU, with its weights."""
    for kind, loop_cls in LOOPS.items():
        if isinstance(module, module_class(kind)):
            return loop_cls.from_module(module)
    raise TypeError(f"expected nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")


def linear(x: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    assert weight is not None
    return F.linear(x, weight, bias)


def reverse_time(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Flip time; with ``lengths``, flip each sequence within its own length."""
    if lengths is None:
        return x.flip(0)
    steps = torch.arange(x.shape[0], device=x.device).unsqueeze(1)  # (T, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (T, B)
    index = index.unsqueeze(2).expand_as(x)  # (T, B, F)
    return x.gather(0, index)


def repack(y: Tensor, lengths: Tensor | None, like: PackedSequence) -> PackedSequence:
    """Pack ``y`` (T, B, F, original order) with the batch order of ``like``."""
    assert lengths is not None
    order = like.sorted_indices
    if order is not None:
        y, lengths = y.index_select(1, order), lengths[order]
    data = pack_padded_sequence(y, lengths.cpu(), enforce_sorted=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
