"""Keras 3 on JAX (rnnspec.peers.keras_jax): its weight mapping, and the laws in its scope.

Keras computes ``tanh`` in float32 for a float64 tensor (``keras.ops.tanh`` takes its
dtype from ``keras.backend.result_type``, which demotes 64-bit to 32-bit): its float64
LSTM and GRU agree with torch only to float32's precision, and its SimpleRNN with tanh
raises (JAX's scan refuses a carry that turns float32).  docs/peers/keras_float64_tanh.py
shows it without rnnspec.  In float32 the SimpleRNN passes every law.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip("jax", reason="JAX is not installed: pip install 'rnnspec[keras]'")

from peercases import (  # noqa: E402
    CONFIGS,
    _inputs,
    assert_matches_torch,
    failed_laws,
    reference,
)

import rnnspec  # noqa: E402
from rnnspec.peers import PEERS  # noqa: E402

PEER = PEERS["keras-jax"]
_WHY = PEER.unavailable()  # imports Keras on JAX (KERAS_BACKEND set for its import)
if _WHY is not None:
    pytest.skip(_WHY, allow_module_level=True)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_port_computes_what_torch_computes_in_float32(
    kind: str, config: dict[str, Any]
) -> None:
    assert_matches_torch(PEER.factory(kind), kind, torch.float32, **config)


def test_relu_is_keras_activation() -> None:
    assert_matches_torch(PEER.factory("rnn"), "rnn", torch.float32, nonlinearity="relu")


def test_relu_rnn_is_exact_in_float64() -> None:  # no tanh: nothing is demoted
    assert_matches_torch(PEER.factory("rnn"), "rnn", torch.float64, nonlinearity="relu")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_float64_lstm_and_gru_are_float32_inside(kind: str) -> None:
    module = reference(kind, torch.float64)
    x, hx = _inputs(module)
    with torch.no_grad():
        actual, expected = PEER.factory(kind)(module)(x, hx)[0], module(x, hx)[0]
    difference = (actual - expected).abs().max().item()
    assert actual.dtype == torch.float64
    assert 1e-12 < difference < 1e-5  # float32's rounding, not float64's


def test_float64_tanh_rnn_raises() -> None:
    module = reference("rnn", torch.float64)
    x, _ = _inputs(module)
    with pytest.raises(TypeError, match="float32"):
        PEER.factory("rnn")(module)(x)


def _without_hn(module: torch.nn.GRU) -> torch.nn.GRU:
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(("weight_hh", "bias_hh")):
                p[2 * module.hidden_size :].zero_()
    return module


@pytest.mark.parametrize("config", CONFIGS)
def test_reset_after_false_equals_torch_where_the_variants_coincide(
    config: dict[str, Any],
) -> None:
    factory = PEERS["keras-jax-reset-before"].factory("gru")
    module = _without_hn(reference("gru", torch.float32, **config))
    x, hx = _inputs(module)
    with torch.no_grad():
        actual, expected = factory(module)(x, hx), module(x, hx)
    torch.testing.assert_close(actual[0], expected[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(actual[1], expected[1], rtol=1e-5, atol=1e-5)


def test_reset_after_false_is_diagnosed_as_the_paper_variant() -> None:
    peer = PEERS["keras-jax-reset-before"]
    report = rnnspec.check(
        peer.factory("gru"), "gru", scope=peer.scope("gru"), max_examples=5, seed=0,
        laws=["equivalence"],
    )  # fmt: skip
    (result,) = report.failed
    assert result.diagnosis == ("gru-reset-before-matmul",)


@pytest.mark.slow  # every law at 30 examples: minutes; tox -e peers-* runs it
def test_every_law_in_scope_passes_for_the_rnn_in_float32() -> None:
    peer = PEERS["keras-jax-float32"]
    assert failed_laws(peer, "rnn") == set()


@pytest.mark.slow  # every law at the table's budget for Keras (10 examples): minutes
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_float64_fails_the_laws_that_compare_with_a_float64_computation(kind: str) -> None:
    failed = failed_laws(PEER, kind, max_examples=10)
    assert failed == {"equivalence", "oracle", "dropout-inactive"}
