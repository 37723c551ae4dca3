"""The known bugs: named wrong variants of nn.RNN / nn.LSTM / nn.GRU, as data.

Each :class:`Variant` is a stable id, one sentence saying what the bug computes and what
torch computes instead, the kinds it applies to, and ``build(reference)``: the wrong
implementation made from a torch module and its weights.  Most are one method of a
loop reference (``rnnspec.reference.loops``) overridden, or torch's own module with
its weights rearranged, or torch's result reshaped as a bug would return it.

A :class:`Symptom` is a known bug seen in the call rather than in the values (an
input changed in place).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnspec.config import KINDS, Example, gate_count, kind_of
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

__all__ = ["SYMPTOMS", "VARIANTS", "Symptom", "Variant"]

Build = Callable[[nn.RNNBase], Callable[..., Any]]


def _always(example: Example) -> bool:
    return True


@dataclass(frozen=True)
class Variant:
    """A known wrong implementation: ``build(reference)`` computes it with the reference's weights.

    ``applies(example)`` says where the bug can show at all (a cheap filter; a variant
    that computes what torch computes on an example is never reported for it anyway).
    """

    id: str
    sentence: str
    kinds: tuple[str, ...]
    build: Build
    applies: Callable[[Example], bool] = _always


@dataclass(frozen=True)
class Symptom:
    """A known bug seen in the call itself: ``seen(arguments before, arguments after)``."""

    id: str
    sentence: str
    seen: Callable[[tuple[Tensor, ...], tuple[Tensor, ...]], bool]


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


def _gate_order(order: tuple[int, ...]) -> Build:
    """Reading torch's blocks in ``order`` is the right cell on reordered weights."""
    return _rearranged(lambda name, blocks: [blocks[i] for i in order])


def _negate_block(index: int) -> Build:
    def change(name: str, blocks: list[Tensor]) -> list[Tensor]:
        return [-b if i == index else b for i, b in enumerate(blocks)]

    return _rearranged(change)


def _scaled_bias(prefix: str, factor: float) -> Build:
    def change(name: str, blocks: list[Tensor]) -> list[Tensor]:
        return [b * factor for b in blocks] if name.startswith(prefix) else blocks

    return _rearranged(change)


def _identity_projection(reference: nn.RNNBase) -> nn.RNNBase:
    module = copy.deepcopy(reference)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.startswith("weight_hr"):
                param.copy_(torch.eye(*param.shape, dtype=param.dtype, device=param.device))
    return module


# -- torch's result, returned the way a bug returns it ---------------------------------------
def _wrapped(post: Callable[[nn.RNNBase, Tensor, Any], tuple[Any, Any]]) -> Build:
    def build(reference: nn.RNNBase) -> Callable[..., Any]:
        def call(x: Tensor, hx: Any = None) -> tuple[Any, Any]:
            return post(reference, x, hx)

        return call

    return build


