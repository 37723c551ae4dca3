"""The ledger: every checkable sentence of the seed notebook, quoted exactly, with its check.

Printed lines (shapes, the parameter table) are checked here by re-printing them from the
seed's own code; structure checks are in :mod:`rnnspec.claims.structural`, speed and
gradient checks in :mod:`rnnspec.claims.measured`.  Each erratum of
:data:`rnnspec.seed.errata.ERRATA` is the claim that quotes its line, marked with its id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch

from rnnspec.claims import structural as cc
from rnnspec.claims.measured import (
    faster,
    gated_better,
    manual_speed,
    python_loop_speed,
    ratio_near,
    stacked_speed,
    vanishes,
)
from rnnspec.claims.model import Claim, Context, Outcome, fact
from rnnspec.reference.seed import ManualRNN, run_manual
from rnnspec.seed.errata import ERRATA
from rnnspec.seed.methods import METHODS, SEED_SIZES

__all__ = ["CLAIMS"]

S = SEED_SIZES
_PREFIX = {"LSTM": "LSTM output", "GRU": "GRU output"}


def _shape_line(label: str, shape: tuple[int, ...]) -> str:
    return f"{_PREFIX.get(label, 'Output shape')}: {torch.Size(shape)}"


def _param_line(label: str, params: int) -> str:
    return f"{label:15} {params:,} parameters"


def printed_shape(label: str) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        row = ctx.methods()[label]
        assert row.printed_shape is not None
        notes = " ".join(e.explanation for e in ERRATA if e.method == label)
        return fact(
            row.shape == row.printed_shape,
            _shape_line(label, row.shape),
            f"The seed's {label} code, run at the seed's sizes, prints "
            f"'{_shape_line(label, row.shape)}'; the seed printed "
            f"'{_shape_line(label, row.printed_shape)}'. {notes}".strip(),
            shape=list(row.shape),
        )

    return check


def printed_params(label: str) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        row = ctx.methods()[label]
        return fact(
            row.params == row.printed_params,
            f"{row.params:,}",
            f"sum(p.numel() for p in model.parameters()) for the seed's {label} at the seed's "
            f"sizes is {row.params:,}; the closed form gives {row.formula_params:,}.",
            params=row.params,
        )

    return check


def input_shape(ctx: Context) -> Outcome:
    line = f"Input shape: {torch.randn(S.batch_size, S.seq_len, S.input_size).shape}"
    return fact(
        line == "Input shape: torch.Size([32, 10, 50])", line, "torch.randn(32, 10, 50).shape"
    )


def manual_hidden_shape(ctx: Context) -> Outcome:
    model = cc.seeded(lambda: ManualRNN(S.input_size, S.hidden_size, S.output_size))
    assert isinstance(model, ManualRNN)
    _, hidden, _ = run_manual(model, cc.randn64(S.batch_size, S.seq_len, S.input_size))
    line = f"Hidden shape: {hidden.shape}"
    ok = line == "Hidden shape: torch.Size([32, 128])"
    return fact(ok, line, "the seed's Method 1 loop at the seed's sizes")


def params_ratio(target: float, tolerance: float = 0.25) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        lstm, gru = ctx.methods()["LSTM"].params, ctx.methods()["GRU"].params
        ratio = lstm / gru
        low, high = target * (1 - tolerance), target * (1 + tolerance)
        return fact(
            low <= ratio <= high,
            f"LSTM/GRU {ratio:.2f}x",
            f"Rule: '~{target:g}x' holds if LSTM/GRU is within {tolerance:.0%} of {target:g} "
            f"({low:.2f}-{high:.2f}). The seed's own models have {lstm:,} and {gru:,} parameters "
            f"(its table prints the same): {ratio:.3f}x. The recurrent layers have 4 gate "
            "blocks against 3, so 4/3 of GRU's, and the heads are equal.",
            ratio=ratio,
        )

    return check


def more_params(more: str, fewer: str) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        a, b = ctx.methods()[more].params, ctx.methods()[fewer].params
        return fact(a > b, f"{more} {a:,} vs {fewer} {b:,}", "the seed models' parameters")

    return check


def _slug(label: str) -> str:
    return label.lower().replace(" ", "-").replace(".", "")


M1, M2, M3 = "Method 1: Manual RNN", "Method 2: Built-in nn.RNN", "Method 3: LSTM & GRU"
M4, M5, M6 = "Method 4: Bidirectional RNN", "Method 5: Stacked/Deep RNN", "Method 6: Seq2Seq"
TABLE, WHEN = "Quick Comparison: Architecture Comparison", "Quick Comparison: When to Use What?"
PARAMS, TIPS = "Quick Comparison: Parameter Count Comparison", "Training Tips"
_SECTION = {"Manual RNN": M1, "nn.RNN": M2, "LSTM": M3, "GRU": M3, "BiRNN": M4,
            "Stacked RNN": M5, "Seq2Seq": M6}  # fmt: skip
"""The section of the seed where each method's output is printed."""

