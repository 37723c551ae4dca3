"""The zoo: deliberately wrong RNN / LSTM / GRU implementations, one bug each.

Every mutant is a small subclass of a loop reference (``rnnspec.reference.loops``)
that overrides one method where it can, so the bug is the only difference from a
correct implementation.  ``MUTANTS`` lists them with a factory in the shape that
``rnnspec.check`` takes (``factory(reference) -> candidate``) and a ``trigger``: a
hand-picked case on which the bug shows (tests/test_zoo.py replays it).

A mutant runs wherever its bug applies; on other configs it behaves correctly.
It raises only where raising is its bug (``Mutant.raises``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnspec.config import Example, RNNConfig
from rnnspec.reference.loops import (
    LoopGRU,
    LoopLSTM,
    LoopRNN,
    State,
    Weights,
    linear,
    repack,
    reverse_time,
)
from rnnspec.scope import Scope

__all__ = ["MUTANTS", "Mutant", "Trigger", "once_calls", "packed_calls", "twice_calls"]


# -- cell math ------------------------------------------------------------------------
def _blocks_reordered(w: Weights, order: tuple[int, ...]) -> Weights:
    """The gate blocks of every weight and bias, taken in ``order``.

    Reading torch's blocks in the wrong order is the same as the right cell reading
    reordered weights, so the gate mutants below reuse the reference cell.
    """
    out = dict(w)
    for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        tensor = w[key]
        if tensor is not None:
            blocks = tensor.chunk(len(order), dim=0)
            out[key] = torch.cat([blocks[i] for i in order], dim=0)
    return out


class LSTMGatesIGFO(LoopLSTM):
    """Bug: the gate blocks are read as i, g, f, o instead of torch's i, f, g, o."""

    def weights(self, layer: int, direction: int) -> Weights:
        return _blocks_reordered(super().weights(layer, direction), (0, 2, 1, 3))


class LSTMGatesFIGO(LoopLSTM):
    """Bug: the gate blocks are read as f, i, g, o (input and forget gates swapped)."""

    def weights(self, layer: int, direction: int) -> Weights:
        return _blocks_reordered(super().weights(layer, direction), (1, 0, 2, 3))


class GRUGatesRZSwapped(LoopGRU):
    """Bug: the gate blocks are read as z, r, n instead of torch's r, z, n."""

    def weights(self, layer: int, direction: int) -> Weights:
        return _blocks_reordered(super().weights(layer, direction), (1, 0, 2))


class GRUResetBeforeMatmul(LoopGRU):
    """Bug: the original-paper GRU, ``n = tanh(W_in x + b_in + W_hn (r h) + b_hn)``."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        gi = linear(x, w["weight_ih"], w["bias_ih"])  # (B, 3H)
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        w_hr, w_hz, w_hn = w["weight_hh"].chunk(3, dim=0)  # type: ignore[union-attr]
        b_hr, b_hz, b_hn = (None,) * 3 if w["bias_hh"] is None else w["bias_hh"].chunk(3)
        r = torch.sigmoid(i_r + linear(h, w_hr, b_hr))
        z = torch.sigmoid(i_z + linear(h, w_hz, b_hz))
        n = torch.tanh(i_n + linear(r * h, w_hn, b_hn))  # reset applied before W_hn
        h = (1 - z) * n + z * h
        return h, (h,)


class GRUZFlipped(LoopGRU):
    """Bug: the update gate convention is flipped, ``h' = z n + (1 - z) h``.

    Written as the reference cell with the z pre-activation negated, since
    ``sigmoid(-a) = 1 - sigmoid(a)`` swaps the roles of z and 1 - z exactly.
    """

    def weights(self, layer: int, direction: int) -> Weights:
        w = dict(super().weights(layer, direction))
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            tensor = w[key]
            if tensor is not None:
                r, z, n = tensor.chunk(3, dim=0)
                w[key] = torch.cat([r, -z, n], dim=0)
        return w


class RNNTanhForRelu(LoopRNN):
    """Bug: always applies tanh, also when ``nonlinearity='relu'`` was asked for."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        pre = linear(x, w["weight_ih"], w["bias_ih"]) + linear(h, w["weight_hh"], w["bias_hh"])
        h = torch.tanh(pre)
        return h, (h,)


