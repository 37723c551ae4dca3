"""The shape, parameter and structure checks of the claims ledger.

They build the seed's own modules and compute the answer;
comparisons run in float64 with ``torch.testing.assert_close``'s float64 defaults
(``rtol=1e-7, atol=1e-7``), and "depends on" means an output moved by more than ``1e-12``
when one input was perturbed.  Speed and gradient checks live in :mod:`rnnspec.claims.measured`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor, nn

from rnnspec.claims.model import Context, Outcome, fact
from rnnspec.reference.seed import BiRNN, BuiltInRNN, ManualRNN, Seq2Seq, StackedRNN, run_manual
from rnnspec.seed.methods import SEED_SIZES
from rnnspec.seed.weights import copy_rnn_to_manual

S = SEED_SIZES
MOVED = 1e-12
"""An output "depends on" an input if perturbing the input moves it by more than this."""


M = TypeVar("M", bound=nn.Module)


def seeded(make: Callable[[], M]) -> M:
    """``make()`` in float64, its weights drawn from torch's seed 0."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return make().double()


def randn64(*shape: int, seed: int = 1) -> Tensor:
    """A float64 standard-normal tensor from its own seeded generator."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _same(a: Tensor, b: Tensor) -> bool:
    try:
        torch.testing.assert_close(a, b)
    except AssertionError:
        return False
    return True


def _moved(a: Tensor, b: Tensor) -> float:
    return float((a - b).detach().abs().max())


# --- structure -----------------------------------------------------------------------------


def _birnn() -> tuple[BiRNN, Tensor, Tensor]:
    model = seeded(lambda: BiRNN(S.input_size, S.hidden_size, S.output_size))
    assert isinstance(model, BiRNN)
    x = randn64(S.batch_size, S.seq_len, S.input_size)
    out, _ = model.rnn(x)  # (B, T, 2H)
    return model, x, out


def birnn_width(ctx: Context) -> Outcome:
    model, _, out = _birnn()
    width = out.shape[-1]
    return fact(
        width == 2 * S.hidden_size == model.fc.in_features,
        f"rnn_out {list(out.shape)}, fc in {model.fc.in_features}",
        f"hidden_size={S.hidden_size}: bidirectional rnn_out has {width} features per step.",
    )


def _direction(bi: nn.RNN, suffix: str) -> nn.RNN:
    one = nn.RNN(bi.input_size, bi.hidden_size, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").copy_(getattr(bi, f"{name}_l0{suffix}"))
    return one


def birnn_concatenates(ctx: Context) -> Outcome:
    model, x, out = _birnn()
    h = S.hidden_size
    forward = _direction(model.rnn, "")(x)[0]  # (B, T, H)
    backward = _direction(model.rnn, "_reverse")(x.flip(1))[0].flip(1)  # (B, T, H)
    ok = _same(out[..., :h], forward) and _same(out[..., h:], backward)
    return fact(
        ok,
        "out[..., :H] forward, out[..., H:] backward",
        "Each step of rnn_out is [forward state at t, backward state at t], checked against "
        "two single-direction nn.RNNs with the same weights (the second on the reversed input).",
    )


def birnn_head(ctx: Context) -> Outcome:
    model, x, out = _birnn()
    h = S.hidden_size
    x2 = x.clone()
    x2[:, :-1] += 1.0  # every step but the last
    out2, h_n = model.rnn(x2)
    head_moved = _moved(out[:, -1, h:], out2[:, -1, h:])
    summary_moved = _moved(out[:, 0, h:], out2[:, 0, h:])
    sees_all = head_moved > MOVED
    return fact(
        sees_all,
        f"backward half of rnn_out[:, -1] moved {head_moved:.1e}",
        "The head reads rnn_out[:, -1, :]. Its backward half is the reverse direction after ONE "
        f"step: perturbing x_1..x_{{T-1}} moved it by {head_moved:.1e}, while the backward "
        f"summary of the whole sequence, rnn_out[:, 0, H:] (== h_n[1]: "
        f"{_same(out2[:, 0, h:], h_n[1])}), moved by {summary_moved:.1e}. So the head gets the "
        "forward summary and the backward state of the last input only, not both summaries.",
    )


def birnn_not_causal(ctx: Context) -> Outcome:
    model, x, out = _birnn()
    x2 = x.clone()
    x2[:, -1] += 1.0  # the last input only
    first_moved = _moved(out[:, 0], model.rnn(x2)[0][:, 0])
    uni = seeded(lambda: BuiltInRNN(S.input_size, S.hidden_size, S.output_size)).rnn
    uni_moved = _moved(uni(x)[0][:, :-1], uni(x2)[0][:, :-1])
    return fact(
        first_moved > MOVED,
        f"out[:, 0] moved {first_moved:.1e} by x_T",
        f"Changing only the last input moved the bidirectional output at step 1 by "
        f"{first_moved:.1e}: no step's output is final before the sequence ends. For a "
        f"unidirectional nn.RNN the earlier outputs moved {uni_moved:.1e} (causal, streamable).",
    )


def _seq2seq() -> Seq2Seq:
    model = seeded(lambda: Seq2Seq(S.input_size, S.hidden_size, S.output_size))
    assert isinstance(model, Seq2Seq)
    return model


def seq2seq_lengths(ctx: Context) -> Outcome:
    model = _seq2seq()
    shapes = {}
    for src_len, tgt_len in ((10, 3), (10, 17), (25, 10)):
        src = randn64(S.batch_size, src_len, S.input_size)
        tgt = randn64(S.batch_size, tgt_len, S.output_size, seed=2)
        shapes[(src_len, tgt_len)] = tuple(model(src, tgt).shape)
    ok = all(shape == (S.batch_size, t, S.output_size) for (_, t), shape in shapes.items())
    text = ", ".join(f"src {s} -> tgt {t}: {list(v)}" for (s, t), v in shapes.items())
    return fact(ok, text, "Seq2Seq output follows the target's length, whatever the source's.")


def encoder_any_length(ctx: Context) -> Outcome:
    model = _seq2seq()
    shapes = [tuple(model.encoder(randn64(2, t, S.input_size)).shape) for t in (1, 10, 100)]
    return fact(
        all(s == (1, 2, S.hidden_size) for s in shapes),
        f"context {list(shapes[0])} for T = 1, 10, 100",
        "The encoder's context has shape (1, B, H) whatever the source length.",
    )


def encoder_final_hidden(ctx: Context) -> Outcome:
    model = _seq2seq()
    x = randn64(S.batch_size, S.seq_len, S.input_size)
    out, _ = model.encoder.rnn(x)  # (B, T, H)
    context = model.encoder(x)  # (1, B, H)
    return fact(
        _same(context[0], out[:, -1]),
        f"context {list(context.shape)} == rnn_out[:, -1]",
        "Encoder.forward returns nn.RNN's h_n, which equals its output at the last step.",
    )


def decoder_starts_from_context(ctx: Context) -> Outcome:
    model = _seq2seq()
    src, tgt = randn64(4, 10, S.input_size), randn64(4, 7, S.output_size, seed=2)
    context = model.encoder(src)
    direct = model.decoder.fc(model.decoder.rnn(tgt, context)[0])
    from_zero = model.decoder(tgt, torch.zeros_like(context))[0]
    differs = _moved(direct, from_zero)
    return fact(
        _same(model(src, tgt), direct) and differs > MOVED,
        f"output moved {differs:.1e} vs a zero start",
        "Seq2Seq(src, tgt) equals the decoder's nn.RNN run from h_0 = encoder context; starting "
        f"from zeros instead moves the output by {differs:.1e}.",
    )


def context_summarizes(ctx: Context) -> Outcome:
    model = _seq2seq()
    x = randn64(4, S.seq_len, S.input_size)
    context = model.encoder(x)
    moved = {}
    for t in (0, S.seq_len // 2, S.seq_len - 1):
        x2 = x.clone()
        x2[:, t] += 1.0
        moved[t + 1] = _moved(context, model.encoder(x2))
    text = ", ".join(f"x_{t}: {m:.1e}" for t, m in moved.items())
    return fact(
        all(m > MOVED for m in moved.values()),
        text,
        f"Perturbing one input step by 1.0 moves the context by: {text}. It depends on every "
        "step, but at default initialisation the early steps barely register (see the "
        "vanishing-gradient claims).",
    )


def decoder_generates(ctx: Context) -> Outcome:
    model = _seq2seq()
    src, tgt = randn64(4, 10, S.input_size), randn64(4, 7, S.output_size, seed=2)
    tgt2 = tgt.clone()
    tgt2[:, 5] += 1.0
    moved = _moved(model(src, tgt)[:, 5], model(src, tgt2)[:, 5])
    return fact(
        moved <= MOVED,
        f"output[:, 5] moved {moved:.1e} with tgt[:, 5]",
        "Read as generation (each output from the decoder's own previous output): "
        "Decoder.forward runs nn.RNN over the given target sequence in one call (teacher "
        f"forcing); changing tgt[:, 5] moved output[:, 5] by {moved:.1e}. Outputs are never fed "
        "back, so without a target sequence the model cannot generate one.",
    )


def stacked_hidden_shape(ctx: Context) -> Outcome:
    model = seeded(lambda: StackedRNN(S.input_size, S.hidden_size, S.output_size))
    _, hidden = model.rnn(randn64(S.batch_size, S.seq_len, S.input_size))
    expected = (3, S.batch_size, S.hidden_size)
    return fact(tuple(hidden.shape) == expected, f"{list(hidden.shape)}", "StackedRNN's h_n")


def stacked_same_shapes(ctx: Context) -> Outcome:
    rows = ctx.methods()
    stacked, single = rows["Stacked RNN"].shape, rows["nn.RNN"].shape
    return fact(
        stacked == single,
        f"stacked {list(stacked)}, single {list(single)}",
        "StackedRNN and BuiltInRNN give the same output shape; the seed's printed "
        "[32, 10, 10] for the stacked model is an erratum (stacked-output-shape).",
    )


def stacked_feeds_up(ctx: Context) -> Outcome:
    model = seeded(lambda: StackedRNN(S.input_size, S.hidden_size, S.output_size))
    x = randn64(S.batch_size, S.seq_len, S.input_size)
    h = x
    for layer in range(3):
        one = nn.RNN(h.shape[-1], S.hidden_size, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(one, f"{name}_l0").copy_(getattr(model.rnn, f"{name}_l{layer}"))
        h = one(h)[0]  # (B, T, H)
    return fact(
        _same(model.rnn(x)[0], h),
        "3 chained 1-layer RNNs == num_layers=3",
        "Feeding each single-layer nn.RNN's output sequence to the next reproduces the stack.",
    )


def lstm_two_states(ctx: Context) -> Outcome:
    _, (h, c) = nn.LSTM(S.input_size, S.hidden_size, batch_first=True)(
        torch.randn(2, 3, S.input_size)
    )
    return fact(h.shape == c.shape, f"h_n {list(h.shape)}, c_n {list(c.shape)}", "nn.LSTM state")


def gru_no_cell(ctx: Context) -> Outcome:
    gru = nn.GRU(S.input_size, S.hidden_size, batch_first=True)
    _, state = gru(torch.randn(2, 3, S.input_size))
    lstm_rows = nn.LSTM(S.input_size, S.hidden_size).all_weights[0][0].shape[0]  # 4H
    gru_rows = gru.all_weights[0][0].shape[0]  # 3H
    return fact(
        isinstance(state, Tensor) and gru_rows < lstm_rows,
        f"state {list(state.shape)}; {gru_rows // S.hidden_size} vs "
        f"{lstm_rows // S.hidden_size} gate blocks",
        "nn.GRU returns one state tensor, no cell state, and has 3 gate blocks to LSTM's 4.",
    )


def batch_first(ctx: Context) -> Outcome:
    rnn = seeded(lambda: nn.RNN(S.input_size, S.hidden_size, batch_first=True))
    x = randn64(S.batch_size, S.seq_len, S.input_size)
    assert isinstance(rnn, nn.RNN)
    rnn.batch_first = False
    time_major = rnn(x.transpose(0, 1))[0].transpose(0, 1)
    rnn.batch_first = True
    out = rnn(x)[0]
    return fact(
        _same(out, time_major),
        f"x {list(x.shape)} -> out {list(out.shape)}",
        "batch_first=True on (B, T, I) equals the time-major run on the transposed input.",
    )


def all_time_steps(ctx: Context) -> Outcome:
    rnn = seeded(lambda: nn.RNN(S.input_size, S.hidden_size, batch_first=True))
    out, h_n = rnn(randn64(S.batch_size, S.seq_len, S.input_size))
    ok = tuple(out.shape) == (S.batch_size, S.seq_len, S.hidden_size) and _same(out[:, -1], h_n[0])
    return fact(ok, f"rnn_out {list(out.shape)}", "rnn_out has every step; its last is h_n[0].")


def manual_equals_rnn(ctx: Context) -> Outcome:
    rnn = seeded(lambda: nn.RNN(S.input_size, S.hidden_size, batch_first=True))
    manual = seeded(lambda: ManualRNN(S.input_size, S.hidden_size, S.output_size))
    copy_rnn_to_manual(rnn, manual)
    x = randn64(S.batch_size, S.seq_len, S.input_size)
    _, _, hiddens = run_manual(manual, x)
    return fact(
        _same(hiddens, rnn(x)[0]),
        "ManualRNN hiddens == nn.RNN rnn_out",
        "With i2h = [W_ih | W_hh] and bias b_ih + b_hh, the seed's loop reproduces nn.RNN.",
    )


def clip_grad_norm(ctx: Context) -> Outcome:
    model = seeded(lambda: BuiltInRNN(S.input_size, S.hidden_size, S.output_size))
    (model(randn64(S.batch_size, S.seq_len, S.input_size)).sum() * 1e3).backward()
    before = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    total = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0))
    after = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    scale = float(after.norm()) / total
    same_direction = _same(torch.cat([g.flatten() for g in before]) * scale, after)
    return fact(
        float(after.norm()) <= 5.0 * (1 + 1e-6) and same_direction,
        f"total norm {total:.1f} -> {float(after.norm()):.4f}",
        "clip_grad_norm_ rescales all gradients by one factor so their joint norm is 5.0.",
    )


def dropout_between_layers(ctx: Context) -> Outcome:
    import warnings

    x = torch.randn(4, 6, S.input_size)
    moved, warned = {}, {}
    for layers in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rnn = nn.RNN(S.input_size, S.hidden_size, layers, dropout=0.5, batch_first=True)
        warned[layers] = any("dropout" in str(w.message) for w in caught)
        rnn.train()
        moved[layers] = _moved(rnn(x)[0], rnn(x)[0])
    return fact(
        moved[1] == 0.0 and moved[2] > 0.0,
        f"1 layer: no effect (warns: {warned[1]}); 2 layers: active",
        "dropout=0.5 acts only between stacked layers: in training mode two calls of a 1-layer "
        f"nn.RNN agree exactly (torch warns: {warned[1]}); with 2 layers they differ by "
        f"{moved[2]:.2f}. The seed's snippet only regularises when num_layers > 1.",
    )
