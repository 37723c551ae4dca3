"""PaddlePaddle's port (rnnspec.peers.paddle): its weight mapping, and the laws in scope.

Paddle's modules without biases (``bias_ih_attr=False, bias_hh_attr=False``) fail to
build with more than one cell, and with one cell crash the process in their forward
(docs/peers/paddle_no_bias.py): the ``paddle`` row fails there, so ``paddle-with-bias``
checks the rest.  The cell API (``paddle-cells``) has no such defect.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip("paddle", reason="PaddlePaddle is not installed: pip install 'rnnspec[paddle]'")

from peercases import CONFIGS, _inputs, assert_matches_torch, failed_laws, reference  # noqa: E402

from rnnspec.peers import PEERS  # noqa: E402

FUSED, CELLS = PEERS["paddle"], PEERS["paddle-cells"]
DTYPES = [torch.float32, torch.float64]
WITH_BIAS = [c for c in CONFIGS if c.get("bias", True)]
PROJECTED = [{"proj_size": 2}, {"proj_size": 3, "num_layers": 2, "bidirectional": True}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", WITH_BIAS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_modules_compute_what_torch_computes(
    kind: str, config: dict[str, Any], dtype: torch.dtype
) -> None:
    assert_matches_torch(FUSED.factory(kind), kind, dtype, **config)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_cells_compute_what_torch_computes(
    kind: str, config: dict[str, Any], dtype: torch.dtype
) -> None:
    assert_matches_torch(CELLS.factory(kind), kind, dtype, **config)


@pytest.mark.parametrize("peer", [FUSED, CELLS], ids=["modules", "cells"])
@pytest.mark.parametrize("config", PROJECTED)
def test_projections_map_to_weight_ho(peer: Any, config: dict[str, Any]) -> None:
    assert_matches_torch(peer.factory("lstm"), "lstm", torch.float64, **config)


def test_relu_and_eval_mode_dropout() -> None:
    assert_matches_torch(FUSED.factory("rnn"), "rnn", torch.float64, nonlinearity="relu")
    assert_matches_torch(FUSED.factory("gru"), "gru", torch.float64, num_layers=2, dropout=0.5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_modules_without_biases_and_two_layers_fail_to_build(kind: str) -> None:
    module = reference(kind, torch.float32, num_layers=2, bias=False)
    with pytest.raises(IndexError):
        FUSED.factory(kind)(module)


def test_training_mode_dropout_one_zeroes_the_top_layers_input() -> None:
    module = reference("lstm", torch.float64, num_layers=2, dropout=1.0).train()
    x, hx = _inputs(module)
    with torch.no_grad():
        output, _ = FUSED.factory("lstm")(module)(x, hx)
        top = torch.nn.LSTM(5, 5).double()
        top.load_state_dict(
            {k.replace("_l1", "_l0"): v for k, v in module.state_dict().items() if "_l1" in k}
        )
        expected, _ = top(torch.zeros_like(output), (hx[0][1:], hx[1][1:]))
    torch.testing.assert_close(output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.slow  # every law at 30 examples: minutes; tox -e peers-* runs it
@pytest.mark.parametrize("name", ["paddle-with-bias", "paddle-cells"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_law_in_scope_passes(name: str, kind: str) -> None:
    peer = PEERS[name]
    assert failed_laws(peer, kind) == set()
