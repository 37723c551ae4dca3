"""OpenVINO's port (rnnspec.peers.openvino): torch's layer converted, compiled for CPU.

The compiled model takes the weights as inputs, so the cache of compiled models (by
configuration and shapes) never holds weights; these tests check that a cached model
computes with the weights of the reference it is called for.  OpenVINO's CPU plugin
computes float64 inputs in float32 and returns float64: the ``openvino`` row's float64
laws fail there, and ``openvino-float32`` checks the rest.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip("openvino", reason="OpenVINO is not installed: pip install 'rnnspec[openvino]'")

from peercases import (  # noqa: E402
    CONFIGS,
    _flat,
    _inputs,
    assert_cached_programs_take_their_callers_weights,
    assert_matches_torch,
    assert_weights_are_read_at_each_call,
    reference,
)

from rnnspec.peers import PEERS  # noqa: E402
from rnnspec.peers import openvino as port  # noqa: E402
from rnnspec.peers.table import cell_in_child  # noqa: E402
from rnnspec.silence import silenced  # noqa: E402

PEER = PEERS["openvino"]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_computes_what_torch_computes(kind: str, config: dict[str, Any]) -> None:
    assert_matches_torch(PEER.factory(kind), kind, torch.float32, **config)


def test_relu() -> None:
    assert_matches_torch(PEER.factory("rnn"), "rnn", torch.float32, nonlinearity="relu")


def _largest_difference(kind: str, dtype: torch.dtype, **config: Any) -> float:
    module = reference(kind, dtype, **config)
    x, hx = _inputs(module)
    with torch.no_grad():
        actual, expected = _flat(PEER.factory(kind)(module)(x, hx)), _flat(module(x, hx))
    assert [a.dtype for a in actual] == [e.dtype for e in expected]
    return max(float((a - e).abs().max()) for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float64_is_float32_inside(kind: str) -> None:
    # float64 rounding would leave ~1e-16; float32's leaves ~1e-8
    assert 1e-10 < _largest_difference(kind, torch.float64, num_layers=2) < 1e-5


def test_float32_inference_precision_is_asked_for() -> None:
    module = reference("gru", torch.float32)
    x, _ = _inputs(module)
    PEER.factory("gru")(module)(x)
    compiled = port._compiled.newest()
    assert str(compiled.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"


def test_a_cached_model_uses_the_weights_of_its_caller() -> None:
    assert_cached_programs_take_their_callers_weights(PEER.factory("lstm"), port._compiled)


def test_weights_changed_after_the_factory_are_the_ones_used() -> None:
    assert_weights_are_read_at_each_call(PEER.factory("gru"))


def test_projections_do_not_convert() -> None:
    module = reference("lstm", torch.float32, proj_size=2)
    x, _ = _inputs(module)
    # torch's tracing run warns that oneDNN has no projections; OpenVINO then fails
    projections = ((UserWarning, "LSTM with projections is not supported with oneDNN"),)
    with silenced(projections), pytest.raises(Exception, match="aten::lstm"):
        PEER.factory("lstm")(module)(x)
    assert not port.SCOPE.proj_size


@pytest.mark.slow  # every law at 30 examples: about 10 min a kind; tox -e peers-openvino
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_law_in_float32_passes(kind: str) -> None:
    # in a fresh interpreter, as rnnspec peers runs it: the law workers are forked, and a
    # process forked after OpenVINO ran here (the tests above) can hang or crash in it
    cell = cell_in_child(PEERS["openvino-float32"], kind, max_examples=30, seed=0, verbose=False)
    assert (cell.status, cell.failed) == ("passed", ())
    assert cell.passed == 19


@pytest.mark.slow
def test_every_law_but_the_float64_ones_passes() -> None:
    cell = cell_in_child(PEERS["openvino"], "gru", max_examples=5, seed=0, verbose=False)
    assert set(cell.failed) == {
        "equivalence [float32-inside-float64]",
        "oracle [float32-inside-float64]",
        "batch-independence",
        "dropout-inactive",
    }
