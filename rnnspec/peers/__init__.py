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

from rnnspec.config import DEADLINE, KINDS

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
    probe: str | None = None  # the adapter's function that raises when it cannot run here
    # Scope fields narrowed for this row, e.g. (("dtypes", ("float32",)),): a second row
    # of a peer whose defect fails every law, to show what else holds (the first row keeps
    # the failure; this one's name and description say what it left out, and why)
    narrow: tuple[tuple[str, Any], ...] = ()
    # seconds one factory or candidate call may take (rnnspec's deadline), where the
    # framework is slower than torch by design: a first call that compiles, a warm-up
    deadline: float = DEADLINE

    def factory(self, kind: str) -> Callable[[Any], Any]:
        """The adapter's factory for ``kind`` (imports the adapter, not the framework)."""
        if kind not in self.kinds:
            raise ValueError(f"peer {self.name} has no {kind}; it has {', '.join(self.kinds)}")
        attribute = dict(self.factories).get(kind, kind)
        factory: Callable[[Any], Any] = getattr(importlib.import_module(self.module), attribute)
        return factory

    def scope(self, kind: str) -> Any:
        """The Scope this row checks ``kind`` in: the factory's, narrowed by ``narrow``."""
        from dataclasses import replace

        from rnnspec.config import dtype_named
        from rnnspec.scope import Scope

        scope = getattr(self.factory(kind), "scope", None) or Scope()
        changes = dict(self.narrow)
        if "dtypes" in changes:
            changes["dtypes"] = tuple(dtype_named(name) for name in changes["dtypes"])
        return replace(scope, **changes)

    def unavailable(self) -> str | None:
        """Why the peer cannot run here (its framework's import error), or None."""
        try:
            for name in self.requires:
                importlib.import_module(name)
            if self.probe is not None:
                getattr(importlib.import_module(self.module), self.probe)()
        except Exception as exc:  # an ImportError, or a framework that fails to load
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return f"{type(exc).__name__}: {first} (pip install 'rnnspec[{self.extra}]')"
        return None


_ALL: tuple[Peer, ...] = (
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
    Peer(
        "keras-jax",
        "rnnspec.peers.keras_jax",
        KINDS,
        "keras",
        ("jax",),
        "Keras 3 SimpleRNN / LSTM / GRU (reset_after=True) on JAX, Bidirectional, one per layer",
        ("keras", "jax", "jaxlib"),
        probe="probe",
    ),
    Peer(
        "keras-jax-float32",
        "rnnspec.peers.keras_jax",
        ("rnn",),
        "keras",
        ("jax",),
        "keras-jax's SimpleRNN in float32 only: Keras computes tanh in float32 for float64 "
        "tensors, and a float64 SimpleRNN with tanh raises, so every law fails in float64",
        ("keras", "jax", "jaxlib"),
        probe="probe",
        narrow=(("dtypes", ("float32",)),),
    ),
    Peer(
        "keras-jax-reset-before",
        "rnnspec.peers.keras_jax",
        ("gru",),
        "keras",
        ("jax",),
        "Keras 3 GRU(reset_after=False) on JAX: the 2014 paper's GRU, by design (float32 "
        "only, so the diagnosis sees the design, not the float64 defect of keras-jax)",
        ("keras", "jax", "jaxlib"),
        factories=(("gru", "gru_reset_before"),),
        probe="probe",
        narrow=(("dtypes", ("float32",)),),
    ),
)

_ALL += (
    Peer(
        "keras-tf",
        "rnnspec.peers.keras_tf",
        KINDS,
        "keras-tf",
        ("tensorflow",),
        "Keras 3 SimpleRNN / LSTM / GRU (reset_after=True) on TensorFlow, Bidirectional, one "
        "per layer",
        ("keras", "tensorflow"),
        probe="probe",
    ),
    Peer(
        "keras-tf-reset-before",
        "rnnspec.peers.keras_tf",
        ("gru",),
        "keras-tf",
        ("tensorflow",),
        "Keras 3 GRU(reset_after=False) on TensorFlow: the 2014 paper's GRU, by design (both "
        "dtypes: Keras on TensorFlow computes float64 in float64)",
        ("keras", "tensorflow"),
        factories=(("gru", "gru_reset_before"),),
        probe="probe",
    ),
)

