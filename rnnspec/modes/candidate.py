"""What every mode's candidate is: the reference run through an artifact built per call key.

:class:`ModeCandidate` builds the artifact a mode makes of the reference (a scripted
module, a compiled one, an exported program, an ONNX session) on the first call with a
given key and caches it; :func:`signature` is what such an artifact is specialised on.
:func:`quiet` silences the warnings torch emits on those paths.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnspec.silence import silenced

__all__ = ["Bound", "Build", "ModeCandidate", "quiet", "signature"]

Build = Callable[[nn.Module, tuple[Any, ...]], Any]

_QUIET: tuple[tuple[type[Warning], str], ...] = (
    (DeprecationWarning, r"`torch\.jit\.\w+` is deprecated"),  # torch 2.13, script and trace
    (torch.jit.TracerWarning, r"Converting a tensor to a Python boolean"),  # RNNBase's checks
    (UserWarning, r"The tensor attributes self\._flat_weights"),  # export of RNNBase
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),  # run_decompositions
    (DeprecationWarning, r"torch\.ao\.quantization is deprecated"),  # quantize_dynamic
    (UserWarning, r"torch\.quantize_per_tensor, torch\.quantize_per_channel"),  # its kernels
    (UserWarning, r"TF32 acceleration on top of oneDNN"),  # each mkldnn.flags() call
    (UserWarning, r"dropout option adds dropout after all but last"),  # quantized, 1 layer
)
"""The warnings torch emits on these paths, silenced where a wrapper runs them."""


_LOGGERS = ("torch._subclasses.fake_tensor", "torch.fx.experimental.symbolic_shapes")
"""Loggers that print a traceback for each input a compiler refuses (a law's bad input)."""


def quiet() -> AbstractContextManager[None]:
    """Silence exactly the warnings of ``_QUIET``, and ``_LOGGERS`` below CRITICAL."""
    return silenced(_QUIET, _LOGGERS)


def signature(value: Any, sizes: bool = True) -> Hashable:
    """What an artifact is specialised on: structure, dtypes, devices (and ``sizes``)."""
    if isinstance(value, PackedSequence):
        return ("packed", signature(value.data, sizes), tuple(value.batch_sizes.tolist()))
    if isinstance(value, Tensor):
        return (tuple(value.shape) if sizes else value.dim(), value.dtype, value.device.type)
    if isinstance(value, tuple | list):
        return tuple(signature(v, sizes) for v in value)
    return None if value is None else type(value).__name__


class ModeCandidate(nn.Module):
    """The reference run through a mode: one artifact per call key (and grad mode), cached.

    ``per_grad_mode=False`` shares one artifact between calls with and without autograd.

    Its parameters are the last artifact's (the reference's before the first call),
    under torch's names, so the gradient laws compare weight gradients too.
    """

    def __init__(
        self,
        reference: nn.Module,
        build: Build,
        key: Callable[[tuple[Any, ...]], Hashable] = lambda args: None,
        context: Callable[[], AbstractContextManager[Any]] = nullcontext,
        after: Callable[[Any], Any] = lambda result: result,
        per_grad_mode: bool = True,
    ) -> None:
        super().__init__()
        # plain attributes, not submodules: the parameter names stay torch's
        self.__dict__.update(_reference=reference, _build=build, _key=key, _context=context)
        self.__dict__.update(_after=after, _cache={}, _last=reference, _grad=per_grad_mode)

    def conditions(self) -> AbstractContextManager[Any]:
        """The context every call runs in (e.g. the precision flags of a CUDA mode)."""
        return self.__dict__["_context"]()

    def forward(self, *args: Any) -> Any:
        d = self.__dict__
        with quiet(), d["_context"]():
            key = (d["_key"](args), d["_grad"] and torch.is_grad_enabled())
            if key not in d["_cache"]:
                d["_cache"][key] = d["_build"](d["_reference"], args)
            d["_last"] = d["_cache"][key]
            result = d["_last"](*args)
        return d["_after"](result)

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, nn.Parameter]]:
        last = self.__dict__["_last"]
        owner = last if hasattr(last, "named_parameters") else self.__dict__["_reference"]
        yield from owner.named_parameters(*args, **kwargs)


class Bound:
    """A callable artifact exposing ``module``'s parameters."""

    def __init__(self, module: nn.Module, fn: Callable[..., Any]) -> None:
        self.module, self.fn = module, fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def named_parameters(self, *args: Any, **kwargs: Any) -> Any:
        return self.module.named_parameters(*args, **kwargs)
