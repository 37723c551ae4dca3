"""Execution modes: torch's own nn.RNN / nn.LSTM / nn.GRU, run another way.

A :class:`Mode` is a factory wrapper, ``mode.wrap(reference) -> candidate``: the
candidate runs the eager reference through TorchScript, ``torch.compile``,
``torch.export``, dynamic quantization, another CPU backend or another device,
and is checked by :func:`rnnspec.check` against eager mode like any user
implementation.  Each mode declares the scope it supports (and, for the
approximate ones, its tolerance); a mode that cannot run here says why
(:meth:`Mode.available`).  ``rnnspec.matrix`` runs them all.

Artifacts that depend on the call (a trace, an exported program) are built on the
first call with a given signature and cached on the candidate; ``torch.compile``
relies on Dynamo's own cache, which reuses a graph across modules of the same
configuration.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnspec.scope import Scope
from rnnspec.tolerance import Tolerance

__all__ = ["DEFAULT_MODES", "MODES", "Mode", "ModeCandidate", "get_mode"]

KINDS = ("rnn", "lstm", "gru")
Build = Callable[[nn.Module, tuple[Any, ...]], Callable[..., Any]]

# Warnings torch itself emits on these paths, silenced where the wrapper runs them
# (the test suite turns every warning into an error).  (category, message regex).
_QUIET: tuple[tuple[type[Warning], str], ...] = (
    (DeprecationWarning, r"`torch\.jit\.\w+` is deprecated"),  # 2.13: script/trace/...
    (torch.jit.TracerWarning, r"Converting a tensor to a Python boolean"),  # RNN's checks
    (UserWarning, r"The tensor attributes self\._flat_weights"),  # export of nn.RNNBase
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),  # run_decompositions
    (DeprecationWarning, r"torch\.ao\.quantization is deprecated"),  # quantize_dynamic
    (UserWarning, r"torch\.quantize_per_tensor, torch\.quantize_per_channel"),  # its kernels
    (UserWarning, r"TF32 acceleration on top of oneDNN"),  # every mkldnn.flags() call
)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence exactly the warnings in ``_QUIET``, nothing else."""
    with warnings.catch_warnings():
        for category, message in _QUIET:
            warnings.filterwarnings("ignore", message, category)
        yield


def _signature(value: Any) -> Hashable:
    """What a trace or an export is specialised on: structure, shapes, dtypes, devices."""
    if isinstance(value, PackedSequence):
        return ("packed", _signature(value.data), tuple(value.batch_sizes.tolist()))
    if isinstance(value, Tensor):
        return (tuple(value.shape), value.dtype, value.device.type)
    if isinstance(value, tuple | list):
        return tuple(_signature(v) for v in value)
    return value if value is None else type(value).__name__


def _structure(value: Any) -> Hashable:
    """Like ``_signature`` without sizes: a trace is reused across batch and time sizes."""
    if isinstance(value, Tensor):
        return (value.dim(), value.dtype, value.device.type)
    if isinstance(value, tuple | list):
        return tuple(_structure(v) for v in value)
    return value if value is None else type(value).__name__


class ModeCandidate(nn.Module):
    """A reference run through a mode: builds its artifact per call key, caches it.

    Its parameters are the artifact's (or the reference's before the first call),
    named as torch names them, so the gradient laws compare weight gradients too.
    """

    def __init__(
        self,
        reference: nn.Module,
        build: Build,
        key: Callable[[tuple[Any, ...]], Hashable] | None = None,
        context: Callable[[], AbstractContextManager[Any]] = nullcontext,
        after: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        state = {"reference": reference, "build": build, "key": key, "context": context}
        self.__dict__.update(
            _mode=state, _after=after, _cache={}, _last=reference
        )  # not submodules: keep torch's parameter names

    def forward(self, *args: Any) -> Any:
        state = self.__dict__["_mode"]
        with quiet(), state["context"]():
            key = (state["key"](args) if state["key"] else None, torch.is_grad_enabled())
            cache = self.__dict__["_cache"]
            if key not in cache:
                cache[key] = state["build"](state["reference"], args)
            artifact = cache[key]
            self.__dict__["_last"] = artifact
            result = artifact(*args)
        after = self.__dict__["_after"]
        return after(result) if after else result

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, nn.Parameter]]:
        last = self.__dict__["_last"]
        owner = last if isinstance(last, nn.Module) else self.__dict__["_mode"]["reference"]
        yield from owner.named_parameters(*args, **kwargs)