_PRINTED = (
    Claim("input-shape", "Sample data", "Input shape: torch.Size([32, 10, 50])", "shape",
          "the seed's sample batch has this shape", input_shape),
    *(
        Claim(f"shape-{_slug(m.label)}", _SECTION[m.label],
              _shape_line(m.label, m.printed_shape), "shape",
              f"the seed's {m.label} code prints this line at the seed's sizes",
              printed_shape(m.label), law="seed-shapes")
        for m in METHODS
    ),
    Claim("manual-hidden-shape", M1, "Hidden shape: torch.Size([32, 128])", "shape",
          "the seed's Method 1 loop leaves a hidden state of this shape", manual_hidden_shape),
    *(
        Claim(f"params-{_slug(m.label)}", PARAMS, _param_line(m.label, m.printed_params),
              "parameters", f"the seed's {m.label} model has this many parameters",
              printed_params(m.label), law="seed-param-count")
        for m in METHODS
        if m.printed_params is not None
    ),
)  # fmt: skip

_STATED = (
    Claim("manual-is-nn-rnn", M1,
          "Build RNN from scratch by processing one time step at a time.", "structure",
          "the seed's one-step-per-call loop computes what nn.RNN computes",
          cc.manual_equals_rnn, law="seed-manual-equivalence"),
    Claim("manual-python-loop", M1, "Slower due to Python loops", "speed",
          "the seed's loop is slower than nn.RNN, and the Python loop is why",
          python_loop_speed),
    Claim("manual-10-50x", M2, "10-50x faster than manual RNN", "speed",
          "nn.RNN's forward is 10 to 50 times faster than the seed's ManualRNN loop",
          manual_speed(10, 50)),
    Claim("manual-much-faster", M2, "Much faster than manual looping", "speed",
          "nn.RNN is at least 2x faster than the seed's loop", manual_speed(2, None)),
    Claim("batch-first", M2, "Input shape is (batch, seq, features)", "shape",
          "with batch_first=True nn.RNN reads (B, T, I) and equals the time-major run",
          cc.batch_first, law="shape"),
    Claim("rnn-out-all-steps", M2, "Contains output for ALL time steps (batch, seq, hidden)",
          "shape", "rnn_out is (B, T, H) and its last step is h_n", cc.all_time_steps,
          law="shape"),
    Claim("gated-long-range", M3,
          "Advanced RNN variants that handle long-term dependencies better.", "gradient",
          "LSTM and GRU keep far larger gradients from early inputs than a plain RNN",
          gated_better),
    Claim("lstm-solves-vanishing", M3, "Solves vanishing gradient problem", "gradient",
          "an LSTM's d h_T / d x_1 does not vanish as T grows", vanishes("LSTM", False)),
    Claim("lstm-two-states", M3, "Has cell state + hidden state", "structure",
          "nn.LSTM returns a hidden and a cell state", cc.lstm_two_states, law="shape"),
    Claim("lstm-more-than-rnn", M3, "More parameters than vanilla RNN", "parameters",
          "LSTMModel has more parameters than BuiltInRNN", more_params("LSTM", "nn.RNN"),
          law="seed-param-count"),
    Claim("gru-no-cell", M3, "Simpler than LSTM (no cell state)", "structure",
          "nn.GRU has no cell state and fewer gates than nn.LSTM", cc.gru_no_cell, law="shape"),
    Claim("gru-faster-training", M3, "Faster training than LSTM", "speed",
          "a GRU training step is faster than an LSTM's",
          faster("lstm-gru-train", "LSTM", "GRU")),
    Claim("gru-fewer-params", M3, "Fewer parameters", "parameters",
          "GRUModel has fewer parameters than LSTMModel", more_params("LSTM", "GRU"),
          law="seed-param-count"),
    Claim("lstm-3x-gru", M3, "LSTM has ~3x more parameters than GRU", "parameters",
          "LSTMModel has about 3 times GRUModel's parameters", params_ratio(3.0),
          law="seed-param-count"),
    Claim("bi-2x-slower", M4, "2x slower than unidirectional", "speed",
          "a bidirectional nn.RNN forward takes about twice a unidirectional one's time",
          ratio_near("bidirectional-forward", "bidirectional", "unidirectional", 2.0,
                     also="bidirectional-train")),
    Claim("bi-not-streaming", M4, "Cannot use for real-time/streaming tasks", "structure",
          "a bidirectional output at step t depends on inputs after t",
          cc.birnn_not_causal, law="bidirectional-not-causal"),
    Claim("bi-output-doubles", M4, "Output Size Doubles", "shape",
          "rnn_out has 2 * hidden_size features, and the head takes them", cc.birnn_width,
          law="bidirectional-doubling"),
    Claim("bi-concatenates", M4, "Concatenates forward and backward hidden states",
          "structure", "each step of rnn_out is [forward state, backward state]",
          cc.birnn_concatenates, law="bidirectional-composition"),
    Claim("bi-head-both-directions", M4, "Concatenates forward and backward hidden states",
          "structure", "the seed's head, fed rnn_out[:, -1, :], sees both directions' "
          "summaries of the sequence", cc.birnn_head, law="birnn-head"),
    Claim("bi-256-features", M4, "Example: hidden_size=128 → BiRNN outputs 256 features",
          "shape", "at hidden_size=128 rnn_out has 256 features per step", cc.birnn_width,
          law="bidirectional-doubling"),
    Claim("stacked-more-params-time", M5, "More parameters = more training time", "speed",
          "each added layer (more parameters) makes a training step slower", stacked_speed),
    Claim("stacked-feeds-up", M5, "Layer 1 output → Layer 2 input → Layer 3 input",
          "structure", "num_layers=3 is three single-layer RNNs chained",
          cc.stacked_feeds_up, law="stacked-composition"),
    Claim("stacked-same-shapes", M5, "Input/output shapes remain the same", "shape",
          "StackedRNN's output has BuiltInRNN's shape", cc.stacked_same_shapes, law="seed-shapes"),
    Claim("stacked-hidden-shape", M5,
          "Hidden state has shape (num_layers, batch, hidden_size)", "shape",
          "StackedRNN's h_n is (3, B, H)", cc.stacked_hidden_shape, law="shape"),
    Claim("stacked-more-time", M5, "More layers = more training time", "speed",
          "each added layer makes a training step slower", stacked_speed),
    Claim("seq2seq-key-point", M6, "Input length ≠ Output length", "structure",
          "Seq2Seq serves source and target of different lengths", cc.seq2seq_lengths,
          law="seq2seq-lengths"),
    Claim("encoder-any-length", M6, "Takes input sequence of any length", "shape",
          "the encoder's context is (1, B, H) for any source length",
          cc.encoder_any_length, law="seq2seq-lengths"),
    Claim("encoder-final-hidden", M6, "Returns only the final hidden state (context vector)",
          "structure", "the context is the encoder RNN's last hidden state",
          cc.encoder_final_hidden, law="seq2seq-context"),
    Claim("context-summarizes", M6, 'This context vector "summarizes" the entire input',
          "structure", "the context depends on every input step", cc.context_summarizes,
          law="seq2seq-context"),
    Claim("decoder-starts-from-context", M6,
          "Starts with encoder's context as initial hidden state", "structure",
          "the decoder's h_0 is the encoder's context", cc.decoder_starts_from_context,
          law="seq2seq-context"),
    Claim("decoder-generates", M6, "Generates output sequence step by step", "structure",
          "the decoder generates each output from its own previous one", cc.decoder_generates),
    Claim("seq2seq-lengths", M6, "Input and output can have different lengths!", "structure",
          "Seq2Seq's output follows the target's length, not the source's",
          cc.seq2seq_lengths, law="seq2seq-lengths"),
    Claim("rnn-vanishing", TABLE, "Vanishing gradients", "gradient",
          "a plain RNN's d h_T / d x_1 vanishes as T grows", vanishes("RNN", True)),
    Claim("gru-faster-than-lstm", TABLE, "Faster than LSTM", "speed",
          "a GRU forward is faster than an LSTM's",
          faster("lstm-gru-forward", "LSTM", "GRU", also="lstm-gru-train")),
    Claim("bi-not-streaming-usage", WHEN, "Not for real-time/streaming", "structure",
          "a bidirectional output at step t depends on inputs after t",
          cc.birnn_not_causal, law="bidirectional-not-causal"),
    Claim("clip-grad-norm", TIPS, "nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)",
          "structure", "clip_grad_norm_ rescales the gradients to a joint norm of at most 5",
          cc.clip_grad_norm, law="clip-grad-norm"),
    Claim("dropout", TIPS, "nn.RNN(input_size, hidden_size, num_layers, dropout=0.5)",
          "structure", "dropout=0.5 drops activations between stacked layers (nothing with "
          "one layer)", cc.dropout_between_layers, law="dropout-between-layers"),
)  # fmt: skip

