"""Laws about the seed's own methods (kind "seed").

The subject's factory maps a seed class name ("BiRNN", "Seq2Seq", ...) to the class
under test; ``rnnspec.reference.seed`` is the default.
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn

from rnnspec.laws._core import law
from rnnspec.laws.trial import Trial
from rnnspec.reference.seed import run_manual
from rnnspec.seed.methods import METHODS, Sizes
from rnnspec.seed.weights import copy_manual_to_rnn, copy_rnn_to_manual, seed_parameters

_SEED = ("seed",)


def seed_sizes(max_size: int = 8, max_len: int = 12) -> st.SearchStrategy[Sizes]:
    small = st.integers(1, max_size)
    return st.builds(Sizes, st.integers(1, 4), st.integers(1, max_len), small, small, small)


def _draw_sizes(trial: Trial) -> Sizes:
    sizes = trial.draw(seed_sizes(), "sizes")
    trial.note(f"sizes: {sizes}")
    return sizes


def _sequence(sizes: Sizes, steps: int, width: int, seed: int) -> torch.Tensor:
    """A float64 batch-first sequence (B, steps, width) from its own seed."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(sizes.batch_size, steps, width, dtype=torch.float64, generator=generator)


def _seeded(trial: Trial, name: str, *args: Any) -> Any:
    """An instance of the class under test, float64, its weights from torch.manual_seed(0)."""
    cls = trial.subject.factory(name)
    torch.manual_seed(0)
    try:
        return cls(*args).double()
    except Exception as exc:  # noqa: BLE001 - the class under test failing is a failed law
        trial.fail(f"{name}{args} raised {type(exc).__name__}: {exc}")


@law(
    "seed-shapes",
    "Every seed method's head gives (batch, output_size); Seq2Seq gives "
    "(batch, T_tgt, output_size).",
    kinds=_SEED,
)
def seed_shapes(trial: Trial) -> None:
    sizes = _draw_sizes(trial)
    generator = torch.Generator().manual_seed(0)
    for method in METHODS:
        model = _seeded(
            trial, method.cls.__name__, sizes.input_size, sizes.hidden_size, sizes.output_size
        ).float()
        with torch.no_grad():
            shape = tuple(method.run(model, sizes, generator).shape)
        if shape != method.expected_shape(sizes):
            trial.fail(
                f"{method.label} gives {list(shape)}, expected {list(method.expected_shape(sizes))}"
            )


@law(
    "seed-param-count",
    "Every seed method's parameter count equals its closed form (the seed's table at the "
    "seed's sizes).",
    kinds=_SEED,
)
def seed_param_count(trial: Trial) -> None:
    sizes = _draw_sizes(trial)
    for method in METHODS:
        name = method.cls.__name__
        model = _seeded(trial, name, sizes.input_size, sizes.hidden_size, sizes.output_size)
        count = sum(p.numel() for p in model.parameters())
        formula = seed_parameters(name, sizes.input_size, sizes.hidden_size, sizes.output_size)
        if count != formula:
            trial.fail(f"{method.label} has {count} parameters, the closed form says {formula}")


@law(
    "seed-manual-equivalence",
    "The seed's ManualRNN with weights copied from a one-layer nn.RNN (i2h = [W_ih | W_hh], "
    "biases folded) gives the same hidden states, and copying back reproduces its own.",
    kinds=_SEED,
)
def seed_manual_equivalence(trial: Trial) -> None:
    s = _draw_sizes(trial)
    manual = _seeded(trial, "ManualRNN", s.input_size, s.hidden_size, s.output_size)
    rnn = nn.RNN(s.input_size, s.hidden_size, batch_first=True).double()
    x = _sequence(s, s.seq_len, s.input_size, seed=1)
    tol = trial.tolerance(torch.float64, s.seq_len)
    with torch.no_grad():
        copy_rnn_to_manual(rnn, manual)
        _, last, hiddens = run_manual(manual, x)
        out, h_n = rnn(x)
        trial.close(hiddens, out, "ManualRNN hiddens vs nn.RNN output", tol, time_dim=1)
        trial.close(last, h_n[0], "ManualRNN last hidden vs nn.RNN h_n", tol)
        other = nn.RNN(s.input_size, s.hidden_size, batch_first=True).double()
        copy_manual_to_rnn(manual, other)
        trial.close(
            other(x)[0], out, "nn.RNN with ManualRNN's weights vs the original", tol, time_dim=1
        )


@law(
    "birnn-head",
    "The seed's BiRNN head reads rnn_out[:, -1, :]: the forward final state and the reverse "
    "direction after ONE step (it has seen only the last input), not both final states.",
    kinds=_SEED,
)
def birnn_head(trial: Trial) -> None:
    s = _draw_sizes(trial)
    model = _seeded(trial, "BiRNN", s.input_size, s.hidden_size, s.output_size)
    x = _sequence(s, s.seq_len, s.input_size, seed=2)
    captured: dict[str, torch.Tensor] = {}
    handle = model.fc.register_forward_pre_hook(
        lambda m, args: captured.setdefault("head", args[0])
    )
    try:
        with torch.no_grad():
            model(x)
            _, h_n = model.rnn(x)
            _, last_only = model.rnn(x[:, -1:, :])
    finally:
        handle.remove()
    if "head" not in captured:
        trial.fail("BiRNN.forward never called its fc head")
    head, h = captured["head"], s.hidden_size
    tol = trial.tolerance(torch.float64, s.seq_len)
    trial.close(head[:, :h], h_n[-2], "head input, forward half vs forward final state", tol)
    trial.close(head[:, h:], last_only[-1], "head input, reverse half vs reverse run alone", tol)


@law(
    "seq2seq-context",
    "Seq2Seq's context is the encoder's h_n, and the output depends on the source only "
    "through it: the decoder alone, given that context, gives the same output.",
    kinds=_SEED,
)
def seq2seq_context(trial: Trial) -> None:
    s = _draw_sizes(trial)
    model = _seeded(trial, "Seq2Seq", s.input_size, s.hidden_size, s.output_size)
    src = _sequence(s, s.seq_len, s.input_size, seed=3)
    tgt = _sequence(s, s.seq_len, s.output_size, seed=4)
    with torch.no_grad():
        output = model(src, tgt)
        _, h_n = model.encoder.rnn(src)
        tol = trial.tolerance(torch.float64, s.seq_len)
        trial.close(model.encoder(src), h_n, "context vs the encoder's h_n", tol)
        direct, _ = model.decoder(tgt, h_n)
    trial.close(output, direct, "Seq2Seq output vs decoder(tgt, encoder h_n)", tol, time_dim=1)


@law(
    "seq2seq-lengths",
    "Seq2Seq accepts source and target of different lengths; the output has the target's length.",
    kinds=_SEED,
)
def seq2seq_lengths(trial: Trial) -> None:
    s = _draw_sizes(trial)
    tgt_len = trial.draw(st.integers(1, 12).filter(lambda n: n != s.seq_len), "target length")
    model = _seeded(trial, "Seq2Seq", s.input_size, s.hidden_size, s.output_size)
    src = _sequence(s, s.seq_len, s.input_size, seed=5)
    tgt = _sequence(s, tgt_len, s.output_size, seed=6)
    try:
        with torch.no_grad():
            output = model(src, tgt)
    except Exception as exc:  # noqa: BLE001 - a crash on different lengths fails the law
        trial.fail(f"source length {s.seq_len}, target length {tgt_len}: raised {exc!r}")
    want = (s.batch_size, tgt_len, s.output_size)
    if tuple(output.shape) != want:
        trial.fail(f"output shape {list(output.shape)}, expected {list(want)}")