class LSTMBatchOneDoublesBias(LoopLSTM):
    """Bug: at batch size 1 (also unbatched input) the input bias ``b_ih`` is added twice."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        if x.shape[0] == 1 and w["bias_ih"] is not None:
            w = {**w, "bias_ih": 2 * w["bias_ih"]}
        return super().cell(x, state, w)


class RNNDriftsAfter50Steps(LoopRNN):
    """Bug: from step 50 on, the recurrent term is ``0.95 W_hh h`` instead of ``W_hh h``."""

    _step = 0

    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        self._step = 0
        return super().run_direction(x, state, w, lengths, reverse)

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        if self._step >= 50:
            w = {**w, "weight_hh": 0.95 * w["weight_hh"]}  # type: ignore[operator]
        self._step += 1
        return super().cell(x, state, w)


# -- weights --------------------------------------------------------------------------
def _without_b_hh(w: Weights) -> Weights:
    return {**w, "bias_hh": None}


class RNNDropsBHH(LoopRNN):
    """Bug: the hidden-hidden bias ``b_hh`` is never added (only ``b_ih`` is)."""

    def weights(self, layer: int, direction: int) -> Weights:
        return _without_b_hh(super().weights(layer, direction))


class GRUDropsBHH(LoopGRU):
    """Bug: the hidden-hidden bias ``b_hh`` (b_hr, b_hz and b_hn) is never added."""

    def weights(self, layer: int, direction: int) -> Weights:
        return _without_b_hh(super().weights(layer, direction))


class LSTMReverseUsesForwardWeights(LoopLSTM):
    """Bug: the reverse direction runs with the forward direction's weights."""

    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(layer, 0)


class LSTMThirdLayerReusesSecond(LoopLSTM):
    """Bug: layers from the third on run with the second layer's weights."""

    def weights(self, layer: int, direction: int) -> Weights:
        return super().weights(min(layer, 1), direction)


class LSTMIgnoresProjSize(LoopLSTM):
    """Bug: no projection ``W_hr``; ``h`` is truncated to its first ``proj_size`` features."""

    def weights(self, layer: int, direction: int) -> Weights:
        w = super().weights(layer, direction)
        if w["weight_hr"] is not None:
            proj, hidden = w["weight_hr"].shape
            like = w["weight_hr"]
            w["weight_hr"] = torch.eye(proj, hidden, dtype=like.dtype, device=like.device)
        return w


class RNNTypeErrorBidirectionalNoBias(LoopRNN):
    """Bug: sums the reverse direction's biases up front: TypeError when ``bias=False``."""

    def weights(self, layer: int, direction: int) -> Weights:
        w = super().weights(layer, direction)
        if direction == 1:  # None + None raises TypeError for a legitimate config
            w["bias_ih"], w["bias_hh"] = w["bias_ih"] + w["bias_hh"], None  # type: ignore[operator]
        return w


def _own_name(torch_name: str) -> str:
    """``weight_hh_l0`` -> ``w_hh``, ``bias_ih_l1_reverse`` -> ``b_ih_l1_reverse``."""
    name = torch_name.replace("weight_", "w_").replace("bias_", "b_")
    return name.replace("_l0", "", 1) if name.endswith("_l0") else name


class GRUOwnNamesDetachedWhh(LoopGRU):
    """Bug: its own parameter names (w_ih, w_hh, ...) and ``w_hh.detach()``: W_hh gets no gradient.

    The forward pass is exact, and so are the gradients of the input and the initial
    state; only training is broken (W_hh never moves).  Its own names hide it from a
    comparison of weight gradients by torch's names.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        renamed = {_own_name(n): p for n, p in self._parameters.items()}
        self._parameters.clear()
        self._parameters.update(renamed)

    @property
    def weight_ih_l0(self) -> Tensor:  # the input checks read the weights' dtype here
        return self.get_parameter("w_ih")  # AttributeError until renamed, as hasattr expects

    def load_state_dict(self, state: Any, strict: bool = True, assign: bool = False) -> Any:
        own = {_own_name(n): v for n, v in state.items()}
        return super().load_state_dict(own, strict, assign)

    def weights(self, layer: int, direction: int) -> Weights:
        suffix = self._suffixes()[direction]
        params = dict(self.named_parameters())
        w = {
            key: params.get(_own_name(f"{key}_l{layer}{suffix}"))
            for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        }
        w["weight_hh"] = w["weight_hh"].detach()  # type: ignore[union-attr]
        return w


# -- directions, layers, time ---------------------------------------------------------
class GRUReverseNotFlippedBack(LoopGRU):
    """Bug: the reverse direction's outputs are left in reversed time order."""

    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        if reverse:
            x = reverse_time(x, lengths)  # (T, B, I), flipped; the outputs stay flipped
        return super().run_direction(x, state, w, lengths, reverse=False)


