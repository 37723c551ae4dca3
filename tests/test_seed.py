"""The seed's methods at the seed's sizes: printed shapes, the parameter table, the errata."""

from __future__ import annotations

import pytest
import torch

from rnnspec.reference import ManualRNN, StackedRNN, run_manual
from rnnspec.seed.errata import ERRATA
from rnnspec.seed.methods import METHODS, SEED_SIZES, measure_methods

ROWS = {row.label: row for row in measure_methods(SEED_SIZES)}
SEED_TABLE = {
    "Manual RNN": 24_702,
    "nn.RNN": 24_330,
    "LSTM": 93_450,
    "GRU": 70_410,
    "BiRNN": 48_650,
}


@pytest.mark.parametrize("label", list(SEED_TABLE))
def test_parameter_table_matches_the_seed(label: str) -> None:
    assert ROWS[label].params == SEED_TABLE[label], f"{label}: {ROWS[label].params:,} parameters"


@pytest.mark.parametrize("method", METHODS, ids=[m.label for m in METHODS])
def test_output_shape_is_what_the_code_does(method) -> None:  # type: ignore[no-untyped-def]
    row = ROWS[method.label]
    assert row.shape == method.expected_shape(SEED_SIZES), f"{method.label} gave {row.shape}"


def test_only_stacked_rnn_disagrees_with_what_the_seed_printed() -> None:
    flagged = {label for label, row in ROWS.items() if row.disagreements}
    assert flagged == {"Stacked RNN"}, {label: ROWS[label].disagreements for label in flagged}


def test_stacked_erratum_quotes_the_seed_and_states_the_code() -> None:
    (erratum,) = [e for e in ERRATA if e.id == "stacked-output-shape"]
    row = ROWS[erratum.method]
    assert erratum.quote == f"Output shape: torch.Size({list(row.printed_shape or ())})"
    assert erratum.actual == f"Output shape: torch.Size({list(row.shape)})"
    assert row.printed_shape != row.shape


def test_every_erratum_quote_occurs_in_the_seed(seed_lines: str) -> None:
    for erratum in ERRATA:
        assert erratum.quote in seed_lines, erratum.id


def test_manual_loop_returns_every_hidden_state() -> None:
    model = ManualRNN(5, 7, 3)
    x = torch.randn(2, 4, 5)
    output, hidden, hiddens = run_manual(model, x)
    assert (output.shape, hidden.shape, hiddens.shape) == ((2, 3), (2, 7), (2, 4, 7))
    torch.testing.assert_close(hiddens[:, -1], hidden, rtol=0, atol=0)


def test_manual_loop_rejects_an_empty_sequence() -> None:
    with pytest.raises(ValueError, match="at least one step"):
        run_manual(ManualRNN(2, 3, 1), torch.randn(1, 0, 2))


def test_stacked_rnn_has_three_layers_by_default() -> None:
    assert StackedRNN(4, 5, 2).rnn.num_layers == 3
