"""ExecuTorch's port (rnnspec.peers.executorch): torch's layer exported, lowered, run.

The program takes the weights as inputs, so the cache of lowered programs (by
configuration and shapes) never holds weights; these tests check that a cached program
computes with the weights of the reference it is called for.  Lowering costs seconds per
shape (the recurrence is unrolled), so the comparisons stay on small configurations.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip(
    "executorch.exir", reason="ExecuTorch is not installed: pip install 'rnnspec[executorch]'"
)

from peercases import (  # noqa: E402
    CONFIGS,
    _flat,
    _inputs,
    assert_cached_programs_take_their_callers_weights,
    assert_matches_torch,
    assert_weights_are_read_at_each_call,
    failed_laws,
    reference,
)

from rnnspec.peers import PEERS  # noqa: E402
from rnnspec.peers import executorch as port  # noqa: E402
from rnnspec.silence import silenced  # noqa: E402

PEER = PEERS["executorch"]
_WHY = PEER.unavailable()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=f"ExecuTorch cannot run here: {_WHY}")


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_computes_what_torch_computes(kind: str, config: dict[str, Any]) -> None:
    assert_matches_torch(PEER.factory(kind), kind, torch.float32, **config)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float64_computes_what_torch_computes(kind: str) -> None:
    assert_matches_torch(PEER.factory(kind), kind, torch.float64, **CONFIGS[1])


def test_relu() -> None:
    assert_matches_torch(PEER.factory("rnn"), "rnn", torch.float32, nonlinearity="relu")


def test_projections() -> None:
    assert port.SCOPE.proj_size
    # torch's own run of the reference warns that oneDNN has no projections
    projections = ((UserWarning, "LSTM with projections is not supported with oneDNN"),)
    with silenced(projections):
        assert_matches_torch(PEER.factory("lstm"), "lstm", torch.float32, proj_size=2, num_layers=2)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_xnnpack_computes_what_torch_computes(kind: str) -> None:
    factory = PEERS["executorch-xnnpack"].factory(kind)
    assert_matches_torch(factory, kind, torch.float32, num_layers=2, batch_first=True)


def test_a_cached_program_uses_the_weights_of_its_caller() -> None:
    assert_cached_programs_take_their_callers_weights(PEER.factory("lstm"), port._programs)


def test_weights_changed_after_the_factory_are_the_ones_used() -> None:
    assert_weights_are_read_at_each_call(PEER.factory("gru"))


def test_outputs_outlive_the_next_execution() -> None:
    module = reference("rnn", torch.float32)
    candidate = PEER.factory("rnn")(module)
    x, hx = _inputs(module)
    first = _flat(candidate(x, hx))
    candidate(-x, -hx)  # the same program: its planned memory is written again
    with torch.no_grad():
        expected = _flat(module(x, hx))
    for a, e in zip(first, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-5)


@pytest.mark.slow  # every law at 2 examples, about 5 to 15 minutes a kind: a lowering per shape
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_law_passes(kind: str) -> None:
    # the peer's deadline: a call on a new shape lowers a program, which takes longer than
    # check's default 10 s for most drawn shapes (and minutes for the longest)
    assert failed_laws(PEER, kind, 2) == set()