# -- CPU: oneDNN off -------------------------------------------------------------------
def _onednn_off() -> AbstractContextManager[Any]:
    return torch.backends.mkldnn.flags(enabled=False)


def onednn_off(reference: nn.Module) -> nn.Module:
    """The reference, called with oneDNN disabled: CPU's native RNN kernels."""
    return ModeCandidate(reference, lambda ref, args: ref, context=_onednn_off)


# -- TorchScript ----------------------------------------------------------------------
class _ScriptLSTM(nn.Module):
    """nn.LSTM inside a scripted module: a scripted nn.LSTM alone has no ``forward``."""

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
    """nn.RNN / nn.GRU inside a scripted module."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.rnn(x, hx)

    @torch.jit.export
    def packed(self, x: PackedSequence, hx: Tensor | None = None) -> tuple[PackedSequence, Tensor]:
        return self.rnn(x, hx)


def _script(reference: nn.Module, args: tuple[Any, ...]) -> Callable[..., Any]:
    holder = _ScriptLSTM if isinstance(reference, nn.LSTM) else _ScriptRNN
    scripted = torch.jit.script(holder(reference))
    if isinstance(args[0], PackedSequence):
        return _Bound(scripted.rnn, scripted.packed)
    return _Bound(scripted.rnn, scripted)


class _Bound:
    """A callable artifact that exposes the parameters of ``module``."""

    def __init__(self, module: nn.Module, fn: Callable[..., Any]) -> None:
        self.module, self.fn = module, fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def named_parameters(self, *args: Any, **kwargs: Any) -> Any:
        return self.module.named_parameters(*args, **kwargs)


def jit_script(reference: nn.Module) -> nn.Module:
    """``torch.jit.script`` of a module holding the reference (its forward overloads)."""
    return ModeCandidate(reference, _script, key=lambda args: isinstance(args[0], PackedSequence))


def jit_trace(reference: nn.Module) -> nn.Module:
    """``torch.jit.trace``, once per call structure, reused across batch and time sizes."""
    return ModeCandidate(reference, lambda ref, args: torch.jit.trace(ref, args), key=_structure)


# -- torch.compile --------------------------------------------------------------------
def _dynamo_config() -> AbstractContextManager[Any]:
    # allow_rnn: compile RNNs instead of graph-breaking on them (experimental);
    # never fall back to eager silently when many configurations recompile.
    return torch._dynamo.config.patch(  # type: ignore[no-any-return]
        allow_rnn=True,
        recompile_limit=1_000_000,
        accumulated_recompile_limit=1_000_000,
        fail_on_recompile_limit_hit=True,
    )


def _compiler(backend: str) -> Callable[[nn.Module], nn.Module]:
    def wrap(reference: nn.Module) -> nn.Module:
        compiled = torch.compile(reference, backend=backend, fullgraph=True)
        return ModeCandidate(reference, lambda ref, args: compiled, context=_dynamo_config)

    return wrap


compile_eager = _compiler("eager")
compile_eager.__name__ = compile_eager.__qualname__ = "compile_eager"
compile_aot_eager = _compiler("aot_eager")
compile_aot_eager.__name__ = compile_aot_eager.__qualname__ = "compile_aot_eager"
compile_inductor = _compiler("inductor")
compile_inductor.__name__ = compile_inductor.__qualname__ = "compile_inductor"


# -- torch.export ---------------------------------------------------------------------
def _export(decompose: bool) -> Build:
    def build(reference: nn.Module, args: tuple[Any, ...]) -> Callable[..., Any]:
        program = torch.export.export(reference, args)
        if decompose:
            program = program.run_decompositions()
        return program.module()

    return build


def export(reference: nn.Module) -> nn.Module:
    """``torch.export.export`` per call signature, then the exported program's module."""
    return ModeCandidate(reference, _export(False), key=_signature)


