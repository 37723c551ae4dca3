"""How each known bug is built from a torch module: the wrong implementations themselves.

Three families: torch's module with its weights rearranged (gate order, a negated or
scaled block), torch's result returned the way a bug returns it (h and c swapped, hx
ignored, the batch axis misread), and a loop reference (``rnnspec.reference.loops``)
with one method overridden.  ``rnnspec.run.diagnosis.variants`` names them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnspec.config import gate_count, kind_of
from rnnspec.reference.loops import (
    LOOPS,
    LoopGRU,
    LoopLSTM,
    LoopRecurrent,
    LoopRNN,
    State,
    Weights,
    linear,
    reverse_time,
)
from rnnspec.state import map_state

__all__ = [
    "DropsBiasHH",
    "DropsBiasIH",
    "FedPredecessorInput",
    "ForgetBiasPlusOne",
    "HiddenNewBiasFolded",
    "LastOutputRepeated",
    "LayersShareWeights",
    "OtherNonlinearity",
    "ResetBeforeMatmul",
    "ReverseHalfTwice",
    "ReverseNotFlippedBack",
    "ReverseUsesForwardWeights",
    "batch_first_ignored",
    "computed_in_float32",
    "first_sample_hx",
    "gate_order",
    "identity_projection",
    "ignore_hx",
    "initial_as_final",
    "loop_of",
    "negate_block",
    "on_loop",
    "projection_not_applied",
    "reshaped_not_transposed",
    "scaled_bias",
    "swap_h_c",
    "unbatched_keeps_batch",
    "wrapped",
]

Build = Callable[[nn.RNNBase], Callable[..., Any]]
"""``build(reference) -> candidate``: a known bug made from a torch module's weights."""


# -- torch's module with its weights rearranged ---------------------------------------------
_BLOCKED = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _rearranged(change: Callable[[str, list[Tensor]], list[Tensor]]) -> Build:
    """torch's module, each gate-blocked weight's blocks replaced by ``change(name, blocks)``."""

    def build(reference: nn.RNNBase) -> nn.RNNBase:
        module = copy.deepcopy(reference)
        gates = gate_count(kind_of(module))
        with torch.no_grad():
            for name, param in module.named_parameters():
                if name.startswith(_BLOCKED):
                    param.copy_(torch.cat(change(name, list(param.chunk(gates, dim=0)))))
        return module

    return build


def gate_order(order: tuple[int, ...]) -> Build:
    """Reading torch's blocks in ``order`` is the right cell on reordered weights."""
    return _rearranged(lambda name, blocks: [blocks[i] for i in order])


def negate_block(index: int) -> Build:
    def change(name: str, blocks: list[Tensor]) -> list[Tensor]:
        return [-b if i == index else b for i, b in enumerate(blocks)]

    return _rearranged(change)


def scaled_bias(prefix: str, factor: float) -> Build:
    def change(name: str, blocks: list[Tensor]) -> list[Tensor]:
        return [b * factor for b in blocks] if name.startswith(prefix) else blocks

    return _rearranged(change)


def identity_projection(reference: nn.RNNBase) -> nn.RNNBase:
    module = copy.deepcopy(reference)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.startswith("weight_hr"):
                param.copy_(torch.eye(*param.shape, dtype=param.dtype, device=param.device))
    return module