_ADVICE = (
    ("advice-learning", M1, "Good for learning RNN internals", "a teaching recommendation"),
    ("advice-long-sequences", M3, "Best for long sequences (100+ time steps)",
     "a recommendation about accuracy after training; the gradient claims show what holds "
     "at initialisation"),
    ("advice-gru-performance", M3, "Similar performance to LSTM",
     "task accuracy after training, not measured here"),
    ("advice-bi-accuracy", M4, "Better accuracy when full sequence is available",
     "task accuracy, not measured here"),
    ("advice-abstraction", M5, "Each layer learns different levels of abstraction",
     "about what trained layers represent"),
    ("advice-complex-patterns", M5, "Better for complex patterns", "task accuracy, not measured"),
    ("advice-2-4-layers", M5, "Typically use 2-4 layers (diminishing returns after that)",
     "a rule of thumb"),
    ("advice-capacity", M5, "More layers = better learning capacity", "about trained models"),
    ("advice-adam-lr", TIPS, "Start with 0.001 for Adam", "a hyperparameter suggestion"),
    ("advice-hidden-size", TIPS, "Start with 128 or 256", "a hyperparameter suggestion"),
    ("advice-1-2-layers", TIPS, "1-2 layers usually sufficient", "a rule of thumb"),
    ("advice-harder-to-train", TIPS, "More layers = harder to train",
     "about optimising deeper models, not measured here"),
)  # fmt: skip


def _with_errata(claims: tuple[Claim, ...]) -> tuple[Claim, ...]:
    """Mark the claim each erratum quotes; an erratum that matches none is a bug here."""
    marked = list(claims)
    for erratum in ERRATA:
        hits = [
            i for i, c in enumerate(marked)
            if c.quote == erratum.quote and c.section == _SECTION[erratum.method]
        ]  # fmt: skip
        if len(hits) != 1:
            raise LookupError(f"erratum {erratum.id!r} matches {len(hits)} ledger claims, not 1")
        marked[hits[0]] = replace(marked[hits[0]], erratum=erratum.id)
    return tuple(marked)


CLAIMS: tuple[Claim, ...] = _with_errata(
    (*_PRINTED, *_STATED, *(Claim(i, s, q, "advice", why) for i, s, q, why in _ADVICE))
)
"""The ledger, in the seed's order within each part."""
