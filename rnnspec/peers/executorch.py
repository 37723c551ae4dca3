"""ExecuTorch: torch's own layer exported, lowered to an ExecuTorch program, run by its runtime.

The factory does not rebuild the layer.  What is exported (``torch.export.export``) is a
small wrapper that calls torch's kernel (``aten::rnn_tanh`` / ``rnn_relu`` / ``lstm`` /
``gru``) with the weights as *inputs* (batch-major, every initial state given, eval
mode).  ``executorch.exir.to_edge_transform_and_lower`` decomposes it into core ATen
operators (the recurrence unrolled over time, layers and directions) and
``.to_executorch()`` serializes the program, which ExecuTorch's runtime
(``executorch.runtime.Runtime``) loads and runs with its portable CPU kernels; the row
``executorch-xnnpack`` hands what XNNPACK takes to its delegate first.

A program holds the configuration and the shapes, never the weights: programs are cached
by (configuration, dtype, shapes, backend) and each call feeds the reference's current
weights, so a cached program cannot compute with stale weights.  The shapes are static:
the time dimension must be (the decomposition unrolls it), and a dynamic batch dimension
is silently specialized to the example's batch by ``to_edge`` for the GRU (the program
then refuses any other batch).  Lowering is what costs: from about 2 seconds for a short
one-layer RNN to about 3 minutes for a 72-step, 3-layer bidirectional GRU (10,000
operators) here, so the cache matters, and the laws are affordable at a few examples.
That cost is far past ``rnnspec.check``'s default deadline of 10 s a call: the rows
declare their own (``Peer.deadline``, 600 s), which ``rnnspec peers`` and the tests use.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from rnnspec.peers._kernel import Functional, Programs, program_key
from rnnspec.peers._port import Call, Ported, Spec
from rnnspec.peers._scopes import PORT
from rnnspec.silence import silenced

__all__ = ["gru", "gru_xnnpack", "lstm", "lstm_xnnpack", "probe", "rnn", "rnn_xnnpack"]

# what importing and lowering with executorch 1.5.1 and torch 2.13 warns, none of it ours
_QUIET = (
    # torch's pytree, on ExecuTorch's copy of the exported program's tree specs
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
    (DeprecationWarning, r".*"),
    # torch's CPU kernel, where the export runs it with projections
    (UserWarning, "LSTM with projections is not supported with oneDNN"),
)
_programs = Programs(32)


def probe() -> None:
    """Raise where ExecuTorch cannot run here: its runtime must load with this torch."""
    with silenced(_QUIET):
        from executorch.runtime import Runtime

        Runtime.get()


def _method_for(spec: Spec, inputs: list[torch.Tensor], backend: str) -> Any:
    def lower() -> tuple[Any, Any]:
        with silenced(_QUIET):
            from executorch.exir import to_edge_transform_and_lower
            from executorch.runtime import Runtime

            exported = torch.export.export(Functional(spec), tuple(inputs))
            partitioners: list[Any] = []
            if backend == "xnnpack":
                from executorch.backends.xnnpack.partition.xnnpack_partitioner import (
                    XnnpackPartitioner,
                )

                partitioners = [XnnpackPartitioner()]
            lowered = to_edge_transform_and_lower(exported, partitioner=partitioners)
            program = Runtime.get().load_program(lowered.to_executorch().buffer)
            return program, program.load_method("forward")  # the method runs in its program

    key = program_key(spec, [t.shape for t in inputs], backend)
    return _programs.get(key, lower)[1]


def _factory(reference: nn.RNNBase, backend: str) -> Ported:
    spec = Spec.of(reference)
    names = list(reference._flat_weights_names)

    def run(call: Call) -> tuple[Any, Any, Any]:
        # the weights as they are now, read at each call, never at lowering
        params = [getattr(reference, name).detach().cpu().contiguous() for name in names]
        states = [call.h0] if call.c0 is None else [call.h0, call.c0]
        inputs = [torch.from_numpy(a).contiguous() for a in (call.x, *states)] + params
        # copied out at once: the runtime's outputs may live in the program's planned
        # memory, which the next execution overwrites
        outputs = _method_for(spec, inputs, backend).execute(inputs)
        results = [t.detach().numpy().copy() for t in outputs]
        output, h_n = results[0], results[1]
        return output, h_n, results[2] if spec.kind == "lstm" else None

    name = "executorch" if backend == "portable" else f"executorch-{backend}"
    return Ported(spec, run, name)


def rnn(reference: nn.RNN) -> Ported:
    """``reference`` exported and lowered to ExecuTorch's portable kernels."""
    return _factory(reference, "portable")


def lstm(reference: nn.LSTM) -> Ported:
    """``reference`` exported and lowered to ExecuTorch's portable kernels."""
    return _factory(reference, "portable")


def gru(reference: nn.GRU) -> Ported:
    """``reference`` exported and lowered to ExecuTorch's portable kernels."""
    return _factory(reference, "portable")


def rnn_xnnpack(reference: nn.RNN) -> Ported:
    """``reference`` lowered with ExecuTorch's XNNPACK partitioner (the rest portable)."""
    return _factory(reference, "xnnpack")


def lstm_xnnpack(reference: nn.LSTM) -> Ported:
    """``reference`` lowered with ExecuTorch's XNNPACK partitioner (the rest portable)."""
    return _factory(reference, "xnnpack")


def gru_xnnpack(reference: nn.GRU) -> Ported:
    """``reference`` lowered with ExecuTorch's XNNPACK partitioner (the rest portable)."""
    return _factory(reference, "xnnpack")


SCOPE = replace(
    PORT,
    # PORT's other reasons hold: the runtime's results are tensors made outside torch's
    # autograd (no gradients), the wrapper takes tensors, not a PackedSequence, the meta
    # device computes nothing to run, and the eval-mode export is handed no dropout p > 0.
    # Projections export and lower (the decomposition applies weight_hr): in scope.
    proj_size=True,
    # float64 stays in scope: the portable kernels compute it (errors ~1e-16 here).
)
"""What ExecuTorch's lowering lacks: a port's (PORT), projections excepted."""

rnn.scope = lstm.scope = gru.scope = SCOPE  # type: ignore[attr-defined]
rnn_xnnpack.scope = lstm_xnnpack.scope = gru_xnnpack.scope = SCOPE  # type: ignore[attr-defined]
