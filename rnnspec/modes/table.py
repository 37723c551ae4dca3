"""The table of execution modes: each :class:`Mode` names a wrapper of
``rnnspec.modes.wrappers``, the scope it supports, its plain-torch repro lines and why
it may not run here.  :data:`MODES` holds them all, :data:`DEFAULT_MODES` the ones the
matrix runs when none are named.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from rnnspec.devices import DEFAULTS as TF32_DEFAULTS
from rnnspec.devices import OFF as TF32_OFF
from rnnspec.modes import onnx as _onnx
from rnnspec.modes.onnx_candidate import ROWS as ONNX_ROWS
from rnnspec.modes.wrappers import (
    compile_aot_eager,
    compile_eager,
    compile_inductor,
    cuda,
    cuda_no_cudnn,
    cuda_tf32,
    eager,
    export,
    export_decomposed,
    jit_script,
    jit_trace,
    mps,
    onednn_off,
    onnx_dynamo,
    onnx_legacy,
    quantized_dynamic,
)
from rnnspec.scope import Scope
from rnnspec.tolerance import Tolerance

__all__ = ["DEFAULT_MODES", "MODES", "Mode", "get_mode"]


def _here() -> str | None:
    return None


@dataclass(frozen=True)
class Mode:
    """One execution mode: ``wrap(reference) -> candidate``, and what it supports.

    ``repro`` is plain torch: lines that set ``actual`` from ``module`` and ``args``
    (``{state}`` stands for the type of ``hx``); ``preamble()``, when given, is code the
    script defines first for them to use.  ``max_examples``, ``laws`` and ``exclude``
    are the matrix's default budget; ``setup`` runs before its first cell.
    """

    name: str
    summary: str
    wrap: Callable[[nn.Module], Any]
    scope: Scope
    repro: tuple[str, ...] = ("actual = module(*args)",)
    max_examples: int = 10
    laws: tuple[str, ...] | None = None  # None: every law of the kind...
    exclude: tuple[str, ...] = ()  # ...but these
    deadline: float | None = 60.0
    unavailable_kinds: dict[str, str] = field(default_factory=dict)  # kind -> why not
    requires: Callable[[], str | None] = _here  # why it cannot run on this machine
    notes: tuple[str, ...] = ()  # what is not checked, and why
    setup: Callable[[], None] | None = None
    default: bool = True  # in the matrix when no modes are named
    preamble: Callable[[], str] | None = None  # module-level code for the repro script
    shrink: bool = True  # False: report each failure as first found (each replay is slow)

    @property
    def tolerances(self) -> dict[torch.dtype, Tolerance] | None:
        return self.scope.tolerances

    def available(self, kind: str | None = None) -> str | None:
        """Why this mode cannot run here (for ``kind``), or None when it can."""
        return self.unavailable_kinds.get(kind or "") or self.requires()

    def law_ids(self, kind: str) -> list[str]:
        from rnnspec.laws import LAWS

        chosen = self.laws or [i for i, law in LAWS.items() if kind in law.kinds]
        return [i for i in chosen if i not in self.exclude]


def _needs(device: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if device == "cuda":
            return None if torch.cuda.is_available() else "no CUDA device on this machine"
        return None if torch.backends.mps.is_available() else "no MPS device on this machine"

    return check


def _needs_cxx() -> str | None:
    found = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
    return None if found else "inductor needs a C++ compiler on the CPU; none found"


def _needs_onednn() -> str | None:
    return None if torch.backends.mkldnn.is_available() else "this torch build has no oneDNN"


_F32 = torch.float32
CORE_LAWS: tuple[str, ...] = ("equivalence", "gradients", "clip-grad-norm")
CORE_LAWS += ("hx-none-is-zeros", "unbatched", "streaming")
"""The slow modes' laws: results, gradients, a training step, hx, unbatched input, chunks."""
COMPILE_LAWS = CORE_LAWS + ("batch-independence", "stateless", "stacked-composition")
COMPILE_LAWS += ("dropout-between-layers", "output-dtype-device", "meta-shapes")
"""compile-eager's laws: CORE_LAWS, new shapes between calls, training mode, dtypes, meta."""
_DYNAMO = "torch._dynamo.config.allow_rnn = True"
_UNROLLED = "more than 2 layers or 8 steps: the decomposition unrolls every step"
_OTHERS = "the other laws: each new configuration compiles (seconds); run them with --laws"
_FULLGRAPH = (
    "errors: under fullgraph=True torch's input checks raise Dynamo's Unsupported "
    "(a graph break), not torch's ValueError / RuntimeError",
    "packed: a PackedSequence's batch_sizes are data-dependent: Unsupported",
)
_SCRIPT = (
    "class Holder(torch.nn.Module):",
    "    def __init__(self, rnn):",
    "        super().__init__()",
    "        self.rnn = rnn",
    "    def forward(self, x: torch.Tensor, hx: Optional[{state}] = None):",
    "        return self.rnn(x, hx)",
    "    @torch.jit.export",
    "    def packed(self, x: PackedSequence, hx: Optional[{state}] = None):",
    "        return self.rnn(x, hx)",
    "scripted = torch.jit.script(Holder(module))",
    "actual = (scripted.packed if isinstance(args[0], PackedSequence) else scripted)(*args)",
)


