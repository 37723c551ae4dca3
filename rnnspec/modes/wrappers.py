"""Execution modes: torch's own nn.RNN / nn.LSTM / nn.GRU, run another way.

A :class:`Mode` is a factory wrapper, ``mode.wrap(reference) -> candidate``: the
candidate runs the eager reference through TorchScript, ``torch.compile``,
``torch.export``, dynamic quantization, another CPU backend or another device, and
:func:`rnnspec.check` judges it against eager mode like any user implementation.
Each mode declares the scope it supports (and, when approximate, its tolerance); a
mode that cannot run here says why (:meth:`Mode.available`).  ``rnnspec.modes.matrix``
runs them all.

Artifacts specialised on the call (a trace, an exported program) are built on the
first call with a given key and cached on the candidate; ``torch.compile`` relies on
Dynamo's own cache, which reuses a graph across modules of one configuration.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnspec.devices import DEFAULTS as TF32_DEFAULTS
from rnnspec.devices import OFF as TF32_OFF
from rnnspec.devices import cuda_precision
from rnnspec.modes.candidate import Bound, ModeCandidate, quiet, signature
from rnnspec.modes.onnx_candidate import candidate as onnx_candidate
from rnnspec.state import map_state

__all__ = [
    "compile_aot_eager",
    "compile_eager",
    "compile_inductor",
    "cuda",
    "cuda_no_cudnn",
    "cuda_tf32",
    "eager",
    "export",
    "export_decomposed",
    "jit_script",
    "jit_trace",
    "mps",
    "onednn_off",
    "onnx_dynamo",
    "onnx_legacy",
    "quantized_dynamic",
]


def eager(reference: nn.Module) -> nn.Module:
    """The identity: eager mode, the baseline row."""
    return reference


def onednn_off(reference: nn.Module) -> nn.Module:
    """The reference called with oneDNN disabled: CPU's native RNN kernels."""
    return ModeCandidate(
        reference, lambda ref, args: ref, context=lambda: torch.backends.mkldnn.flags(False)
    )


class _ScriptLSTM(nn.Module):
    """Holds an nn.LSTM for scripting: a scripted nn.LSTM alone has no ``forward``."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(
        self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        return self.rnn(x, hx)

    @torch.jit.export
    def packed(
        self, x: PackedSequence, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[PackedSequence, tuple[Tensor, Tensor]]:
        return self.rnn(x, hx)


class _ScriptRNN(nn.Module):
    """Holds an nn.RNN or nn.GRU for scripting."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.rnn(x, hx)

    @torch.jit.export
    def packed(self, x: PackedSequence, hx: Tensor | None = None) -> tuple[PackedSequence, Tensor]:
        return self.rnn(x, hx)


_SCRIPTED: dict[Hashable, Any] = {}
"""Scripted holders by configuration: scripting takes ~0.1 s, a deep copy ~0.3 ms."""


def _script(reference: nn.Module, args: tuple[Any, ...]) -> Any:
    weight = next(reference.parameters())
    names = "mode input_size hidden_size num_layers bias batch_first dropout bidirectional"
    names += " proj_size training"
    config = (*(getattr(reference, n) for n in names.split()), weight.dtype, weight.device.type)
    if config not in _SCRIPTED:
        holder = _ScriptLSTM if isinstance(reference, nn.LSTM) else _ScriptRNN
        _SCRIPTED[config] = torch.jit.script(holder(copy.deepcopy(reference)))
    scripted = copy.deepcopy(_SCRIPTED[config])
    with torch.no_grad():  # the same compiled code, with this reference's weights
        for mine, theirs in zip(scripted.rnn.parameters(), reference.parameters(), strict=True):
            mine.detach_().requires_grad_(theirs.requires_grad)  # a copy is a clone: no leaf
            mine.copy_(theirs)
    call = scripted.packed if isinstance(args[0], PackedSequence) else scripted
    return Bound(scripted.rnn, call)


def jit_script(reference: nn.Module) -> nn.Module:
    """``torch.jit.script`` of a module holding the reference."""
    return ModeCandidate(reference, _script, key=lambda a: isinstance(a[0], PackedSequence))


def jit_trace(reference: nn.Module) -> nn.Module:
    """``torch.jit.trace``, once per call structure, reused across batch and time sizes."""
    return ModeCandidate(
        reference,
        lambda ref, args: torch.jit.trace(ref, args),
        key=lambda args: signature(args, sizes=False),
    )


def _dynamo_config() -> AbstractContextManager[Any]:
    """Compile RNNs instead of graph-breaking on them (experimental), and never fall
    back to eager silently when many configurations recompile."""
    return torch._dynamo.config.patch(
        allow_rnn=True,
        recompile_limit=10**6,
        accumulated_recompile_limit=10**6,
        fail_on_recompile_limit_hit=True,
    )


