"""Wrong implementations aimed at single laws, so that every law is seen to fail.

The zoo (``zoo.py``) holds the bugs people write; this module adds the few a law
needs that the zoo does not have, and the seed-class mutants for the "seed" laws.
``LAW_MUTANTS`` maps every law id to a subject that must fail it; ``MORE_MUTANTS`` adds
other subjects that must fail a law, each with what the failure must name.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from mutants.zoo import MUTANTS
from rnnspec.laws import Subject
from rnnspec.reference import seed
from rnnspec.reference.loops import LoopGRU, LoopLSTM, LoopRNN, State, Weights
from rnnspec.run.candidates import seed_class
from rnnspec.scope import Scope


class LSTMSpareParameter(LoopLSTM):
    """Bug: keeps an extra, unused bias: the parameter count is off by H."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bias_spare = nn.Parameter(torch.zeros(self.hidden_size))

    def load_state_dict(self, state: Any, strict: bool = True, assign: bool = False) -> Any:
        return super().load_state_dict({**state, "bias_spare": self.bias_spare}, strict, assign)


class GRUTruncatedBackprop(LoopGRU):
    """Bug: detaches the state every step: forward is right, gradients through time are not."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        return super().cell(x, tuple(s.detach() for s in state), w)


class RNNNonZeroDefaultState(LoopRNN):
    """Bug: without hx it starts from 0.1 everywhere instead of zeros."""

    def _initial_states(self, x: Tensor, hx: Any, unbatched: bool) -> list[State]:
        if hx is None:
            count = self.num_layers * self.num_directions
            hx = x.new_full((count, *([] if unbatched else [x.shape[1]]), self.state_sizes[0]), 0.1)
        return super()._initial_states(x, hx, unbatched)


class RNNNoTrainingDropout(LoopRNN):
    """Bug: never applies dropout, not even in training mode."""

    def between_layers(self, y: Tensor) -> Tensor:
        return y


class RNNSilentDropout(LoopRNN):
    """Bug: constructing one layer with dropout > 0 does not warn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            super().__init__(*args, **kwargs)


class GRUReducedPrecisionFloat32(LoopGRU):
    """Bug: in float32 the matmuls round their inputs to bfloat16 (like TF32 left on)."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        if x.dtype == torch.float32:
            x = x.to(torch.bfloat16).float()
            state = tuple(s.to(torch.bfloat16).float() for s in state)
        return super().cell(x, state, w)


class RNNOneDNNPathDropsBias(LoopRNN):
    """Bug: a oneDNN-only code path that forgets b_hh (only while oneDNN is enabled)."""

    def weights(self, layer: int, direction: int) -> Weights:
        w = super().weights(layer, direction)
        if torch._C._get_mkldnn_enabled():
            w = {**w, "bias_hh": None}
        return w


class LSTMDataDependentBranch(LoopLSTM):
    """Bug: branches on the input's values, so it cannot run on the meta device."""

    def validate_input(self, x: Tensor) -> None:
        super().validate_input(x)
        if bool((x.abs() > 1e6).any()):
            raise ValueError("input too large")


class GRUNoValidation(LoopGRU):
    """Bug: validates nothing; bad input fails deep inside, with torch's wrong exception."""

    def validate_input(self, x: Tensor) -> None:
        return None

    def validate_hidden(self, hx: State, batch: int, unbatched: bool) -> None:
        return None


class GRUNoisy(LoopGRU):
    """Bug: adds fresh noise (1e-6) to every call's output: calls are not repeatable."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        output, h_n = super().forward(input, hx)
        return output + 1e-6 * torch.randn_like(output), h_n


class LSTMNoGradInEval(LoopLSTM):
    """Bug: in eval mode it runs under no_grad (an "inference kernel"): backward fails.

    What cuDNN does: its RNN backward refuses eval mode.
    """

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        with torch.set_grad_enabled(self.training and torch.is_grad_enabled()):
            return super().forward(input, hx)


class GRUSumsDirections(LoopGRU):
    """Bug: adds the two directions' outputs instead of concatenating them."""

    def run_layer(
        self, x: Tensor, states: list[State], layer: int, lengths: Tensor | None
    ) -> tuple[Tensor, list[State]]:
        y, finals = super().run_layer(x, states, layer, lengths)
        if self.bidirectional and layer == self.num_layers - 1:
            half = y.shape[-1] // 2
            y = y[..., :half] + y[..., half:]
        return y, finals


