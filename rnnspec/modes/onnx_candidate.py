"""The ONNX modes as candidates: ``candidate(reference, exporter)`` and the modes' rows.

The export and the run are :mod:`rnnspec.modes.onnx` (plain torch, onnx and onnxruntime,
carried into repro scripts); here is what the mode adds around them: the exporters'
warnings and logs silenced, exports reused while their input shapes admit a call, and
each mode's scope, budget and notes (:data:`ROWS`).
"""

from __future__ import annotations

import importlib
from collections.abc import Hashable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnspec.modes.candidate import ModeCandidate, signature
from rnnspec.modes.onnx import Edit, export_onnx, onnx_inputs, ort_session, run_session
from rnnspec.silence import silenced

__all__ = ["DYNAMO_LAWS", "DYNAMO_MAX_LEN", "ROWS", "candidate"]


_QUIET_ONNX: tuple[tuple[type[Warning], str], ...] = (
    (DeprecationWarning, r"You are using the legacy TorchScript-based ONNX export"),
    (DeprecationWarning, r"The feature will be removed\. Please remove usage of this function"),
    (UserWarning, r"Exporting a model to ONNX with a batch_size other than 1"),
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
    (UserWarning, r"# The axis name: \w+ will not be used, since it shares the same shape"),
    (FutureWarning, r"_check_is_size will be removed in a future PyTorch release"),
    (torch.jit.TracerWarning, r"Converting a tensor to a Python integer"),  # packed, with hx
)
"""The warnings the two exporters emit on these paths, silenced where the mode runs them."""

_ONNX_LOGGERS = (
    "torch.onnx._internal.exporter._registration",  # "torchvision is not installed"
    "torch.export._trace",  # torch.export's own report of an input it refuses
    "onnxscript.optimizer._constant_folding",  # "Evaluation failed" (an LSTM with proj_size)
)

_REGISTRIES: dict[Any, Any] = {}
"""The dynamo exporter's table of ONNX translations, by opset: built once, not per export."""


def _patched(module_name: str, owner: str | None, name: str, value: Any) -> Any:
    """``mock.patch.object`` of ``module_name[.owner].name``, or a no-op where torch has none."""
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError:
        return nullcontext()
    target = getattr(target, owner, None) if owner else target
    if target is None or not hasattr(target, name):
        return nullcontext()
    return mock.patch.object(target, name, value)


def _cached_registry(original: Any) -> Any:
    def from_torchlib(cls: Any, *args: Any, **kwargs: Any) -> Any:
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _REGISTRIES:
            _REGISTRIES[key] = original(cls, *args, **kwargs)
        return _REGISTRIES[key]

    return classmethod(from_torchlib)


@contextmanager
def _quiet_onnx(dynamo: bool = True) -> Iterator[None]:
    """Silence ``_QUIET_ONNX`` and ``_ONNX_LOGGERS``, and patch two costs of exporting.

    - torch 2.13's ``setup_onnx_logging`` tests the function ``_jit_is_onnx_log_enabled``
      rather than its result, so the legacy exporter turns the ONNX log on for good and
      prints the whole TorchScript graph to stdout for each model it refuses (every LSTM
      with proj_size): the export runs with that context replaced by one that leaves
      the log off.
    - The dynamo exporter rebuilds its registry of translations from onnxscript's source
      on every export (~0.5 s of ~1 s here); the registry is kept per opset instead.
      Nothing else changes: an exported model is byte-identical either way (tested).
    """
    legacy = "torch.onnx._internal.torchscript_exporter.utils"
    registration = "torch.onnx._internal.exporter._registration"  # imports onnxscript: slow
    registry = (
        getattr(importlib.import_module(registration), "ONNXRegistry", None) if dynamo else None
    )
    build = getattr(registry, "from_torchlib", None)
    with (
        silenced(_QUIET_ONNX, _ONNX_LOGGERS),
        _patched(legacy, None, "setup_onnx_logging", lambda verbose: nullcontext()),
        _patched(registration, "ONNXRegistry", "from_torchlib", _cached_registry(build.__func__))
        if build is not None
        else nullcontext(),
    ):
        yield