def _compiled(reference: nn.Module, backend: str) -> nn.Module:
    compiled = torch.compile(reference, backend=backend, fullgraph=True)
    bound = Bound(reference, compiled)  # its own parameters are named _orig_mod.*
    return ModeCandidate(reference, lambda ref, args: bound, context=_dynamo_config)


def compile_eager(reference: nn.Module) -> nn.Module:
    """``torch.compile(backend="eager", fullgraph=True)``: Dynamo's capture, eager kernels."""
    return _compiled(reference, "eager")


def compile_aot_eager(reference: nn.Module) -> nn.Module:
    """``backend="aot_eager"``: AOTAutograd's decompositions and autograd, run eagerly."""
    return _compiled(reference, "aot_eager")


def compile_inductor(reference: nn.Module) -> nn.Module:
    """``backend="inductor"`` (the default): generated C++ on the CPU."""
    return _compiled(reference, "inductor")


def _exported(reference: nn.Module, args: tuple[Any, ...], decompose: bool) -> Any:
    program = torch.export.export(reference, args)
    return (program.run_decompositions() if decompose else program).module()


def export(reference: nn.Module) -> nn.Module:
    """``torch.export.export`` per call signature, then ``.module()``."""
    return ModeCandidate(reference, lambda r, a: _exported(r, a, False), key=signature)


def export_decomposed(reference: nn.Module) -> nn.Module:
    """As ``export``, lowered to core ATen by ``run_decompositions()``."""
    return ModeCandidate(reference, lambda r, a: _exported(r, a, True), key=signature)


def quantized_dynamic(reference: nn.Module) -> nn.Module:
    """``torch.ao.quantization.quantize_dynamic`` (qint8 weights) of an nn.LSTM / nn.GRU."""
    holder = nn.Module()
    holder.rnn = reference  # quantize_dynamic swaps submodules, never the module itself
    with quiet():
        module = torch.ao.quantization.quantize_dynamic(holder, {type(reference)}, torch.qint8)
    return ModeCandidate(reference, lambda ref, args: module.rnn)


def _to(pair: tuple[Any, ...], device: str) -> tuple[Any, ...]:
    """A call's ``(x[, hx])`` or a result's ``(output, state)`` on ``device``."""
    first, *states = pair
    return (first.to(device), *(map_state(lambda h: h.to(device), s) for s in states))


def _on_device(reference: nn.Module, device: str, **precision: Any) -> nn.Module:
    """A copy of ``reference`` on ``device``, called with CPU tensors, answering on the CPU.

    The copy is made at the first call.  On CUDA every call runs under
    :func:`rnnspec.devices.cuda_precision` with ``precision`` (``tf32``, ``cudnn``),
    whatever the caller's settings.
    """

    def build(ref: nn.Module, args: tuple[Any, ...]) -> Bound:
        moved = copy.deepcopy(ref).to(device)
        return Bound(moved, lambda *a: moved(*_to(a, device)))

    return ModeCandidate(
        reference,
        build,
        context=(lambda: cuda_precision(**precision)) if device == "cuda" else nullcontext,
        after=lambda result: _to(result, "cpu"),
        per_grad_mode=False,  # one copy, its parameters shared by every call
    )


def cuda(reference: nn.Module) -> nn.Module:
    """A copy on CUDA (cuDNN, TF32 off), called with CPU tensors, answering on the CPU."""
    return _on_device(reference, "cuda", tf32=TF32_OFF, cudnn=True)


def cuda_no_cudnn(reference: nn.Module) -> nn.Module:
    """As ``cuda`` with cuDNN disabled: torch's native CUDA kernels (TF32 off)."""
    return _on_device(reference, "cuda", tf32=TF32_OFF, cudnn=False)


def cuda_tf32(reference: nn.Module) -> nn.Module:
    """As ``cuda`` with torch's default precision: cuDNN's RNN kernels in TF32."""
    return _on_device(reference, "cuda", tf32=TF32_DEFAULTS, cudnn=True)


def mps(reference: nn.Module) -> nn.Module:
    """A copy on Apple's MPS device, called with CPU tensors, answering on the CPU."""
    return _on_device(reference, "mps")


def onnx_legacy(reference: nn.Module) -> nn.Module:
    """``torch.onnx.export(dynamo=False)``, run in an ONNX Runtime CPU session."""
    return onnx_candidate(reference, "legacy")


def onnx_dynamo(reference: nn.Module) -> nn.Module:
    """``torch.onnx.export(dynamo=True)``, torch's default exporter, run in ONNX Runtime."""
    return onnx_candidate(reference, "dynamo")
