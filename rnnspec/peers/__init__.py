"""Peers: other frameworks' recurrent layers, ported so that rnnspec's laws can judge them.

Each peer is a module here with one factory per kind it has (``rnn``, ``lstm``, ``gru``):
the factory takes torch's reference module, copies its weights into the framework's
layer and returns a callable with torch's calling convention, with an honest
``scope``.  :data:`PEERS` is the registry; importing this package, or a peer's module,
imports no framework: a factory imports it when called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rnnspec.config import KINDS

__all__ = ["PEERS", "Peer", "peer_named"]


@dataclass(frozen=True)
class Peer:
    """A framework's recurrent layers as rnnspec checks them."""

    name: str
    module: str  # the adapter, e.g. "rnnspec.peers.flax"
    kinds: tuple[str, ...]  # the kinds it has a factory for, by the kind's name
    extra: str  # the pip extra that installs the framework: rnnspec[<extra>]
    requires: tuple[str, ...]  # what must import for the peer to run
    description: str
    distributions: tuple[str, ...] = ()  # what the table's versions column names
    factories: tuple[tuple[str, str], ...] = ()  # kind -> factory name, where not the kind

    def factory(self, kind: str) -> Callable[[Any], Any]:
        """The adapter's factory for ``kind`` (imports the adapter, not the framework)."""
        if kind not in self.kinds:
            raise ValueError(f"peer {self.name} has no {kind}; it has {', '.join(self.kinds)}")
        attribute = dict(self.factories).get(kind, kind)
        factory: Callable[[Any], Any] = getattr(importlib.import_module(self.module), attribute)
        return factory

    def unavailable(self) -> str | None:
        """Why the peer cannot run here (its framework's import error), or None."""
        for name in self.requires:
            try:
                importlib.import_module(name)
            except Exception as exc:  # an ImportError, or a framework that fails to load
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                return f"{type(exc).__name__}: {first} (pip install 'rnnspec[{self.extra}]')"
        return None


_ALL = (
    Peer(
        "flax",
        "rnnspec.peers.flax",
        KINDS,
        "jax",
        ("jax", "flax.linen"),
        "Flax linen nn.RNN over SimpleCell / LSTMCell / GRUCell (nn.Bidirectional), one per layer",
        ("flax", "jax", "jaxlib"),
    ),
    Peer(
        "equinox",
        "rnnspec.peers.equinox",
        ("lstm", "gru"),
        "jax",
        ("jax", "equinox"),
        "Equinox eqx.nn.LSTMCell / GRUCell, lax.scan over time, vmap over the batch",
        ("equinox", "jax", "jaxlib"),
    ),
    Peer(
        "haiku",
        "rnnspec.peers.haiku",
        KINDS,
        "jax",
        ("jax", "haiku"),
        "Haiku hk.VanillaRNN / LSTM / GRU under hk.dynamic_unroll",
        ("dm-haiku", "jax", "jaxlib"),
    ),
)

PEERS: dict[str, Peer] = {peer.name: peer for peer in _ALL}
"""Every peer, by name, in the order the table shows them."""


def peer_named(name: str) -> Peer:
    try:
        return PEERS[name]
    except KeyError:
        raise ValueError(f"no peer named {name!r}; the peers are {', '.join(PEERS)}") from None