_PADDLE_CELLS = (("rnn", "rnn_cells"), ("lstm", "lstm_cells"), ("gru", "gru_cells"))
_ALL += (
    Peer(
        "paddle",
        "rnnspec.peers.paddle",
        KINDS,
        "paddle",
        ("paddle",),
        "PaddlePaddle nn.SimpleRNN / LSTM / GRU: the fused rnn kernel (an LSTM with proj_size "
        "takes its layer loop)",
        ("paddlepaddle",),
    ),
    Peer(
        "paddle-with-bias",
        "rnnspec.peers.paddle",
        KINDS,
        "paddle",
        ("paddle",),
        "paddle with biases only: Paddle's modules fail to build with bias_ih_attr=False, "
        "bias_hh_attr=False and more than one cell",
        ("paddlepaddle",),
        narrow=(("bias", (True,)),),
    ),
    Peer(
        "paddle-cells",
        "rnnspec.peers.paddle",
        KINDS,
        "paddle",
        ("paddle",),
        "PaddlePaddle nn.RNN / BiRNN of SimpleRNNCell / LSTMCell / GRUCell, one per layer",
        ("paddlepaddle",),
        factories=_PADDLE_CELLS,
    ),
)

_ALL += (
    Peer(
        "torchrl",
        "rnnspec.peers.torchrl",
        ("lstm", "gru"),
        "torchrl",
        ("torchrl.modules",),
        "torchrl.modules.LSTM / GRU: torch's layers as Python loops over time and layers",
        ("torchrl", "tensordict"),
    ),
    Peer(
        "torchrl-without-proj",
        "rnnspec.peers.torchrl",
        ("lstm",),
        "torchrl",
        ("torchrl.modules",),
        "torchrl's LSTM without proj_size: it accepts a projection and never applies it",
        ("torchrl", "tensordict"),
        narrow=(("proj_size", False),),
    ),
    Peer(
        "torchrl-scan",
        "rnnspec.peers.torchrl",
        ("lstm", "gru"),
        "torchrl",
        ("torchrl.modules", "hoptorch"),
        "torchrl.modules.LSTM / GRU with use_scan=True: the time loop as hoptorch's scan, "
        "run eagerly",
        ("torchrl", "tensordict", "hoptorch"),
        factories=(("lstm", "lstm_scan"), ("gru", "gru_scan")),
        # a factory warms the scan's backward up (8 s here, the first in a process) and a
        # call costs 1 to 2.5 s: past rnnspec's 10 s on a loaded machine
        deadline=60.0,
    ),
    Peer(
        "torchrl-scan-without-proj",
        "rnnspec.peers.torchrl",
        ("lstm",),
        "torchrl",
        ("torchrl.modules", "hoptorch"),
        "torchrl-scan's LSTM without proj_size: its scan never applies the projection either, "
        "and raises where one is drawn",
        ("torchrl", "tensordict", "hoptorch"),
        factories=(("lstm", "lstm_scan"),),
        narrow=(("proj_size", False),),
        deadline=60.0,
    ),
)

_ALL += (
    Peer(
        "openvino",
        "rnnspec.peers.openvino",
        KINDS,
        "openvino",
        ("openvino",),
        "torch's layer converted by openvino.convert_model (RNN/LSTM/GRUSequence), compiled "
        "for OpenVINO's CPU plugin with f32 inference precision",
        ("openvino",),
    ),
    Peer(
        "openvino-float32",
        "rnnspec.peers.openvino",
        KINDS,
        "openvino",
        ("openvino",),
        "openvino in float32 only: its CPU plugin computes float64 inputs in float32 (it has "
        "no FP64 capability) and returns float64, so the float64 laws fail",
        ("openvino",),
        narrow=(("dtypes", ("float32",)),),
    ),
)

_XNNPACK = (("rnn", "rnn_xnnpack"), ("lstm", "lstm_xnnpack"), ("gru", "gru_xnnpack"))
_ALL += (
    Peer(
        "executorch",
        "rnnspec.peers.executorch",
        KINDS,
        "executorch",
        ("executorch.exir",),
        "torch's layer exported (torch.export), lowered by executorch.exir (the recurrence "
        "unrolled into core ATen operators), run by ExecuTorch's runtime on its portable kernels",
        ("executorch",),
        probe="probe",
        # a call on a new shape lowers a program: 2 s to 3 min here (72 steps, 3 layers)
        deadline=600.0,
    ),
    Peer(
        "executorch-xnnpack",
        "rnnspec.peers.executorch",
        KINDS,
        "executorch",
        ("executorch.exir",),
        "executorch with the XnnpackPartitioner: what XNNPACK takes (the matrix products) "
        "runs in its delegate, the rest on the portable kernels",
        ("executorch",),
        factories=_XNNPACK,
        probe="probe",
        # a call on a new shape lowers a program: 2 s to 3 min here (72 steps, 3 layers)
        deadline=600.0,
    ),
)

PEERS: dict[str, Peer] = {peer.name: peer for peer in _ALL}
"""Every peer, by name, in the order the table shows them."""


def peer_named(name: str) -> Peer:
    try:
        return PEERS[name]
    except KeyError:
        raise ValueError(f"no peer named {name!r}; the peers are {', '.join(PEERS)}") from None
