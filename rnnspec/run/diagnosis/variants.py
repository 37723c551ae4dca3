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

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnspec.config import KINDS, Example
from rnnspec.run.diagnosis.builds import (
    Build,
    DropsBiasHH,
    DropsBiasIH,
    FedPredecessorInput,
    ForgetBiasPlusOne,
    HiddenNewBiasFolded,
    LastOutputRepeated,
    LayersShareWeights,
    OtherNonlinearity,
    ResetBeforeMatmul,
    ReverseHalfTwice,
    ReverseNotFlippedBack,
    ReverseUsesForwardWeights,
    batch_first_ignored,
    computed_in_float32,
    first_sample_hx,
    gate_order,
    identity_projection,
    ignore_hx,
    initial_as_final,
    loop_of,
    negate_block,
    on_loop,
    projection_not_applied,
    reshaped_not_transposed,
    scaled_bias,
    swap_h_c,
    unbatched_keeps_batch,
    wrapped,
)

__all__ = ["SYMPTOMS", "VARIANTS", "Symptom", "Variant"]


def _always(example: Example) -> bool:
    return True


@dataclass(frozen=True)
class Variant:
    """A known wrong implementation: ``build(reference)`` computes it with the reference's weights.

    ``applies(example)`` says where the bug can show at all (a cheap filter; a variant
    that computes what torch computes on an example is never reported for it anyway).
    ``compare_as``, when given, is the dtype whose tolerance a match is judged at, for
    a bug that changes the precision itself (None: the candidate's dtype).
    """

    id: str
    sentence: str
    kinds: tuple[str, ...]
    build: Build
    applies: Callable[[Example], bool] = _always
    compare_as: torch.dtype | None = None


@dataclass(frozen=True)
class Symptom:
    """A known bug seen in the call itself: ``seen(arguments before, arguments after)``."""

    id: str
    sentence: str
    seen: Callable[[tuple[Tensor, ...], tuple[Tensor, ...]], bool]


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


def _with_hx_batch(example: Example) -> bool:
    return example.with_hx and (example.batch_size or 0) >= 2