def projection_not_applied(reference: nn.RNNBase) -> Callable[..., Any]:
    """An LSTM with ``proj_size`` that returns h unprojected, ``hidden_size`` features wide.

    The same dynamics as torch's, written without the projection: ``W_hr`` folded into
    the matmuls that read h (``W_hh W_hr``, and the next layer's ``W_ih`` times each
    direction's ``W_hr``), and the initial h lifted by ``W_hr``'s pseudo-inverse (exact:
    ``W_hr`` has full row rank).  So its outputs and h_n are torch's h before ``W_hr``.
    """
    lstm: Any = reference
    hidden, proj = lstm.hidden_size, lstm.proj_size
    directions = 2 if lstm.bidirectional else 1
    ends = ["", "_reverse"][:directions]
    module = nn.LSTM(
        lstm.input_size, hidden, lstm.num_layers, lstm.bias, lstm.batch_first, 0.0,
        lstm.bidirectional, 0, dtype=lstm.weight_ih_l0.dtype, device=lstm.weight_ih_l0.device,
    )  # fmt: skip
    params = dict(reference.named_parameters())
    lifts = []
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            below = [params[f"weight_hr_l{layer - 1}{end}"] for end in ends] if layer else []
            for end in ends:
                w_hr = params[f"weight_hr_l{layer}{end}"]  # (P, H)
                lifts.append(torch.linalg.pinv(w_hr))  # (H, P)
                w_ih: Tensor = params[f"weight_ih_l{layer}{end}"]
                if below:  # the layer below's outputs come unprojected: project them here
                    blocks = w_ih.split(proj, dim=1)
                    w_ih = torch.cat([b @ w for b, w in zip(blocks, below, strict=True)], 1)
                getattr(module, f"weight_ih_l{layer}{end}").copy_(w_ih)
                w_hh = params[f"weight_hh_l{layer}{end}"] @ w_hr  # (4H, P) (P, H)
                getattr(module, f"weight_hh_l{layer}{end}").copy_(w_hh)
                if lstm.bias:
                    for name in ("bias_ih", "bias_hh"):
                        getattr(module, f"{name}_l{layer}{end}").copy_(
                            params[f"{name}_l{layer}{end}"]
                        )

    def call(x: Tensor, hx: Any = None) -> tuple[Any, Any]:
        if hx is None:
            return module(x)
        h, c = hx
        lifted = torch.stack([h[i] @ lift.t() for i, lift in enumerate(lifts)])
        return module(x, (lifted, c))

    return call


# -- torch's result, returned the way a bug returns it ---------------------------------------
def wrapped(post: Callable[[nn.RNNBase, Tensor, Any], tuple[Any, Any]]) -> Build:
    def build(reference: nn.RNNBase) -> Callable[..., Any]:
        def call(x: Tensor, hx: Any = None) -> tuple[Any, Any]:
            return post(reference, x, hx)

        return call

    return build


