"""Keras 3 on TensorFlow (rnnspec.peers.keras_tf): its weight mapping, and the laws in its scope.

Unlike Keras on JAX, Keras on TensorFlow computes float64 in float64: the demotion of
64-bit results to 32-bit in ``keras.backend.result_type`` leaves float64 alone on this
backend, so ``tanh`` keeps its dtype, the float64 layers agree with torch to float64's
precision and the float64 SimpleRNN with ``tanh`` runs.  These tests hold it to that.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
import torch

pytest.importorskip(
    "tensorflow", reason="TensorFlow is not installed: pip install 'rnnspec[keras-tf]'"
)

from peercases import (  # noqa: E402
    CONFIGS,
    _inputs,
    assert_matches_torch,
    failed_laws,
    reference,
)

import rnnspec  # noqa: E402
from rnnspec.peers import PEERS  # noqa: E402
from rnnspec.peers._keras import keras_on  # noqa: E402

PEER = PEERS["keras-tf"]
_WHY = PEER.unavailable()  # imports Keras on TensorFlow (KERAS_BACKEND set for its import)
if _WHY is not None:
    pytest.skip(_WHY, allow_module_level=True)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_the_port_computes_what_torch_computes(
    kind: str, dtype: torch.dtype, config: dict[str, Any]
) -> None:
    # float64 within 1e-12 (peercases.TOLERANCE): nothing is demoted to float32
    assert_matches_torch(PEER.factory(kind), kind, dtype, **config)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_relu_is_keras_activation(dtype: torch.dtype) -> None:
    assert_matches_torch(PEER.factory("rnn"), "rnn", dtype, nonlinearity="relu")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float64_is_float64_inside(kind: str) -> None:
    # float32 inside would leave ~1e-8 (Keras on JAX: test_keras_jax); float64 ~1e-16
    module = reference(kind, torch.float64, num_layers=2)
    x, hx = _inputs(module)
    with torch.no_grad():
        actual, expected = PEER.factory(kind)(module)(x, hx)[0], module(x, hx)[0]
    assert actual.dtype == torch.float64
    assert (actual - expected).abs().max().item() < 1e-13


def test_keras_tanh_keeps_float64() -> None:
    keras = keras_on("tensorflow")
    assert keras.backend.result_type("float64") == "float64"
    assert keras.ops.tanh(torch.zeros(2, dtype=torch.float64).numpy()).dtype == "float64"


def _without_hn(module: torch.nn.GRU) -> torch.nn.GRU:
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(("weight_hh", "bias_hh")):
                p[2 * module.hidden_size :].zero_()
    return module


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_reset_after_false_equals_torch_where_the_variants_coincide(
    dtype: torch.dtype, config: dict[str, Any]
) -> None:
    # with W_hn = 0 and b_hn = 0 the reset gate multiplies nothing: both GRUs agree
    factory = PEERS["keras-tf-reset-before"].factory("gru")
    module = _without_hn(reference("gru", dtype, **config))
    x, hx = _inputs(module)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    with torch.no_grad():
        actual, expected = factory(module)(x, hx), module(x, hx)
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, rtol=tolerance, atol=tolerance)


def test_reset_after_false_differs_from_torch_otherwise() -> None:
    factory = PEERS["keras-tf-reset-before"].factory("gru")
    module = reference("gru", torch.float64)
    x, hx = _inputs(module)
    with torch.no_grad():
        difference = (factory(module)(x, hx)[0] - module(x, hx)[0]).abs().max().item()
    assert difference > 1e-3


def test_reset_after_false_is_diagnosed_as_the_paper_variant() -> None:
    peer = PEERS["keras-tf-reset-before"]
    report = rnnspec.check(
        peer.factory("gru"), "gru", scope=peer.scope("gru"), max_examples=5, seed=0,
        laws=["equivalence"],
    )  # fmt: skip
    (result,) = report.failed
    assert result.diagnosis == ("gru-reset-before-matmul",)


def test_keras_on_another_backend_is_refused_in_this_process() -> None:
    # this module imported Keras on TensorFlow; Keras cannot switch backends afterwards
    with pytest.raises(RuntimeError, match="Keras runs on tensorflow in this process"):
        keras_on("jax")


def test_the_probe_refuses_a_process_with_keras_on_another_backend() -> None:
    # Keras' torch backend needs only torch, which rnnspec has: import Keras on it first
    code = (
        "import os\n"
        "os.environ['KERAS_BACKEND'] = 'torch'\n"
        "import keras\n"
        "from rnnspec.peers import PEERS\n"
        "print(PEERS['keras-tf'].unavailable())\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().startswith("RuntimeError: Keras runs on torch in this process")


@pytest.mark.slow  # every law at 30 examples: minutes a kind; tox -e peers-keras-tf runs it
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_law_in_scope_passes(kind: str) -> None:
    assert failed_laws(PEER, kind) == set()


@pytest.mark.slow  # the paper's GRU by design: what differs from torch's GRU, and only that
def test_reset_before_fails_only_the_laws_that_compare_with_torch_s_gru() -> None:
    peer = PEERS["keras-tf-reset-before"]
    failed = failed_laws(peer, "gru")
    assert failed == {"equivalence", "oracle", "dropout-inactive"}