def _float64(example: Example) -> bool:
    return example.dtype == "float64"


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
        gate_order((0, 2, 1, 3)),
    ),
    Variant(
        "lstm-gates-figo",
        "the gate blocks are read as f, i, g, o (input and forget gates swapped); torch "
        "stacks them as i, f, g, o",
        ("lstm",),
        gate_order((1, 0, 2, 3)),
    ),
    Variant(
        "lstm-gates-ifog",
        "the gate blocks are read as i, f, o, g (cell and output gates swapped); torch "
        "stacks them as i, f, g, o",
        ("lstm",),
        gate_order((0, 1, 3, 2)),
    ),
    Variant(
        "gru-gates-zrn",
        "the gate blocks are read as z, r, n (Keras' z, r, h order); torch stacks them as r, z, n",
        ("gru",),
        gate_order((1, 0, 2)),
    ),
    # cell equations
    Variant(
        "gru-reset-before-matmul",
        "the GRU applies the reset gate before the matmul, W_hn (r * h) + b_hn (the "
        "original 2014 GRU); torch applies it after: r * (W_hn h + b_hn)",
        ("gru",),
        loop_of(ResetBeforeMatmul),
    ),
    Variant(
        "gru-b-hn-outside-reset",
        "the GRU adds b_hn outside the reset gate, b_hn + r * (W_hn h); torch multiplies "
        "it by the reset gate: r * (W_hn h + b_hn)",
        ("gru",),
        loop_of(HiddenNewBiasFolded),
        _biased,
    ),
    Variant(
        "gru-update-gate-flipped",
        "the GRU update gate is used the other way round, h' = z * n + (1 - z) * h; torch "
        "computes h' = (1 - z) * n + z * h",
        ("gru",),
        negate_block(1),
    ),
    Variant(
        "lstm-forget-bias-plus-one",
        "1 is added to the forget gate's pre-activation (TensorFlow's forget_bias=1.0); "
        "torch adds nothing beyond b_if + b_hf",
        ("lstm",),
        loop_of(ForgetBiasPlusOne),
    ),
    Variant(
        "rnn-tanh-for-relu",
        "tanh is applied although nonlinearity='relu' was asked for",
        ("rnn",),
        loop_of(OtherNonlinearity),
        _relu,
    ),
    Variant(
        "rnn-relu-for-tanh",
        "relu is applied although nonlinearity='tanh' (the default) was asked for",
        ("rnn",),
        loop_of(OtherNonlinearity),
        _tanh,
    ),
    # biases and weights
    Variant(
        "drops-b-hh",
        "the hidden-hidden bias b_hh is never added; torch adds both b_ih and b_hh",
        KINDS,
        on_loop(DropsBiasHH),
        _biased,
    ),
    Variant(
        "drops-b-ih",
        "the input-hidden bias b_ih is never added; torch adds both b_ih and b_hh",
        KINDS,
        on_loop(DropsBiasIH),
        _biased,
    ),
    Variant(
        "b-ih-doubled",
        "the input-hidden bias b_ih is added twice (a bias folded into another and added "
        "again); torch adds b_ih once",
        KINDS,
        scaled_bias("bias_ih", 2.0),
        _biased,
    ),
    Variant(
        "b-hh-doubled",
        "the hidden-hidden bias b_hh is added twice; torch adds b_hh once",
        KINDS,
        scaled_bias("bias_hh", 2.0),
        _biased,
    ),
    Variant(
        "lstm-proj-size-truncates",
        "with proj_size, h is cut to its first proj_size features instead of being "
        "projected by weight_hr (h = W_hr h in torch)",
        ("lstm",),
        identity_projection,
        _projected,
    ),
    Variant(
        "lstm-proj-size-ignored",
        "proj_size is accepted but the output and h_n are h before the projection "
        "(hidden_size features); torch returns them projected by weight_hr (proj_size "
        "features)",
        ("lstm",),
        projection_not_applied,
        _projected,
    ),
    # precision
    Variant(
        "float32-inside-float64",
        "a float64 call is computed in float32 and cast back (the result is torch's "
        "float32 one within float32's tolerance); torch computes float64 in float64",
        KINDS,
        wrapped(computed_in_float32),
        _float64,
        compare_as=torch.float32,
    ),
    # directions and layers
    Variant(
        "reverse-not-flipped-back",
        "the reverse direction's outputs are left in reversed time order; torch flips "
        "them back so that output[t] of both directions is about step t",
        KINDS,
        on_loop(ReverseNotFlippedBack),
        _bidirectional,
    ),
    Variant(
        "reverse-uses-forward-weights",
        "the reverse direction runs with the forward direction's weights; torch gives it "
        "its own (the *_reverse parameters)",
        KINDS,
        on_loop(ReverseUsesForwardWeights),
        _bidirectional,
    ),
    Variant(
        "layers-share-weights",
        "the layers above the second run with the second layer's weights (one cell "
        "shared, as `[cell] * n` does); torch gives every layer its own",
        KINDS,
        on_loop(LayersShareWeights),
        _layers(3),
    ),
    Variant(
        "layer-fed-predecessor-input",
        "a layer is fed the input of the layer before it, not that layer's output "
        "(wherever the widths agree); in torch layer k reads layer k-1's output",
        KINDS,
        on_loop(FedPredecessorInput),
        _layers(2),
    ),
    Variant(
        "upper-layer-reads-reverse-half-twice",
        "a layer above the first reads the previous layer's reverse half twice; torch "
        "feeds it the whole [forward | reverse] output",
        KINDS,
        on_loop(ReverseHalfTwice),
        _upper_bidirectional,
    ),
    Variant(
        "last-output-repeated",
        "the output's last time step repeats the step before it (an off-by-one collecting "
        "outputs); in torch the last step's output is the last state",
        KINDS,
        on_loop(LastOutputRepeated),
        _two_steps,
    ),
    # states
    Variant(
        "lstm-h-c-swapped",
        "the final state is returned as (c_n, h_n); torch returns (h_n, c_n)",
        ("lstm",),
        wrapped(swap_h_c),
    ),
    Variant(
        "hx-ignored",
        "the given initial state is ignored and every call starts from zeros",
        KINDS,
        wrapped(ignore_hx),
        _with_hx,
    ),
    Variant(
        "hx-first-sample-broadcast",
        "every sample starts from the initial state of the batch's first sample; torch "
        "starts sample b from hx[:, b]",
        KINDS,
        wrapped(first_sample_hx),
        _with_hx_batch,
    ),
    Variant(
        "final-state-is-initial",
        "the returned final state is the initial state, never updated; torch returns the "
        "state after the last step",
        KINDS,
        wrapped(initial_as_final),
    ),
    # the interface
    Variant(
        "batch-first-ignored",
        "batch_first=True is ignored: (B, T, I) input is read as (T, B, I)",
        KINDS,
        wrapped(batch_first_ignored),
        _batch_first,
    ),
    Variant(
        "batch-first-reshaped",
        "batch-first input is reshaped to (T, B, I) instead of transposed, which mixes "
        "samples and steps; torch transposes",
        KINDS,
        wrapped(reshaped_not_transposed),
        _batch_first,
    ),
    Variant(
        "unbatched-keeps-batch-dim",
        "for unbatched (T, I) input the output keeps a leading batch dimension of 1; torch "
        "returns (T, D*H_out)",
        KINDS,
        wrapped(unbatched_keeps_batch),
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
