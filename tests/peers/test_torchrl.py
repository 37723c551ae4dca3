"""torchrl's layers (rnnspec.peers.torchrl): torch's state dict loaded as is, and the laws.

``torchrl.modules.LSTM`` accepts ``proj_size`` but never applies ``weight_hr``
(docs/peers/torchrl_proj_size.py): its LSTM fails where a projection is drawn, and
its GRU passes every law in scope, and so does the LSTM without projections.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip(
    "torchrl.modules", reason="torchrl is not installed: pip install 'rnnspec[torchrl]'"
)

from peercases import _inputs, failed_laws, reference  # noqa: E402

from rnnspec.peers import PEERS  # noqa: E402
from rnnspec.silence import silenced  # noqa: E402

PEER = PEERS["torchrl"]
ONE_WAY = [
    {},
    {"num_layers": 2, "batch_first": True},
    {"num_layers": 3, "bias": False},
    {"num_layers": 2, "dropout": 0.4},  # eval mode: no dropout
]


def _flat(result: Any) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("config", ONE_WAY)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_layers_compute_what_torch_computes(
    kind: str, config: dict[str, Any], dtype: torch.dtype
) -> None:
    module = reference(kind, dtype, **config)
    x, hx = _inputs(module)  # batched only: torchrl refuses a 2-D input
    candidate = PEER.factory(kind)(module)
    for args in ((x,), (x, hx)):
        with torch.no_grad():
            for a, e in zip(_flat(candidate(*args)), _flat(module(*args)), strict=True):
                torch.testing.assert_close(
                    a,
                    e,
                    rtol=1e-12 if dtype == torch.float64 else 1e-5,
                    atol=1e-12 if dtype == torch.float64 else 1e-5,
                )


def test_the_candidate_is_a_torch_module_with_torchs_names() -> None:
    module = reference("gru", torch.float64, num_layers=2)
    candidate = PEER.factory("gru")(module)
    assert dict(candidate.named_parameters()).keys() == dict(module.named_parameters()).keys()


def test_the_lstm_ignores_its_projection() -> None:
    module = reference("lstm", torch.float64, proj_size=2)
    x, _ = _inputs(module)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        PEER.factory("lstm")(module)(x)
    one_step = x[:1]
    output, _ = PEER.factory("lstm")(module)(one_step)
    assert output.shape[-1] == module.hidden_size  # torch's is proj_size wide


@pytest.mark.slow  # every law at 30 examples: minutes; tox -e peers-* runs it
@pytest.mark.parametrize(("name", "kind"), [("torchrl", "gru"), ("torchrl-without-proj", "lstm")])
def test_every_law_in_scope_passes(name: str, kind: str) -> None:
    peer = PEERS[name]
    assert failed_laws(peer, kind) == set()


def test_meta_device_modules_are_built_on_it() -> None:
    module = reference("gru", torch.float32).to("meta")
    candidate = PEER.factory("gru")(module)
    assert next(candidate.parameters()).device.type == "meta"


SCAN = PEERS["torchrl-scan"]
# torch warns (DeprecationWarning: torch.jit.script_method) while the scan traces its
# step; this suite makes warnings errors, and hoptorch's health check reads any error as
# a broken scan backward and refuses the scan from then on, in the whole process
SCAN_TRACING = ((DeprecationWarning, "`torch.jit.script_method` is deprecated"),)


@pytest.mark.parametrize("config", [c for c in ONE_WAY if not c.get("dropout")])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_scan_layers_compute_what_torch_computes(kind: str, config: dict[str, Any]) -> None:
    module = reference(kind, torch.float64, **config)
    x, hx = _inputs(module)
    with silenced(SCAN_TRACING):
        candidate = SCAN.factory(kind)(module)
    assert candidate.use_scan
    for args in ((x,), (x, hx)):
        with torch.no_grad(), silenced(SCAN_TRACING):
            for a, e in zip(_flat(candidate(*args)), _flat(module(*args)), strict=True):
                torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_scan_refuses_what_its_scope_leaves_out(kind: str) -> None:
    scope = SCAN.scope(kind)
    assert not scope.dropout
    assert not scope.meta
    with_dropout = reference(kind, torch.float32, num_layers=2, dropout=0.4)  # eval mode
    with (
        pytest.raises(NotImplementedError, match="does not support dropout"),
        silenced(SCAN_TRACING),
    ):
        SCAN.factory(kind)(with_dropout)(_inputs(with_dropout)[0])
    on_meta = reference(kind, torch.float32).to("meta")
    with pytest.raises(RuntimeError, match="meta"):
        SCAN.factory(kind)(on_meta)(torch.empty(7, 2, 3, device="meta"))


@pytest.mark.slow  # 30 examples per law: 9 to 10 min each here (a scan call costs 1 to 2.5 s)
@pytest.mark.parametrize(
    ("name", "kind"), [("torchrl-scan", "gru"), ("torchrl-scan-without-proj", "lstm")]
)
def test_every_law_in_the_scans_scope_passes(name: str, kind: str) -> None:
    peer = PEERS[name]
    failed = failed_laws(peer, kind)
    assert failed == set()
