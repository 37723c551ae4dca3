"""Equinox's port (rnnspec.peers.equinox): its weight mapping, and every law in its scope."""

from __future__ import annotations

from typing import Any

import pytest
import torch

pytest.importorskip("equinox", reason="Equinox is not installed: pip install 'rnnspec[jax]'")

from peercases import assert_matches_torch, every_case, failed_laws  # noqa: E402

from rnnspec.peers import PEERS  # noqa: E402

PEER = PEERS["equinox"]


@pytest.mark.parametrize(("kind", "dtype", "config"), every_case(PEER.kinds))
def test_the_port_computes_what_torch_computes(
    kind: str, dtype: torch.dtype, config: dict[str, Any]
) -> None:
    assert_matches_torch(PEER.factory(kind), kind, dtype, **config)


@pytest.mark.slow  # every law at 30 examples: minutes; tox -e peers-* runs it
@pytest.mark.parametrize("kind", PEER.kinds)
def test_every_law_in_scope_passes(kind: str) -> None:
    assert failed_laws(PEER, kind) == set()