class RNNPeeksAhead(LoopRNN):
    """Bug: step t reads the mean of inputs t and t+1: a unidirectional output sees the future."""

    def run_direction(
        self, x: Tensor, state: State, w: Weights, lengths: Tensor | None, reverse: bool
    ) -> tuple[Tensor, State]:
        if x.shape[0] > 1:
            x = torch.cat([(x[:-1] + x[1:]) / 2, x[-1:]])
        return super().run_direction(x, state, w, lengths, reverse)


class GRUFirstSampleBias(LoopGRU):
    """Bug: sample 0 of every batch gets an extra 0.1 on its state at every step."""

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        h, _ = super().cell(x, state, w)
        if h.shape[0] > 1:
            h = torch.cat([h[:1] + 0.1, h[1:]])
        return h, (h,)


class RNNOnCPUOnly(LoopRNN):
    """Bug: computes on the CPU and returns CPU tensors whatever the input's device."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        self.cpu()
        return super().forward(input.cpu(), None if hx is None else hx.cpu())


class LSTMDefaultsToFloat64(LoopLSTM):
    """Bug: switches torch's default dtype to float64 in forward ("for accuracy") and leaves it."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        torch.set_default_dtype(torch.float64)
        return super().forward(input, hx)


class GRUSetsThreads(LoopGRU):
    """Bug: picks its own intra-op thread count by input size and leaves it set."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        x = input.data if isinstance(input, PackedSequence) else input
        torch.set_num_threads(1 if x.numel() < 64 else 2)
        return super().forward(input, hx)


class RNNTurnsOneDNNOff(LoopRNN):
    """Bug: turns oneDNN off for the whole process (to dodge a kernel) and never back on."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        torch.backends.mkldnn.enabled = False
        return super().forward(input, hx)


class LSTMLeavesGradOff(LoopLSTM):
    """Bug: an "inference fast path" that turns grad mode off in eval mode and forgets it."""

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        if not self.training:
            torch.set_grad_enabled(False)
        return super().forward(input, hx)


# -- the seed's classes, mutated ------------------------------------------------------
class StackedRNNFullSequence(seed.StackedRNN):
    """Bug: the head reads every step (what the seed printed), not the last one."""

    def forward(self, x: Tensor) -> Tensor:
        rnn_out, _ = self.rnn(x)
        return self.fc(rnn_out)  # (B, T, O)


class ManualRNNNoBias(seed.ManualRNN):
    """Bug: i2h has no bias, so the count is off by H."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__(input_size, hidden_size, output_size)
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size, bias=False)


class ManualRNNHiddenFirst(seed.ManualRNN):
    """Bug: concatenates [h, x] instead of [x, h], so weights copied from nn.RNN misalign."""

    def forward(self, input: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        combined = torch.cat((hidden, input), 1)
        return self.i2o(combined), torch.tanh(self.i2h(combined))


class BiRNNFinalStates(seed.BiRNN):
    """Bug (a "fix" the seed did not make): the head reads both directions' final states."""

    def forward(self, x: Tensor) -> Tensor:
        _, h_n = self.rnn(x)
        return self.fc(torch.cat([h_n[-2], h_n[-1]], dim=1))


class Seq2SeqZeroContext(seed.Seq2Seq):
    """Bug: the decoder starts from zeros and never sees the encoder's context."""

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        output, _ = self.decoder(tgt, torch.zeros_like(self.encoder(src)))
        return output


class Seq2SeqSameLength(seed.Seq2Seq):
    """Bug: adds the source's per-step mean to the target, step by step: lengths must match."""

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        mixed = tgt + src.mean(dim=2, keepdim=True)  # (B, T, O) + (B, T_src, 1)
        output, _ = self.decoder(mixed, self.encoder(src))
        return output


def seed_with(mutant: type) -> Subject:
    """The seed's classes with one replaced by ``mutant``."""
    base = mutant.__mro__[1].__name__

    def classes(name: str) -> Any:
        return mutant if name == base else seed_class(name)

    # a module-level name, so that a failure's repro can import the factory
    classes.__name__ = classes.__qualname__ = f"seed_with_{mutant.__name__}"
    globals()[classes.__name__] = classes
    return Subject("seed", classes, Scope(), f"seed with {mutant.__name__}")