def export_decomposed(reference: nn.Module) -> nn.Module:
    """As ``export``, lowered to core ATen with ``run_decompositions()``."""
    return ModeCandidate(reference, _export(True), key=_signature)


# -- dynamic quantization -------------------------------------------------------------
def quantized_dynamic(reference: nn.Module) -> nn.Module:
    """``torch.ao.quantization.quantize_dynamic`` (qint8 weights) of an nn.LSTM / nn.GRU."""
    holder = nn.Module()
    holder.rnn = reference  # quantize_dynamic swaps submodules, not the module itself
    with quiet():
        quantized = torch.ao.quantization.quantize_dynamic(
            holder, {type(reference)}, dtype=torch.qint8
        )
    module = quantized.rnn
    return ModeCandidate(reference, lambda ref, args: module)


# -- devices --------------------------------------------------------------------------
def _to(value: Any, device: str) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple | list):
        return tuple(_to(v, device) for v in value)
    return value.to(device)


@contextmanager
def _accelerator(cudnn: bool) -> Iterator[None]:
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=cudnn):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _on_device(device: str, cudnn: bool = True) -> Callable[[nn.Module], nn.Module]:
    def wrap(reference: nn.Module) -> nn.Module:
        moved = copy.deepcopy(reference).to(device)

        def build(ref: nn.Module, args: tuple[Any, ...]) -> Callable[..., Any]:
            return _Bound(moved, lambda *a: moved(*_to(a, device)))

        context = (lambda: _accelerator(cudnn)) if device == "cuda" else nullcontext
        return ModeCandidate(reference, build, context=context, after=lambda r: _to(r, "cpu"))

    return wrap


cuda = _on_device("cuda")
cuda.__name__ = cuda.__qualname__ = "cuda"
cuda_no_cudnn = _on_device("cuda", cudnn=False)
cuda_no_cudnn.__name__ = cuda_no_cudnn.__qualname__ = "cuda_no_cudnn"
mps = _on_device("mps")
mps.__name__ = mps.__qualname__ = "mps"


def eager(reference: nn.Module) -> nn.Module:
    """The identity: eager mode itself, the baseline row of the matrix."""
    return reference


# -- the registry ---------------------------------------------------------------------
def _always() -> str | None:
    return None


def _needs_cuda() -> str | None:
    return None if torch.cuda.is_available() else "no CUDA device on this machine"


def _needs_mps() -> str | None:
    return None if torch.backends.mps.is_available() else "no MPS device on this machine"


def _needs_onednn() -> str | None:
    return None if torch.backends.mkldnn.is_available() else "this torch build has no oneDNN"


def _needs_compiler() -> str | None:
    from shutil import which

    return None if which("g++") or which("c++") else "inductor needs a C++ compiler (none found)"


@dataclass(frozen=True)
class Mode:
    """One execution mode: ``wrap(reference) -> candidate``, and what it supports."""

    name: str
    summary: str
    wrap: Callable[[nn.Module], Any]
    scope: Scope
    repro: tuple[str, ...]  # plain torch: lines making ``candidate`` from ``module``
    max_examples: int = 10
    laws: tuple[str, ...] | None = None  # None: every law
    deadline: float | None = 60.0
    kinds: dict[str, str] = field(default_factory=dict)  # kind -> why it is unavailable
    requires: Callable[[], str | None] = _always
    notes: tuple[str, ...] = ()  # what is not checked, and why
    default: bool = True  # in the matrix when no modes are named

    @property
    def tolerances(self) -> dict[torch.dtype, Tolerance] | None:
        return self.scope.tolerances

    def available(self, kind: str | None = None) -> str | None:
        """Why this mode cannot run here (for ``kind``), or None when it can."""
        if kind is not None and kind in self.kinds:
            return self.kinds[kind]
        return self.requires()


from rnnspec.mode_registry import MODES  # noqa: E402 - the registry needs Mode

DEFAULT_MODES = tuple(name for name, mode in MODES.items() if mode.default)


def get_mode(name: str) -> Mode:
    if name not in MODES:
        raise ValueError(f"unknown mode {name!r}; known: {', '.join(MODES)}")
    return MODES[name]