def _call(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    return module(x) if hx is None else module(x, hx)


def _swap_h_c(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, (h, c) = _call(module, x, hx)
    return output, (c, h)


def _ignore_hx(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    return module(x)


def _initial_as_final(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, state = _call(module, x, hx)
    if hx is None:
        return output, map_state(torch.zeros_like, state)
    return output, hx


def _unbatched_keeps_batch(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    output, state = _call(module, x, hx)
    return (output.unsqueeze(0) if x.dim() == 2 else output), state


def _batch_first_ignored(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    module = copy.copy(module)
    module.batch_first = False  # (B, T, I) taken as (T, B, I): B steps of T samples
    return _call(module, x, hx)


def _reshaped_not_transposed(module: nn.RNNBase, x: Tensor, hx: Any) -> tuple[Any, Any]:
    batch, steps, features = x.shape
    module = copy.copy(module)
    module.batch_first = False
    output, state = _call(module, x.reshape(steps, batch, features), hx)
    return output.reshape(batch, steps, -1), state


# -- one method of a loop reference overridden ----------------------------------------------
def _on_loop(mixin: type[LoopRecurrent]) -> Build:
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


def _loop_of(cls: type[LoopRecurrent]) -> Build:
    return cls.from_module


class _DropsBias(LoopRecurrent):
    dropped = "bias_hh"

    def weights(self, layer: int, direction: int) -> Weights:
        return {**super().weights(layer, direction), self.dropped: None}


class _DropsBiasHH(_DropsBias):
    dropped = "bias_hh"


class _DropsBiasIH(_DropsBias):
    dropped = "bias_ih"


class _ReverseNotFlippedBack(LoopRecurrent):
    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        if reverse:  # the input is flipped, the outputs are not flipped back
            x = reverse_time(x, lengths)
        return super().run_direction(x, state, w, lengths, False)


class _ReverseUsesForwardWeights(LoopRecurrent):
    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(layer, 0)


class _LayersShareWeights(LoopRecurrent):
    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(min(layer, 1), direction)


class _FedPredecessorInput(LoopRecurrent):
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


class _ReverseHalfTwice(LoopRecurrent):
    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        if layer > 0 and self.bidirectional:
            half = x[..., x.shape[-1] // 2 :]
            x = torch.cat([half, half], dim=-1)
        return super().run_layer(x, states, layer, lengths)


class _LastOutputRepeated(LoopRecurrent):
    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        y, finals = super().run_layer(x, states, layer, lengths)
        if layer == self.num_layers - 1 and y.shape[0] >= 2:
            y = torch.cat([y[:-1], y[-2:-1]])
        return y, finals


class _OtherNonlinearity(LoopRNN):
    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        pre = linear(x, w["weight_ih"], w["bias_ih"]) + linear(h, w["weight_hh"], w["bias_hh"])
        h = torch.relu(pre) if self.nonlinearity == "tanh" else torch.tanh(pre)
        return h, (h,)


class _ResetBeforeMatmul(LoopGRU):
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


class _HiddenNewBiasFolded(LoopGRU):
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


class _ForgetBiasPlusOne(LoopLSTM):
    def weights(self, layer: int, direction: int) -> Weights:
        w = super().weights(layer, direction)
        gate = 4 * self.hidden_size
        like = w["weight_ih"]
        assert like is not None
        one = torch.zeros(gate, dtype=like.dtype, device=like.device)
        one[self.hidden_size : 2 * self.hidden_size] = 1.0
        b_ih = w["bias_ih"]
        return {**w, "bias_ih": one if b_ih is None else b_ih + one}


# -- where a bug can show ---------------------------------------------------------------------
def _bidirectional(example: Example) -> bool:
    return example.config.bidirectional


def _layers(n: int) -> Callable[[Example], bool]:
    return lambda example: example.config.num_layers >= n


def _upper_bidirectional(example: Example) -> bool:
    return example.config.bidirectional and example.config.num_layers >= 2


def _biased(example: Example) -> bool:
    return example.config.bias


def _with_hx(example: Example) -> bool:
    return example.with_hx


def _relu(example: Example) -> bool:
    return example.config.nonlinearity == "relu"


def _tanh(example: Example) -> bool:
    return example.config.nonlinearity == "tanh"


def _projected(example: Example) -> bool:
    return example.config.proj_size > 0


def _unbatched(example: Example) -> bool:
    return example.batch_size is None


def _batch_first(example: Example) -> bool:
    return example.time_axis == 1


def _two_steps(example: Example) -> bool:
    return example.seq_len >= 2


VARIANTS: tuple[Variant, ...] = (
    # gate layout
    Variant(
        "lstm-gates-igfo",
        "the gate blocks are read as i, g, f, o (TensorFlow's i, j, f, o); torch stacks "
        "them as i, f, g, o",
        ("lstm",),
        _gate_order((0, 2, 1, 3)),
    ),
    Variant(
        "lstm-gates-figo",
        "the gate blocks are read as f, i, g, o (input and forget gates swapped); torch "
        "stacks them as i, f, g, o",
        ("lstm",),
        _gate_order((1, 0, 2, 3)),
    ),
    Variant(
        "lstm-gates-ifog",
        "the gate blocks are read as i, f, o, g (cell and output gates swapped); torch "
        "stacks them as i, f, g, o",
        ("lstm",),
        _gate_order((0, 1, 3, 2)),
    ),
    Variant(
        "gru-gates-zrn",
        "the gate blocks are read as z, r, n (Keras' z, r, h order); torch stacks them as r, z, n",
        ("gru",),
        _gate_order((1, 0, 2)),
    ),
    # cell equations
    Variant(
        "gru-reset-before-matmul",
        "the GRU applies the reset gate before the matmul, W_hn (r * h) + b_hn (the "
        "original 2014 GRU); torch applies it after: r * (W_hn h + b_hn)",
        ("gru",),
        _loop_of(_ResetBeforeMatmul),
    ),
    Variant(
        "gru-b-hn-outside-reset",
        "the GRU adds b_hn outside the reset gate, b_hn + r * (W_hn h); torch multiplies "
        "it by the reset gate: r * (W_hn h + b_hn)",
        ("gru",),
        _loop_of(_HiddenNewBiasFolded),
        _biased,
    ),
    Variant(
        "gru-update-gate-flipped",
        "the GRU update gate is used the other way round, h' = z * n + (1 - z) * h; torch "
        "computes h' = (1 - z) * n + z * h",
        ("gru",),
        _negate_block(1),
    ),
    Variant(
        "lstm-forget-bias-plus-one",
        "1 is added to the forget gate's pre-activation (TensorFlow's forget_bias=1.0); "
        "torch adds nothing beyond b_if + b_hf",
        ("lstm",),
        _loop_of(_ForgetBiasPlusOne),
    ),
    Variant(
        "rnn-tanh-for-relu",
        "tanh is applied although nonlinearity='relu' was asked for",
        ("rnn",),
        _loop_of(_OtherNonlinearity),
        _relu,
    ),
    Variant(
        "rnn-relu-for-tanh",
        "relu is applied although nonlinearity='tanh' (the default) was asked for",
        ("rnn",),
        _loop_of(_OtherNonlinearity),
        _tanh,
    ),
    # biases and weights
    Variant(
        "drops-b-hh",
        "the hidden-hidden bias b_hh is never added; torch adds both b_ih and b_hh",
        KINDS,
        _on_loop(_DropsBiasHH),
        _biased,
    ),
    Variant(
        "drops-b-ih",
        "the input-hidden bias b_ih is never added; torch adds both b_ih and b_hh",
        KINDS,
        _on_loop(_DropsBiasIH),
        _biased,
    ),
    Variant(
        "b-ih-doubled",
        "the input-hidden bias b_ih is added twice (a bias folded into another and added "
        "again); torch adds b_ih once",
        KINDS,
        _scaled_bias("bias_ih", 2.0),
        _biased,
    ),
    Variant(
        "b-hh-doubled",
        "the hidden-hidden bias b_hh is added twice; torch adds b_hh once",
        KINDS,
        _scaled_bias("bias_hh", 2.0),
        _biased,
    ),
    Variant(
        "lstm-proj-size-truncates",
        "with proj_size, h is cut to its first proj_size features instead of being "
        "projected by weight_hr (h = W_hr h in torch)",
        ("lstm",),
        _identity_projection,
        _projected,
    ),
    # directions and layers
    Variant(
        "reverse-not-flipped-back",
        "the reverse direction's outputs are left in reversed time order; torch flips "
        "them back so that output[t] of both directions is about step t",
        KINDS,
        _on_loop(_ReverseNotFlippedBack),
        _bidirectional,
    ),
    Variant(
        "reverse-uses-forward-weights",
        "the reverse direction runs with the forward direction's weights; torch gives it "
        "its own (the *_reverse parameters)",
        KINDS,
        _on_loop(_ReverseUsesForwardWeights),
        _bidirectional,
    ),
    Variant(
        "layers-share-weights",
        "the layers above the second run with the second layer's weights (one cell "
        "shared, as `[cell] * n` does); torch gives every layer its own",
        KINDS,
        _on_loop(_LayersShareWeights),
        _layers(3),
    ),
    Variant(
        "layer-fed-predecessor-input",
        "a layer is fed the input of the layer before it, not that layer's output "
        "(wherever the widths agree); in torch layer k reads layer k-1's output",
        KINDS,
        _on_loop(_FedPredecessorInput),
        _layers(2),
    ),
    Variant(
        "upper-layer-reads-reverse-half-twice",
        "a layer above the first reads the previous layer's reverse half twice; torch "
        "feeds it the whole [forward | reverse] output",
        KINDS,
        _on_loop(_ReverseHalfTwice),
        _upper_bidirectional,
    ),
    Variant(
        "last-output-repeated",
        "the output's last time step repeats the step before it (an off-by-one collecting "
        "outputs); in torch the last step's output is the last state",
        KINDS,
        _on_loop(_LastOutputRepeated),
        _two_steps,
    ),
    # states
    Variant(
        "lstm-h-c-swapped",
        "the final state is returned as (c_n, h_n); torch returns (h_n, c_n)",
        ("lstm",),
        _wrapped(_swap_h_c),
    ),
    Variant(
        "hx-ignored",
        "the given initial state is ignored and every call starts from zeros",
        KINDS,
        _wrapped(_ignore_hx),
        _with_hx,
    ),
    Variant(
        "final-state-is-initial",
        "the returned final state is the initial state, never updated; torch returns the "
        "state after the last step",
        KINDS,
        _wrapped(_initial_as_final),
    ),
    # the interface
    Variant(
        "batch-first-ignored",
        "batch_first=True is ignored: (B, T, I) input is read as (T, B, I)",
        KINDS,
        _wrapped(_batch_first_ignored),
        _batch_first,
    ),
    Variant(
        "batch-first-reshaped",
        "batch-first input is reshaped to (T, B, I) instead of transposed, which mixes "
        "samples and steps; torch transposes",
        KINDS,
        _wrapped(_reshaped_not_transposed),
        _batch_first,
    ),
    Variant(
        "unbatched-keeps-batch-dim",
        "for unbatched (T, I) input the output keeps a leading batch dimension of 1; torch "
        "returns (T, D*H_out)",
        KINDS,
        _wrapped(_unbatched_keeps_batch),
        _unbatched,
    ),
)


def _changed(before: tuple[Tensor, ...], after: tuple[Tensor, ...]) -> bool:
    return any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "mutates-input",
        "the call changes its input or initial state in place, so torch's result on the "
        "changed values was what it was compared with; torch leaves its arguments unchanged",
        _changed,
    ),
)
