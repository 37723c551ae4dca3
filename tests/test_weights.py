"""Closed-form parameter counts and weight copying between layouts."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from rnnspec.config import RNNConfig
from rnnspec.reference import ManualRNN, run_manual
from rnnspec.seed.weights import (
    copy_manual_to_rnn,
    copy_rnn_to_manual,
    recurrent_parameters,
    seed_parameters,
)
from rnnspec.strategies import rnn_configs


@given(config=rnn_configs(max_input=40, max_hidden=40, max_layers=4))
def test_closed_form_counts_every_parameter(config: RNNConfig) -> None:
    module = config.build()
    count = sum(p.numel() for p in module.parameters())
    c = config
    formula = recurrent_parameters(
        c.kind, c.input_size, c.hidden_size, c.num_layers, c.bias, c.bidirectional, c.proj_size
    )
    assert formula == count, f"{config}: formula {formula}, numel {count}"


def test_seed_counts_at_the_seed_sizes() -> None:
    got = {m: seed_parameters(m, 50, 128, 10) for m in ("ManualRNN", "BuiltInRNN", "LSTMModel")}
    assert got == {"ManualRNN": 24_702, "BuiltInRNN": 24_330, "LSTMModel": 93_450}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: recurrent_parameters("lstmx", 1, 1), "kind must be one of"),
        (lambda: recurrent_parameters("gru", 1, 2, proj_size=1), "only defined for lstm"),
        (lambda: seed_parameters("Nope", 1, 1, 1), "unknown seed method"),
    ],
)
def test_bad_arguments_are_named(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


@given(
    sizes=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 9)),
    bias=st.booleans(),
)
def test_copy_rnn_to_manual_gives_the_same_hidden_states(sizes, bias: bool) -> None:  # type: ignore[no-untyped-def]
    input_size, hidden, batch, steps = sizes
    rnn = nn.RNN(input_size, hidden, bias=bias, batch_first=True).double()
    manual = copy_rnn_to_manual(rnn, ManualRNN(input_size, hidden, 2).double())
    x = torch.randn(batch, steps, input_size, dtype=torch.float64)
    with torch.no_grad():
        _, _, hiddens = run_manual(manual, x)
        expected, _ = rnn(x)
    torch.testing.assert_close(hiddens, expected, rtol=1e-12, atol=1e-12)
    back = copy_manual_to_rnn(manual, nn.RNN(input_size, hidden, batch_first=True).double())
    with torch.no_grad():
        torch.testing.assert_close(back(x)[0], expected, rtol=1e-12, atol=1e-12)


def test_copy_refuses_what_manual_rnn_cannot_express() -> None:
    manual = ManualRNN(3, 4, 1)
    with pytest.raises(ValueError, match="single-layer, unidirectional, tanh"):
        copy_rnn_to_manual(nn.RNN(3, 4, num_layers=2), manual)
    with pytest.raises(ValueError, match="size mismatch"):
        copy_rnn_to_manual(nn.RNN(3, 5), manual)
    with pytest.raises(TypeError, match="expected an nn.RNN"):
        copy_rnn_to_manual(nn.GRU(3, 4), manual)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bias=False"):
        copy_manual_to_rnn(manual, nn.RNN(3, 4, bias=False))
