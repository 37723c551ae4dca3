"""OpenVINO: torch's own layer converted with ``openvino.convert_model`` and run on CPU.

The factory does not rebuild the layer: OpenVINO's PyTorch frontend traces torch's
``aten::rnn_tanh`` / ``rnn_relu`` / ``lstm`` / ``gru`` and turns it into OpenVINO's
``RNNSequence`` / ``LSTMSequence`` / ``GRUSequence``, which ``compile_model(..., "CPU")``
compiles.  What is traced is a small wrapper that calls torch's kernel with the weights
as *inputs* (batch-major, every initial state given, eval mode), so a compiled model
holds the configuration and the shapes, never the weights: compiled models are cached by
(configuration, dtype, shapes) and each call feeds the reference's current weights.  A
cached model cannot return stale weights, because it has none.  Each conversion costs
about a second here; the cache spares it for every call after the first of a shape.

Forking: a process forked after OpenVINO has run in its parent can hang in a new
conversion or crash (both seen here: a law worker forked from a pytest process that had
run OpenVINO died of SIGSEGV).  ``rnnspec peers`` runs each cell in a fresh interpreter,
whose law workers are forked before OpenVINO runs, and the slow tests do the same.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnspec.peers._kernel import Functional, Programs, program_key
from rnnspec.peers._port import Call, Ported, Spec
from rnnspec.peers._scopes import PORT
from rnnspec.silence import silenced

__all__ = ["gru", "lstm", "rnn"]

# OpenVINO's CPU plugin computes in bf16 by default where the CPU has bf16 instructions
# (this machine's does: max |error| ~1e-3 on a float32 LSTM); asked for f32 explicitly
_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}
# OpenVINO's PyTorch frontend traces with torch.jit.trace, which torch 2.13 deprecates
_TRACING = (
    (DeprecationWarning, r"`torch\.jit\.trace` is deprecated"),
    (DeprecationWarning, r"`torch\.jit\.trace_method` is deprecated"),
)
_compiled = Programs(64)


def _compiled_for(spec: Spec, arrays: list[np.ndarray]) -> Any:
    def compile_() -> Any:
        import openvino

        example = tuple(torch.from_numpy(a) for a in arrays)
        with silenced(_TRACING):
            model = openvino.convert_model(
                Functional(spec),
                example_input=example,
                # static shapes: the frontend's LSTM/GRU conversion needs the weights' shapes
                input=[tuple(a.shape) for a in arrays],
            )
        return openvino.compile_model(model, "CPU", _CONFIG)

    return _compiled.get(program_key(spec, [a.shape for a in arrays]), compile_)


def _factory(reference: nn.RNNBase) -> Ported:
    spec = Spec.of(reference)
    names = list(reference._flat_weights_names)

    def run(call: Call) -> tuple[Any, Any, Any]:
        # the weights as they are now, read at each call, never at conversion
        params = [getattr(reference, name).detach().cpu().numpy() for name in names]
        states = [call.h0] if call.c0 is None else [call.h0, call.c0]
        arrays = [np.ascontiguousarray(a) for a in (call.x, *states, *params)]
        results = _compiled_for(spec, arrays)(arrays)
        output, h_n = results[0], results[1]
        return output, h_n, results[2] if spec.kind == "lstm" else None

    return Ported(spec, run, "openvino")


def rnn(reference: nn.RNN) -> Ported:
    """``reference`` converted by OpenVINO (``RNNSequence``), run on its CPU plugin."""
    return _factory(reference)


def lstm(reference: nn.LSTM) -> Ported:
    """``reference`` converted by OpenVINO (``LSTMSequence``), run on its CPU plugin."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Ported:
    """``reference`` converted by OpenVINO (``GRUSequence``), run on its CPU plugin."""
    return _factory(reference)


SCOPE = replace(
    PORT,
    # PORT's proj_size=False holds here too: the frontend fails to convert aten::lstm with
    # projection weights (OpConversionFailure on the weights' list), so none is drawn.
    # float64 stays in scope: OpenVINO accepts float64 inputs and returns float64, but its
    # CPU plugin computes in at most f32 (OPTIMIZATION_CAPABILITIES lists no FP64); the
    # float64 laws show that (row "openvino"), row "openvino-float32" narrows it away.
)
"""What OpenVINO's conversion lacks: a port's (PORT), nothing narrower."""

rnn.scope = lstm.scope = gru.scope = SCOPE  # type: ignore[attr-defined]