def _device_mode(
    name: str,
    wrap: Callable[[nn.Module], Any],
    device: str,
    flags: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    **kw: Any,
) -> Mode:
    lines = (
        *flags,
        f"device = {device!r}",
        "moved = copy.deepcopy(module).to(device)",
        "to = lambda a: tuple(map(to, a)) if type(a) is tuple else a.to(device)",
        "actual = moved(*map(to, args))",
    )
    return Mode(
        name, (wrap.__doc__ or "").strip(), wrap, Scope(meta=False, **kw), lines,
        requires=_needs(device), notes=("meta: a copy on the device cannot hold meta", *notes),
        exclude=exclude,
    )  # fmt: skip


_TF32_OFF = TF32_OFF.as_code()
_TF32_ON = TF32_DEFAULTS.as_code()
TF32_TOLERANCE = Tolerance(2e-2, 2e-2)
"""cuda-tf32's float32 tolerance, x (1 + T/16), for results (gradients are out of its scope).
On an H100 (torch 2.11, cuDNN 9.19) the forward needed at most 4.6e-4 under torch's
defaults (7.8e-6 with TF32 off), worst of 100 random law-sized examples per kind
(``scripts/tf32_effect.py``); 2e-2 leaves a wide margin for other GPUs."""
_TF32_GRADIENTS = (
    "gradients: under TF32 an nn.RNN's needed up to 0.58 (x (1 + |b|) (1 + T/16), worst of "
    "100 random examples on an H100; 3.4e-5 with TF32 off), LSTM's 6.0e-4, GRU's 1.4e-3: "
    "no tolerance separates TF32 from a bug there, so the gradient laws are out of scope"
)


def _onnx_mode(name: str, wrap: Callable[[nn.Module], Any], dynamo: bool) -> Mode:
    """An ONNX row: its scope, budget and notes are ``rnnspec.modes.onnx_candidate.ROWS[name]``."""
    lines = (f"actual = run_onnx(module, args, dynamo={dynamo})",)
    return Mode(name, wrap=wrap, repro=lines, requires=_onnx.missing, preamble=_onnx.preamble,
                **ONNX_ROWS[name])  # fmt: skip