class GRUSeqOneReturnsInitialState(LoopGRU):
    """Bug: for sequence length 1, ``h_n`` is the initial state instead of the updated one."""

    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        y, final = super().run_direction(x, state, w, lengths, reverse)
        return (y, state) if x.shape[0] == 1 else (y, final)


class GRUDropsLastOutput(LoopGRU):
    """Bug: for T >= 2 the last time step's output is replaced by the one before it."""

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        y, finals = super().run_layer(x, states, layer, lengths)
        if layer == self.num_layers - 1 and y.shape[0] >= 2:
            y = torch.cat([y[:-1], y[-2:-1]])  # (T, B, D*H_out)
        return y, finals


class GRULayerRereadsPreviousInput(LoopGRU):
    """Bug: layer k > 0 reads the input of layer k-1 (not its output) when widths match."""

    _previous: Tensor | None = None

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        previous = self._previous
        if layer > 0 and previous is not None and previous.shape == x.shape:
            x = previous  # (T, B, D*H): the wrong tensor of the right shape
        self._previous = x
        return super().run_layer(x, states, layer, lengths)


class LSTMLayerReadsReverseHalfTwice(LoopLSTM):
    """Bug: a bidirectional layer k > 0 reads the previous reverse half twice, no forward half."""

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        if layer > 0 and self.bidirectional:
            half = x.shape[-1] // 2
            x = torch.cat([x[..., half:], x[..., half:]], dim=-1)  # (T, B, 2*H_out)
        return super().run_layer(x, states, layer, lengths)


class RNNDropoutInEval(LoopRNN):
    """Bug: dropout with p=0.5 between layers in eval mode too, whatever p was configured."""

    def between_layers(self, y: Tensor) -> Tensor:
        generator = torch.Generator(device=y.device).manual_seed(0)  # reproducible mask
        keep = torch.rand(y.shape, generator=generator, device=y.device) >= 0.5
        return y * keep / 0.5


# -- states ---------------------------------------------------------------------------
class LSTMSwapsHC(LoopLSTM):
    """Bug: returns ``(c_n, h_n)`` instead of ``(h_n, c_n)``."""

    def _pack_state(self, h_n: State) -> Any:
        return (h_n[1], h_n[0])


class LSTMIgnoresHx(LoopLSTM):
    """Bug: the given ``hx`` is ignored; every call starts from zeros."""

    def _initial_states(self, x: Tensor, hx: Any, unbatched: bool) -> list[State]:
        return super()._initial_states(x, None, unbatched)


class GRUCarriesState(LoopGRU):
    """Bug: with ``hx=None`` a call starts from the previous call's final state, not zeros."""

    _last: Tensor | None = None

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        if hx is None and self._last is not None:
            try:  # reuse the remembered state wherever its shape fits
                output, h_n = super().forward(input, self._last)
            except RuntimeError:
                output, h_n = super().forward(input)
        else:
            output, h_n = super().forward(input, hx)
        self._last = h_n.detach()
        return output, h_n


# -- the interface --------------------------------------------------------------------
class RNNBatchFirstReadAsTimeFirst(LoopRNN):
    """Bug: batch-first input is read as time-first memory (a reshape, not a transpose)."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        if not (self.batch_first and isinstance(input, Tensor) and input.dim() == 3):
            return super().forward(input, hx)
        batch, steps, features = input.shape
        self.batch_first = False
        try:
            output, h_n = super().forward(input.reshape(steps, batch, features), hx)
        finally:
            self.batch_first = True
        return output.reshape(batch, steps, -1), h_n  # (B, T, D*H), scrambled


class RNNUnbatchedReturnsBatched(LoopRNN):
    """Bug: for unbatched 2-D input the output keeps a leading batch dimension (1, T, D*H)."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        output, h_n = super().forward(input, hx)
        if isinstance(input, Tensor) and input.dim() == 2:
            output = output.unsqueeze(0)  # (1, T, D*H)
        return output, h_n


class RNNNoInputSizeCheck(LoopRNN):
    """Bug: input of the wrong feature size is silently sliced or zero-padded, no error."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        if isinstance(input, Tensor) and input.dim() in (2, 3):
            extra = input.shape[-1] - self.input_size
            input = input[..., : self.input_size] if extra > 0 else F.pad(input, (0, -extra))
        return super().forward(input, hx)


class RNNMutatesInput(LoopRNN):
    """Bug: clamps the caller's input to [-1, 1] in place after using it."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        result = super().forward(input, hx)
        data = input.data if isinstance(input, PackedSequence) else input
        with torch.no_grad():
            data.clamp_(-1.0, 1.0)
        return result


