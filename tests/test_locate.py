"""rnnspec.laws._locate: where two results first diverge, in words."""

from __future__ import annotations

from typing import Any

import torch

from rnnspec.config import RNNConfig
from rnnspec.laws._locate import locate


def said(*args: Any, **kwargs: Any) -> str:
    """``locate``'s answer as the message prints it."""
    return str(locate(*args, **kwargs))


def _config(**kw: object) -> RNNConfig:
    fields = {"kind": "lstm", "input_size": 2, "hidden_size": 3, "num_layers": 2}
    return RNNConfig(**{**fields, **kw})  # type: ignore[arg-type]


def test_nothing_to_say_without_a_config_or_for_a_scalar() -> None:
    bad = torch.ones(2, 3, dtype=torch.bool)
    assert said(bad, None, what="output", time_dim=0) == ""
    assert said(torch.tensor(True), _config(), what="output") == ""
    assert said(bad, _config(), what="output") == ""  # no axis named


def test_the_first_time_step_of_an_output() -> None:
    bad = torch.zeros(5, 2, 3, dtype=torch.bool)  # (T, B, H), time first
    bad[3, 1, 0] = True
    bad[4, 0, 2] = True
    assert said(bad, _config(), what="output", time_dim=0) == "; first at time step 3"
    batch_first = bad.transpose(0, 1)
    where = said(batch_first, _config(), what="output", time_dim=1)
    assert where == "; first at time step 3"


def test_the_direction_of_a_bidirectional_output() -> None:
    bad = torch.zeros(4, 1, 6, dtype=torch.bool)  # two directions of 3 features
    bad[2, 0, 4] = True
    where = said(bad, _config(bidirectional=True), what="output", time_dim=0)
    assert where == "; first at time step 2, direction reverse"


def test_the_layer_and_direction_of_a_state_row() -> None:
    bad = torch.zeros(4, 2, 3, dtype=torch.bool)  # (layers * directions, B, H)
    bad[3, 0, 0] = True
    where = said(bad, _config(bidirectional=True), what="h_n", state_rows=True)
    assert where == "; first in layer 1, reverse direction"
    one_way = said(bad, _config(), what="h_n", state_rows=True)  # rows are layers only
    assert one_way == "; first in layer 3"


def test_the_gate_blocks_of_a_weight_gradient() -> None:
    bad = torch.zeros(4 * 3, 2, dtype=torch.bool)  # lstm weight_ih: blocks i, f, g, o
    bad[3, 0] = True  # block f
    bad[11, 1] = True  # block o
    where = said(bad, _config(), what="grad weight_ih_l0")
    assert where == "; gate blocks f,o"
    gru = said(bad[:9], _config(kind="gru"), what="grad weight_hh_l0")
    assert gru == "; gate blocks z"
    assert said(bad, _config(), what="grad weight_hr_l0") == ""  # projection: no gates