MODES: dict[str, Mode] = {m.name: m for m in (
    Mode("eager", "nn.RNN / nn.LSTM / nn.GRU as they are: the baseline", eager,
         Scope(errors=True)),
    Mode("onednn-off", "CPU with oneDNN disabled: torch.backends.mkldnn.flags(enabled=False)",
         onednn_off, Scope(dtypes=(_F32,), errors=True),
         ("with torch.backends.mkldnn.flags(enabled=False):", "    actual = module(*args)"),
         requires=_needs_onednn,
         notes=("float64: oneDNN runs float32 (and bfloat16) RNNs only",)),
    Mode("jit-script", "torch.jit.script of a module holding the RNN", jit_script,
         Scope(errors=True), _SCRIPT, max_examples=5,
         exclude=("error-input-size", "error-hx-shape"),
         notes=("a scripted nn.RNN/LSTM/GRU alone: it has no forward (only forward__0/1); "
                "the RNN is scripted inside a holder module, as it is used",
                "error-input-size, error-hx-shape: they fail as error-input-rank does (the "
                "error comes back as torch.jit.Error), and each failure costs ~10 s of "
                "shrinking; run them with --laws")),
    Mode("jit-trace", "torch.jit.trace, once per call structure, reused across sizes",
         jit_trace, Scope(packed=False, errors=True),
         ("actual = torch.jit.trace(module, args)(*args)",), max_examples=5,
         notes=("packed: a PackedSequence cannot be traced (its None fields)",)),
    Mode("compile-eager", 'torch.compile(backend="eager", fullgraph=True), allow_rnn',
         compile_eager, Scope(packed=False),
         (_DYNAMO, 'actual = torch.compile(module, backend="eager", fullgraph=True)(*args)'),
         max_examples=3, laws=COMPILE_LAWS, deadline=120.0, setup=torch._dynamo.reset,
         notes=(*_FULLGRAPH, _OTHERS)),
    Mode("compile-aot_eager", 'torch.compile(backend="aot_eager", fullgraph=True), '
         "allow_rnn, float32", compile_aot_eager,
         Scope(dtypes=(_F32,), packed=False, max_layers=2, max_len=8),
         (_DYNAMO, 'actual = torch.compile(module, backend="aot_eager", fullgraph=True)(*args)'),
         max_examples=2, laws=CORE_LAWS, deadline=300.0, setup=torch._dynamo.reset,
         notes=("float64: float32 is what compiled models run (and oneDNN's LSTM path)",
                _UNROLLED, *_FULLGRAPH, _OTHERS)),
    Mode("compile-inductor", "torch.compile(fullgraph=True), allow_rnn: inductor, opt-in",
         compile_inductor, Scope(packed=False, max_layers=2, max_len=8),
         (_DYNAMO, "actual = torch.compile(module, fullgraph=True)(*args)"),
         max_examples=2, laws=("equivalence",), deadline=600.0, requires=_needs_cxx,
         setup=torch._dynamo.reset, default=False,
         notes=("every law but equivalence: 10-30 s a cold compile here", _UNROLLED)),
    Mode("export", "torch.export.export per call signature, then .module()", export,
         Scope(packed=False, errors=True),
         ("actual = torch.export.export(module, args).module()(*args)",),
         max_examples=2, deadline=120.0,
         notes=("packed: export cannot guard on a PackedSequence's batch_sizes",)),
    Mode("export-decomposed", "torch.export, run_decompositions() to core ATen; float64, "
         "opt-in", export_decomposed,
         Scope(dtypes=(torch.float64,), packed=False, max_layers=2, max_len=8),
         ("program = torch.export.export(module, args).run_decompositions()",
          "actual = program.module()(*args)"),
         max_examples=2, laws=CORE_LAWS, deadline=300.0, default=False,
         notes=(_UNROLLED, "packed: as export", _OTHERS)),
    Mode("quantized-dynamic", "quantize_dynamic, qint8 weights (torch.ao.nn.quantized.dynamic)",
         quantized_dynamic,
         Scope(dtypes=(_F32,), bias=(True,), proj_size=False, unbatched=False,
               gradients=False, dropout=False, meta=False,
               tolerances={_F32: Tolerance(5e-2, 5e-2)}),
         ("holder = torch.nn.Module()", "holder.rnn = module",
          "quantized = torch.ao.quantization.quantize_dynamic(holder, {type(module)}, "
          "torch.qint8)", "actual = quantized.rnn(*args)"),
         exclude=("bidirectional-not-causal",),
         unavailable_kinds={"rnn": "torch.ao.nn.quantized.dynamic has no RNN (tanh/relu)"},
         notes=("exactness: an approximation, judged with rtol = atol = 5e-2 x (1 + T/16); "
                "the worst of 400 random examples here needed 1.6e-2",
                "bidirectional-not-causal: its floor is the tolerance, too coarse here",
                "gradients, training-mode dropout, meta: inference only",
                "bias=False: refused (AssertionError: mod.bias must be True)",
                "unbatched input: RuntimeError: input must have 3 dimensions, got 2",
                "proj_size: converts, then forward raises RuntimeError (packB rows)")),
    _device_mode("cuda", cuda, "cuda", _TF32_OFF, errors=True),
    _device_mode("cuda-no-cudnn", cuda_no_cudnn, "cuda",
                 (*_TF32_OFF, "torch.backends.cudnn.enabled = False"), errors=True),
    _device_mode("cuda-tf32", cuda_tf32, "cuda", _TF32_ON,
                 ("float32 results are judged with the declared tolerance "
                  f"rtol = atol = {TF32_TOLERANCE.rtol:g} x (1 + T/16)", _TF32_GRADIENTS),
                 tolerances={_F32: TF32_TOLERANCE}, gradients=False),
    _device_mode("mps", mps, "mps", dtypes=(_F32,)),
    _onnx_mode("onnx-legacy", onnx_legacy, dynamo=False),
    _onnx_mode("onnx-dynamo", onnx_dynamo, dynamo=True),
)}  # fmt: skip
"""Every mode, by name, in the matrix's row order."""

DEFAULT_MODES = tuple(name for name, mode in MODES.items() if mode.default)
"""The matrix's rows when no modes are named: all but the opt-in ones."""


def get_mode(name: str) -> Mode:
    if name not in MODES:
        raise ValueError(f"unknown mode {name!r}; known: {', '.join(MODES)}")
    return MODES[name]