def _as_in_a_fresh_process() -> None:
    """Make the next dynamo export behave as the first one in a process, as users export.

    With dynamic shapes the exporter swaps a while_loop decomposition into
    ``aten.gru.input`` / ``aten.lstm.input`` by assigning ``OpOverload.py_kernels``
    (torch/export/_patches.py), which leaves the ops' dispatch caches stale: a later
    export in the same process takes another path (a different graph, and a dynamic
    time axis refused where the first export accepted it).  Clearing the two caches
    restores the first export's path; the repro scripts, one export each, take it too.
    """
    for op in (torch.ops.aten.gru.input, torch.ops.aten.lstm.input):
        cache = getattr(op, "_dispatch_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def _structure(args: tuple[Any, ...]) -> Hashable:
    """What an export depends on besides sizes: packed (and sorted), ranks, dtypes, hx."""
    x = args[0]
    packed = isinstance(x, PackedSequence)
    data = x.data if packed else x
    hx = args[1] if len(args) > 1 else None
    return packed, packed and x.sorted_indices is None, signature((data, hx), sizes=False)


def _fits(session: Any, inputs: list[Tensor]) -> bool:
    """Whether the model's declared input shapes admit ``inputs`` (names admit any size)."""
    declared = session.get_inputs()
    if len(declared) != len(inputs):
        return False
    for want, tensor in zip(declared, inputs, strict=True):
        if len(want.shape) != tensor.dim():
            return False
        if any(
            isinstance(d, int) and d != n for d, n in zip(want.shape, tensor.shape, strict=True)
        ):
            return False
    return True


class _Exports:
    """One reference's exports for one call structure, each in its ONNX Runtime session."""

    def __init__(self, reference: Any, dynamo: bool, edit: Edit | None) -> None:
        self.reference, self.dynamo, self.edit = reference, dynamo, edit
        self.sessions: list[Any] = []

    def __call__(self, *args: Any) -> Any:
        args = args[:1] if len(args) > 1 and args[1] is None else args
        inputs = onnx_inputs(self.reference, args)
        session = next((s for s in self.sessions if _fits(s, inputs)), None)
        if session is None:
            if self.dynamo:
                _as_in_a_fresh_process()
            model = export_onnx(self.reference, args, self.dynamo)
            session = ort_session(self.edit(model) if self.edit else model)
            self.sessions.append(session)
        return run_session(session, self.reference, args)


def candidate(reference: nn.Module, exporter: str, edit: Edit | None = None) -> nn.Module:
    """The reference through ``torch.onnx.export`` (``exporter``: "legacy" or "dynamo") and
    ONNX Runtime; ``edit`` changes each exported model before it runs."""
    if exporter not in ("legacy", "dynamo"):
        raise ValueError(f"exporter must be 'legacy' or 'dynamo', got {exporter!r}")
    dynamo = exporter == "dynamo"
    return ModeCandidate(
        reference,
        lambda ref, args: _Exports(ref, dynamo, edit),
        key=_structure,
        context=lambda: _quiet_onnx(dynamo),
    )


# -- the two rows of the matrix --------------------------------------------------------
DYNAMO_MAX_LEN = 12
_NOT_EXPRESSED = "gradients, training-mode dropout: an ONNX model is inference only"
_FLOAT64 = (
    "float64: ONNX Runtime's CPU kernels for ONNX's RNN, GRU and LSTM operators are float32 "
    "only ('GRU operator does not support double yet', 'LSTM operator does not support double "
    "yet', for RNN 'Could not find an implementation for RNN(14) node')"
)
_UNSHRUNK = (
    "minimal examples: a failure is reported as first found, unshrunk (each replay is "
    "another export; an LSTM with proj_size fails nearly every law)"
)
_META = "meta: ONNX Runtime computes on real tensors, and the export of a meta module fails ({})"
DYNAMO_LAWS: tuple[str, ...] = (
    "equivalence",
    "unbatched",
    "streaming",
    "batch-independence",
    "packed",
)
DYNAMO_LAWS += ("error-input-size", "error-hx-shape", "error-input-rank", "error-dtype")
DYNAMO_LAWS += ("error-empty-sequence",)
"""onnx-dynamo's laws: results, unbatched, chunks (hx in), a dynamic batch, variable
lengths, and the error contract (each refused at export, cheaply)."""


def _scope(**bounds: Any) -> Any:
    """What ONNX cannot express (gradients, training-mode dropout) and what ONNX Runtime
    cannot run here (float64, meta) out; the error contract in."""
    from rnnspec.scope import Scope

    return Scope(
        gradients=False, dropout=False, dtypes=(torch.float32,), meta=False, errors=True, **bounds
    )


def _rows() -> dict[str, dict[str, Any]]:
    return {
        "onnx-legacy": {
            "summary": "torch.onnx.export(dynamo=False), TorchScript-based, in ONNX Runtime (CPU)",
            "scope": _scope(),
            "max_examples": 5,
            "deadline": 120.0,
            "shrink": False,
            "notes": (
                _NOT_EXPRESSED,
                _FLOAT64,
                _META.format("RuntimeError: Tensor.item() cannot be called on meta tensors"),
                _UNSHRUNK,
            ),
        },
        "onnx-dynamo": {
            "summary": "torch.onnx.export(dynamo=True), the default exporter, in ONNX Runtime "
            f"(CPU); float32, up to {DYNAMO_MAX_LEN} steps",
            "scope": _scope(max_len=DYNAMO_MAX_LEN),
            "max_examples": 2,
            "deadline": 120.0,
            "shrink": False,
            "laws": DYNAMO_LAWS,
            "notes": (
                _NOT_EXPRESSED,
                _FLOAT64 + "; this exporter unrolls nn.RNN into per-step MatMul and Tanh, "
                "which does run in float64",
                _META.format("PassError from the exporter's ONNX IR passes"),
                f"more than {DYNAMO_MAX_LEN} steps: an export's cost grows with the length "
                "(nn.RNN is unrolled step by step; a GRU with a dynamic batch took 2-3 s at "
                "5 steps, 12-21 s at 40 on a shared 2-core machine)",
                "the other laws: each export takes about a second; run them with --laws",
                _UNSHRUNK,
            ),
        },
    }


ROWS = _rows()
"""Each ONNX mode's Mode fields but the wrapper, its repro line and its availability."""
