"""rnnspec.state: hidden states (None, h, (h, c)) and the time and batch axes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnspec.config import KINDS, Example, RNNConfig
from rnnspec.state import (
    State,
    as_state,
    batch_axis,
    map_state,
    select_samples,
    state_tensors,
    time_axis,
)


def _state(kind: str, batch: int | None = 3) -> State:
    _, hx = Example(RNNConfig(kind, 2, 4, num_layers=2), batch, 5, with_hx=True).inputs()
    return hx


def test_map_state_keeps_the_structure() -> None:
    assert map_state(lambda h: h + 1, None) is None
    h = torch.zeros(2, 3, 4)
    assert torch.equal(map_state(lambda t: t + 1, h), h + 1)
    pair = map_state(lambda t: t * 2, (h + 1, h + 2))
    assert isinstance(pair, tuple)
    assert [float(t[0, 0, 0]) for t in pair] == [2.0, 4.0]


@pytest.mark.parametrize("kind", KINDS)
def test_state_tensors_and_as_state_round_trip(kind: str) -> None:
    hx = _state(kind)
    tensors = state_tensors(hx)
    assert len(tensors) == (2 if kind == "lstm" else 1)
    again = as_state(kind, tensors)
    assert state_tensors(again) == tensors
    assert isinstance(again, tuple) == (kind == "lstm")
    assert state_tensors(None) == []


@pytest.mark.parametrize("kind", KINDS)
def test_select_samples_picks_batch_rows(kind: str) -> None:
    hx = _state(kind)
    picked = select_samples(hx, torch.tensor([2, 0]))
    for whole, part in zip(state_tensors(hx), state_tensors(picked), strict=True):
        assert part.shape == (2, 2, 4)
        assert torch.equal(part[:, 0], whole[:, 2])
        assert torch.equal(part[:, 1], whole[:, 0])
    assert select_samples(None, torch.tensor([0])) is None


@pytest.mark.parametrize("kind", KINDS)
def test_the_states_work_with_torch(kind: str) -> None:
    """What as_state builds is what torch takes and returns."""
    config = RNNConfig(kind, 2, 4, num_layers=2)
    example = Example(config, 3, 5, with_hx=True)
    module = example.reference()
    x, hx = example.inputs()
    _, h_n = module(x, hx)
    assert [t.shape for t in state_tensors(h_n)] == [t.shape for t in state_tensors(hx)]
    first = module(x.index_select(1, torch.tensor([1])), select_samples(hx, torch.tensor([1])))
    torch.testing.assert_close(first[0][:, 0], module(x, hx)[0][:, 1])


@pytest.mark.parametrize(
    ("batch_first", "batched", "time", "batch"),
    [(False, True, 0, 1), (True, True, 1, 0), (False, False, 0, None), (True, False, 0, None)],
)
def test_axes(batch_first: bool, batched: bool, time: int, batch: int | None) -> None:
    assert time_axis(batch_first, batched) == time
    if batch is not None:
        assert batch_axis(batch_first) == batch
    example = Example(RNNConfig("gru", 2, 3, batch_first=batch_first), 2 if batched else None, 4)
    assert example.time_axis == time
    x, _ = example.inputs()
    assert x.shape[time] == 4  # the sequence length lies on the time axis


def test_time_axis_matches_torch_output() -> None:
    rnn = nn.RNN(2, 3, batch_first=True)
    out, _ = rnn(torch.randn(4, 7, 2))
    assert out.shape[time_axis(True)] == 7
    assert out.shape[batch_axis(True)] == 4