def loop(cls: type, **scope: Any) -> Subject:
    return Subject(cls.kind, cls.from_module, Scope(errors=True, **scope), cls.__name__, cls)


def zoo(name: str) -> Subject:
    (mutant,) = [m for m in MUTANTS if m.name == name]
    return Subject(mutant.kind, mutant.factory, Scope(errors=True), name)


LAW_MUTANTS: dict[str, Subject] = {
    "shape": zoo("rnn_unbatched_returns_batched"),
    "bidirectional-doubling": loop(GRUSumsDirections),
    "param-count": loop(LSTMSpareParameter),
    "equivalence": zoo("lstm_gates_igfo"),
    "gradients": loop(GRUTruncatedBackprop),
    "eval-backward": loop(LSTMNoGradInEval),
    "finite-differences": zoo("gru_own_names_detached_w_hh"),
    "hx-none-is-zeros": loop(RNNNonZeroDefaultState),
    "oracle": zoo("gru_reset_before_matmul"),
    "stacked-composition": zoo("lstm_third_layer_reuses_second"),
    "bidirectional-composition": zoo("lstm_reverse_uses_forward_weights"),
    "bidirectional-ends": zoo("gru_reverse_not_flipped_back"),
    "bidirectional-not-causal": zoo("gru_reverse_not_flipped_back"),
    "causality": loop(RNNPeeksAhead),
    "streaming": zoo("lstm_ignores_hx"),
    "batch-permutation": loop(GRUFirstSampleBias),
    "batch-independence": zoo("lstm_batch1_doubles_bias"),
    "unbatched": zoo("rnn_unbatched_returns_batched"),
    "packed": zoo("lstm_ignores_packed_lengths"),
    "dropout-inactive": zoo("rnn_dropout_in_eval"),
    "dropout-between-layers": loop(RNNNoTrainingDropout),
    "dropout-single-layer-warns": loop(RNNSilentDropout),
    "clip-grad-norm": zoo("gru_nan_above_threshold"),
    "dtype-parity": loop(GRUReducedPrecisionFloat32),
    "backend-parity": loop(RNNOneDNNPathDropsBias, dtypes=(torch.float32,)),
    "meta-shapes": loop(LSTMDataDependentBranch),
    "device-parity": loop(RNNOnCPUOnly, devices=("cpu", "cuda", "mps")),
    "error-input-size": loop(GRUNoValidation),
    "error-hx-shape": loop(GRUNoValidation),
    "error-input-rank": loop(GRUNoValidation),
    "error-dtype": loop(GRUNoValidation),
    "error-empty-sequence": loop(GRUNoValidation),
    "no-input-mutation": zoo("rnn_mutates_input"),
    "repeatable": loop(GRUNoisy),
    "stateless": zoo("gru_carries_state"),
    "output-dtype-device": zoo("lstm_float32_output"),
    "global-state": loop(LSTMDefaultsToFloat64),
    "seed-shapes": seed_with(StackedRNNFullSequence),
    "seed-param-count": seed_with(ManualRNNNoBias),
    "seed-manual-equivalence": seed_with(ManualRNNHiddenFirst),
    "birnn-head": seed_with(BiRNNFinalStates),
    "seq2seq-context": seed_with(Seq2SeqZeroContext),
    "seq2seq-lengths": seed_with(Seq2SeqSameLength),
}
"""For every law, a subject that breaks it (device-parity needs an accelerator to show it)."""

MORE_MUTANTS: dict[str, tuple[str, Subject, str]] = {
    "float64-default": (
        "global-state",
        loop(LSTMDefaultsToFloat64),
        "torch.get_default_dtype() changed from torch.float32 to torch.float64",
    ),
    "threads": ("global-state", loop(GRUSetsThreads), "torch.get_num_threads() changed from"),
    "onednn-off": (
        "global-state",
        loop(RNNTurnsOneDNNOff),
        "torch.backends.mkldnn.enabled changed from True to False",
    ),
    "grad-off": (
        "global-state",
        loop(LSTMLeavesGradOff),
        "torch.is_grad_enabled() changed from True to False",
    ),
}
"""More subjects that must fail a law: by name, (law id, subject, what its message names)."""