def _call(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    return module(x) if hx is None else module(x, hx)


def swap_h_c(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, (h, c) = _call(module, x, hx)
    return output, (c, h)


def ignore_hx(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    return module(x)


def first_sample_hx(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    """Every sample starts from the initial state of the batch's first sample."""
    if hx is None or x.dim() == 2:
        return _call(module, x, hx)
    return _call(module, x, map_state(lambda h: h[:, :1].expand_as(h).contiguous(), hx))


def computed_in_float32(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    """The module and its arguments cast to float32, the results cast back to x's dtype."""
    low = copy.deepcopy(module).float()
    output, state = _call(low, x.float(), map_state(lambda h: h.float(), hx))
    return output.to(x.dtype), map_state(lambda h: h.to(x.dtype), state)


def initial_as_final(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, state = _call(module, x, hx)
    if hx is None:
        return output, map_state(torch.zeros_like, state)
    return output, hx


def unbatched_keeps_batch(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, state = _call(module, x, hx)
    return (output.unsqueeze(0) if x.dim() == 2 else output), state


def batch_first_ignored(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    module = copy.copy(module)
    module.batch_first = False  # (B, T, I) taken as (T, B, I): B steps of T samples
    return _call(module, x, hx)


def reshaped_not_transposed(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    batch, steps, features = x.shape
    module = copy.copy(module)
    module.batch_first = False
    output, state = _call(module, x.reshape(steps, batch, features), hx)
    return output.reshape(batch, steps, -1), state


# -- one method of a loop reference overridden ----------------------------------------------
def on_loop(mixin: type[LoopRecurrent]) -> Build:
    """``mixin`` over the loop reference of the module's kind, with the module's weights."""

    def build(reference: nn.RNNBase) -> nn.Module:
        return _loop_class(mixin, kind_of(reference)).from_module(reference)

    return build


_MIXED: dict[tuple[str, str], type[LoopRecurrent]] = {}


def _loop_class(mixin: type[LoopRecurrent], kind: str) -> type[LoopRecurrent]:
    key = (mixin.__qualname__, kind)
    if key not in _MIXED:
        base = LOOPS[kind]
        _MIXED[key] = type(f"{mixin.__name__}{base.__name__}", (mixin, base), {})
    return _MIXED[key]


def loop_of(cls: type[LoopRecurrent]) -> Build:
    return cls.from_module


class _DropsBias(LoopRecurrent):
    dropped = "bias_hh"

    def weights(self, layer: int, direction: int) -> Weights:
        return {**super().weights(layer, direction), self.dropped: None}


class DropsBiasHH(_DropsBias):
    dropped = "bias_hh"


class DropsBiasIH(_DropsBias):
    dropped = "bias_ih"


class ReverseNotFlippedBack(LoopRecurrent):
    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        if reverse:  # the input is flipped, the outputs are not flipped back
            x = reverse_time(x, lengths)
        return super().run_direction(x, state, w, lengths, False)


class ReverseUsesForwardWeights(LoopRecurrent):
    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(layer, 0)


class LayersShareWeights(LoopRecurrent):
    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(min(layer, 1), direction)


class FedPredecessorInput(LoopRecurrent):
    """Layer k > 0 is fed what layer k-1 was fed, wherever that has the right width."""

    _fed: Tensor | None = None

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        fed = self._fed if layer > 0 else None
        self._fed = x
        if fed is not None and fed.shape == x.shape:
            x = fed
        return super().run_layer(x, states, layer, lengths)


class ReverseHalfTwice(LoopRecurrent):
    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        if layer > 0 and self.bidirectional:
            half = x[..., x.shape[-1] // 2 :]
            x = torch.cat([half, half], dim=-1)
        return super().run_layer(x, states, layer, lengths)


class LastOutputRepeated(LoopRecurrent):
    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        y, finals = super().run_layer(x, states, layer, lengths)
        if layer == self.num_layers - 1 and y.shape[0] >= 2:
            y = torch.cat([y[:-1], y[-2:-1]])
        return y, finals


class OtherNonlinearity(LoopRNN):
    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        pre = linear(x, w["weight_ih"], w["bias_ih"]) + linear(h, w["weight_hh"], w["bias_hh"])
        h = torch.relu(pre) if self.nonlinearity == "tanh" else torch.tanh(pre)
        return h, (h,)


class ResetBeforeMatmul(LoopGRU):
    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        assert w["weight_hh"] is not None
        i_r, i_z, i_n = linear(x, w["weight_ih"], w["bias_ih"]).chunk(3, dim=1)
        w_r, w_z, w_n = w["weight_hh"].chunk(3, dim=0)
        b_hh = w["bias_hh"]
        b_r, b_z, b_n = (None, None, None) if b_hh is None else b_hh.chunk(3)
        r = torch.sigmoid(i_r + F.linear(h, w_r, b_r))
        z = torch.sigmoid(i_z + F.linear(h, w_z, b_z))
        n = torch.tanh(i_n + F.linear(r * h, w_n, b_n))
        h = (1 - z) * n + z * h
        return h, (h,)


class HiddenNewBiasFolded(LoopGRU):
    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        i_r, i_z, i_n = linear(x, w["weight_ih"], w["bias_ih"]).chunk(3, dim=1)
        h_r, h_z, h_n = linear(h, w["weight_hh"], None).chunk(3, dim=1)
        b_hh = w["bias_hh"]
        b_r, b_z, b_n = (0, 0, 0) if b_hh is None else b_hh.chunk(3)
        r = torch.sigmoid(i_r + h_r + b_r)
        z = torch.sigmoid(i_z + h_z + b_z)
        n = torch.tanh(i_n + b_n + r * h_n)  # b_hn outside the reset gate
        h = (1 - z) * n + z * h
        return h, (h,)


class ForgetBiasPlusOne(LoopLSTM):
    def weights(self, layer: int, direction: int) -> Weights:
        w = super().weights(layer, direction)
        gate = 4 * self.hidden_size
        like = w["weight_ih"]
        assert like is not None
        one = torch.zeros(gate, dtype=like.dtype, device=like.device)
        one[self.hidden_size : 2 * self.hidden_size] = 1.0
        b_ih = w["bias_ih"]
        return {**w, "bias_ih": one if b_ih is None else b_ih + one}
