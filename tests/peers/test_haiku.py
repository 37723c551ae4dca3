"""Haiku's port (rnnspec.peers.haiku): its weight mapping, and every law in its scope.

Haiku's GRU is the 2014 paper's (the reset gate before the matmul) by design: no weights
make it torch's, so its equivalence laws fail, and the diagnosis names the variant.  With
``W_hn = 0`` and ``b_hn = 0`` the two variants coincide, which tests the rest of the
mapping (Haiku's z is torch's 1 - z, its gate blocks are z, r, a).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip("haiku", reason="Haiku is not installed: pip install 'rnnspec[jax]'")

from peercases import _inputs, assert_matches_torch, every_case, failed_laws, reference  # noqa: E402

import rnnspec  # noqa: E402
from rnnspec.peers import PEERS  # noqa: E402

PEER = PEERS["haiku"]


@pytest.mark.parametrize(("kind", "dtype", "config"), every_case(("lstm",)))
def test_the_lstm_computes_what_torch_computes(
    kind: str, dtype: torch.dtype, config: dict[str, Any]
) -> None:
    assert_matches_torch(PEER.factory(kind), kind, dtype, **config)


@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True, "bias": False}])
def test_the_relu_rnn_computes_what_torch_computes(config: dict[str, Any]) -> None:
    assert_matches_torch(PEER.factory("rnn"), "rnn", torch.float64, nonlinearity="relu", **config)


def _without_hn(module: torch.nn.GRU) -> torch.nn.GRU:
    hidden = module.hidden_size
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(("weight_hh", "bias_hh")):
                p[2 * hidden :].zero_()
    return module


@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True}])
def test_the_gru_equals_torch_where_the_variants_coincide(config: dict[str, Any]) -> None:
    module = _without_hn(reference("gru", torch.float64, **config))
    x, hx = _inputs(module)
    with torch.no_grad():
        expected, actual = module(x, hx), PEER.factory("gru")(module)(x, hx)
    for a, e in zip((actual[0], actual[1]), (expected[0], expected[1]), strict=True):
        torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)


def test_the_gru_differs_from_torch_where_w_hn_acts() -> None:
    module = reference("gru", torch.float64)
    x, hx = _inputs(module)
    with torch.no_grad():
        expected, actual = module(x, hx), PEER.factory("gru")(module)(x, hx)
    assert (actual[0] - expected[0]).abs().max() > 1e-3


def test_the_gru_is_diagnosed_as_the_paper_variant() -> None:
    report = rnnspec.check(PEER.factory("gru"), "gru", max_examples=5, seed=0, laws=["equivalence"])
    (result,) = report.failed
    assert result.diagnosis == ("gru-reset-before-matmul",)


@pytest.mark.slow  # every law at 30 examples: minutes; tox -e peers-* runs it
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_every_law_in_scope_passes(kind: str) -> None:
    assert failed_laws(PEER, kind) == set()


@pytest.mark.slow  # every law at the table's budget for the JAX rows (10 examples): minutes
def test_the_gru_fails_exactly_the_laws_that_compare_with_torchs_gru() -> None:
    failed = failed_laws(PEER, "gru", max_examples=10)
    assert failed == {"equivalence", "oracle", "dropout-inactive"}