class LSTMFloat32Output(LoopLSTM):
    """Bug: returns a float32 output for float64 input (the states keep float64)."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        output, state = super().forward(input, hx)
        if output.data.dtype == torch.float64:
            output = output.float()
        return output, state


class GRUNaNAboveThreshold(LoopGRU):
    """Bug: the whole output is NaN whenever any input value exceeds 2.5."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        output, h_n = super().forward(input, hx)
        data = input.data if isinstance(input, PackedSequence) else input
        if bool((data > 2.5).any()):
            if isinstance(output, PackedSequence):
                output = output._replace(data=output.data * float("nan"))
            else:
                output = output * float("nan")
        return output, h_n


class LSTMIgnoresPackedLengths(LoopLSTM):
    """Bug: a PackedSequence is run as its padded batch, every sequence at full length."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        if not isinstance(input, PackedSequence):
            return super().forward(input, hx)
        x, lengths = pad_packed_sequence(input)  # (T, B, I), zero padded
        if self.batch_first:
            x = x.transpose(0, 1)  # (B, T, I)
        output, state = super().forward(x, hx)
        if self.batch_first:
            output = output.transpose(0, 1)  # (T, B, D*H_out)
        return repack(output, lengths, input), state


# -- triggers ---------------------------------------------------------------------------
Call = tuple[Any, ...]  # the positional arguments of one call: (x,) or (x, hx)


def once_calls(example: Example) -> list[Call]:
    x, hx = example.inputs()
    return [(x,) if hx is None else (x, hx)]


def twice_calls(example: Example) -> list[Call]:
    return once_calls(example) * 2


def packed_calls(example: Example) -> list[Call]:
    """A PackedSequence of unsorted lengths (T, 1, T-1, ...)."""
    x, hx = example.inputs()
    assert example.batch_size is not None, "packed input needs a batch"
    assert example.seq_len >= 3, "lengths T, 1, T-1 need T >= 3"
    lengths = [example.seq_len, 1] + [example.seq_len - 1] * (example.batch_size - 2)
    packed = pack_padded_sequence(
        x, torch.tensor(lengths), batch_first=example.config.batch_first, enforce_sorted=False
    )
    return [(packed,) if hx is None else (packed, hx)]


def _one_feature_too_many(example: Example) -> list[Call]:
    (x, *rest) = once_calls(example)[0]
    return [(torch.cat([x, x[..., :1]], dim=-1), *rest)]


def _one_value_above_threshold(example: Example) -> list[Call]:
    (x, *rest) = once_calls(example)[0]
    x = x.clone()
    x.view(-1)[0] = 3.0
    return [(x, *rest)]


@dataclass(frozen=True)
class Trigger:
    """A case on which a mutant's bug shows: an example and the calls to make on it.

    ``backward``: the bug shows only in gradients, so a replay also compares those of a
    fixed loss (the input's, the initial state's and, name-free, the parameters' total
    norm).
    """

    example: Example
    calls: Callable[[Example], list[Call]] = once_calls
    backward: bool = False

    def reference(self) -> Any:
        return self.example.reference()

    def arguments(self) -> list[Call]:
        return self.calls(self.example)


def _example(
    kind: str,
    *,
    batch: int | None = 2,
    seq: int = 4,
    input_size: int = 3,
    hidden: int = 4,
    hx: bool = False,
    **config: Any,
) -> Example:
    return Example(RNNConfig(kind, input_size, hidden, **config), batch, seq, with_hx=hx)


@dataclass(frozen=True)
class Mutant:
    """One wrong implementation: ``factory(reference) -> candidate`` and the bug it has."""

    name: str
    kind: str  # "rnn" | "lstm" | "gru"
    factory: Callable[[Any], Any]
    bug: str
    trigger: Trigger = field(repr=False, compare=False)
    raises: type[Exception] | None = None  # the exception raising is the bug, if any
    scope: Scope | None = None  # what rnnspec.check needs to see the bug (None: the default)


def _mutant(
    name: str,
    cls: type,
    trigger: Example | Trigger,
    raises: type[Exception] | None = None,
    scope: Scope | None = None,
) -> Mutant:
    trigger = trigger if isinstance(trigger, Trigger) else Trigger(trigger)
    bug = (cls.__doc__ or "").removeprefix("Bug: ").strip()
    return Mutant(name, cls.kind, cls.from_module, bug, trigger, raises, scope)


MUTANTS: tuple[Mutant, ...] = (
    # cell math
    _mutant("lstm_gates_igfo", LSTMGatesIGFO, _example("lstm")),
    _mutant("lstm_gates_figo", LSTMGatesFIGO, _example("lstm")),
    _mutant("gru_gates_rz_swapped", GRUGatesRZSwapped, _example("gru")),
    _mutant("gru_reset_before_matmul", GRUResetBeforeMatmul, _example("gru")),
    _mutant("gru_z_flipped", GRUZFlipped, _example("gru")),
    _mutant("rnn_tanh_for_relu", RNNTanhForRelu, _example("rnn", nonlinearity="relu")),
    _mutant("lstm_batch1_doubles_bias", LSTMBatchOneDoublesBias, _example("lstm", batch=1)),
    _mutant("rnn_drifts_after_50_steps", RNNDriftsAfter50Steps, _example("rnn", seq=60)),
    # weights
    _mutant("rnn_drops_b_hh", RNNDropsBHH, _example("rnn")),
    _mutant(
        "gru_own_names_detached_w_hh",
        GRUOwnNamesDetachedWhh,
        Trigger(_example("gru"), backward=True),
    ),
    _mutant("gru_drops_b_hh", GRUDropsBHH, _example("gru")),
    _mutant(
        "lstm_reverse_uses_forward_weights",
        LSTMReverseUsesForwardWeights,
        _example("lstm", bidirectional=True),
    ),
    _mutant(
        "lstm_third_layer_reuses_second",
        LSTMThirdLayerReusesSecond,
        _example("lstm", num_layers=3),
    ),
    _mutant("lstm_ignores_proj_size", LSTMIgnoresProjSize, _example("lstm", proj_size=2)),
    _mutant(
        "rnn_typeerror_bidirectional_no_bias",
        RNNTypeErrorBidirectionalNoBias,
        _example("rnn", bidirectional=True, bias=False),
        raises=TypeError,
    ),
    # directions, layers, time
    _mutant(
        "gru_reverse_not_flipped_back",
        GRUReverseNotFlippedBack,
        _example("gru", bidirectional=True),
    ),
    _mutant("gru_seq1_returns_initial_state", GRUSeqOneReturnsInitialState, _example("gru", seq=1)),
    _mutant("gru_drops_last_output", GRUDropsLastOutput, _example("gru")),
    _mutant(
        "gru_layer_rereads_previous_input",
        GRULayerRereadsPreviousInput,
        _example("gru", num_layers=3),
    ),
    _mutant(
        "lstm_layer_reads_reverse_half_twice",
        LSTMLayerReadsReverseHalfTwice,
        _example("lstm", num_layers=2, bidirectional=True),
    ),
    _mutant("rnn_dropout_in_eval", RNNDropoutInEval, _example("rnn", num_layers=2)),
    # states
    _mutant("lstm_swaps_h_c", LSTMSwapsHC, _example("lstm")),
    _mutant("lstm_ignores_hx", LSTMIgnoresHx, _example("lstm", hx=True)),
    _mutant("gru_carries_state", GRUCarriesState, Trigger(_example("gru"), twice_calls)),
    # the interface
    _mutant(
        "rnn_batch_first_read_as_time_first",
        RNNBatchFirstReadAsTimeFirst,
        _example("rnn", batch=2, seq=3, batch_first=True),
    ),
    _mutant(
        "rnn_unbatched_returns_batched", RNNUnbatchedReturnsBatched, _example("rnn", batch=None)
    ),
    _mutant(
        "rnn_no_input_size_check",
        RNNNoInputSizeCheck,
        Trigger(_example("rnn"), _one_feature_too_many),
        scope=Scope(errors=True),  # only the (opt-in) error contract can see it
    ),
    _mutant("rnn_mutates_input", RNNMutatesInput, _example("rnn")),
    _mutant("lstm_float32_output", LSTMFloat32Output, _example("lstm")),
    _mutant(
        "gru_nan_above_threshold",
        GRUNaNAboveThreshold,
        Trigger(_example("gru"), _one_value_above_threshold),
    ),
    _mutant(
        "lstm_ignores_packed_lengths",
        LSTMIgnoresPackedLengths,
        Trigger(_example("lstm", batch=3, seq=4), packed_calls),
    ),
)
