"""torch's process-wide settings, read as one value and put back: :class:`TorchState`.

A candidate may change settings that outlive its call: the default dtype, grad mode, the
number of intra-op threads, deterministic-algorithms mode, the oneDNN and cuDNN switches
and the TF32 flags.  :meth:`TorchState.capture` reads them all, :meth:`TorchState.changes`
says which differ from a later reading, and :meth:`TorchState.restore` sets them back.

Grad mode is kept per thread, and so, in effect, is the number of threads (OpenMP's
setting, though a new thread starts from the last one set): capture, compare and restore
on the thread that made the call.  Every other setting is process-wide.

torch 2.9 added a second spelling of the TF32 flags (``fp32_precision`` per backend and
operator); where this torch has it, those strings are read and restored too, after the
older flags (setting one of those rewrites some strings).  Reading an older flag raises
when the two spellings disagree: such a reading is kept as :class:`Unreadable`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["SETTINGS", "Setting", "TorchState", "Unreadable"]


@dataclass(frozen=True)
class Unreadable:
    """A setting torch refused to read (its message's first line)."""

    reason: str

    def __repr__(self) -> str:
        return f"unreadable ({self.reason})"


@dataclass(frozen=True)
class Setting:
    """One setting: its name as a user reads it, how to read it and how to set it."""

    name: str
    get: Callable[[], Any]
    set: Callable[[Any], None]

    def read(self) -> Any:
        try:
            return self.get()
        except RuntimeError as exc:
            text = str(exc).splitlines()[0]
            return Unreadable(text if len(text) <= 100 else text[:97] + "...")


def _deterministic(mode: bool | None = None, warn_only: bool | None = None) -> None:
    """Set deterministic-algorithms mode and its warn_only flag (None: keep the current)."""
    if mode is None:
        mode = torch.are_deterministic_algorithms_enabled()
    if warn_only is None:
        warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(mode, warn_only=warn_only)


def _flags(owner: str, *names: str) -> tuple[Setting, ...]:
    """``torch.backends.<owner>.<name>`` for each name this torch has, read and set through
    torch._C (as the property does, without its refusal after
    ``torch.backends.disable_global_flags()``)."""
    found = []
    for name in names:
        getter = getattr(torch._C, f"_get_{owner}_{name}", None)
        setter = getattr(torch._C, f"_set_{owner}_{name}", None)
        if getter is not None and setter is not None:
            found.append(Setting(f"torch.backends.{owner}.{name}", getter, setter))
    return tuple(found)


def _precision_name(backend: str, op: str) -> str:
    """The public spelling of torch's (backend, op) precision pair."""
    if backend == "generic":
        return "torch.backends.fp32_precision"
    if (backend, op) == ("cuda", "matmul"):
        return "torch.backends.cuda.matmul.fp32_precision"
    owner = "cudnn" if backend == "cuda" else backend
    return f"torch.backends.{owner}{'' if op == 'all' else '.' + op}.fp32_precision"


def _fp32_precisions() -> tuple[Setting, ...]:
    """The ``fp32_precision`` strings this torch has (2.9 and later), each backend's own
    before its operators'."""
    get = getattr(torch._C, "_get_fp32_precision_getter", None)
    put = getattr(torch._C, "_set_fp32_precision_setter", None)
    if get is None or put is None:
        return ()
    found = []
    for backend in ("generic", "mkldnn", "cuda"):
        for op in ("all", "matmul", "conv", "rnn"):
            try:
                get(backend, op)
            except RuntimeError:  # not a pair this torch knows
                continue
            found.append(
                Setting(
                    _precision_name(backend, op),
                    functools.partial(get, backend, op),
                    functools.partial(put, backend, op),
                )
            )
    return tuple(found)


SETTINGS: tuple[Setting, ...] = (
    Setting("torch.get_default_dtype()", torch.get_default_dtype, torch.set_default_dtype),
    Setting("torch.is_grad_enabled()", torch.is_grad_enabled, torch._C._set_grad_enabled),
    Setting("torch.get_num_threads()", torch.get_num_threads, torch.set_num_threads),
    Setting(
        "torch.are_deterministic_algorithms_enabled()",
        torch.are_deterministic_algorithms_enabled,
        lambda mode: _deterministic(mode=mode),
    ),
    Setting(
        "torch.is_deterministic_algorithms_warn_only_enabled()",
        torch.is_deterministic_algorithms_warn_only_enabled,
        lambda warn_only: _deterministic(warn_only=warn_only),
    ),
    *_flags("mkldnn", "enabled", "deterministic"),
    *_flags("cudnn", "enabled", "benchmark", "deterministic"),
    # the matmul precision first: it rewrites cuda.matmul.allow_tf32 (and the strings below)
    Setting(
        "torch.get_float32_matmul_precision()",
        torch.get_float32_matmul_precision,
        torch.set_float32_matmul_precision,
    ),
    Setting(
        "torch.backends.cuda.matmul.allow_tf32",
        torch._C._get_cublas_allow_tf32,
        torch._C._set_cublas_allow_tf32,
    ),
    Setting(
        "torch.backends.cudnn.allow_tf32",
        torch._C._get_cudnn_allow_tf32,
        torch._C._set_cudnn_allow_tf32,
    ),
    *_fp32_precisions(),
)
"""Every setting a :class:`TorchState` holds, in the order :meth:`TorchState.restore` sets them."""


@dataclass(frozen=True)
class TorchState:
    """The value of every setting in :data:`SETTINGS`, as read on one thread."""

    values: tuple[Any, ...]

    @classmethod
    def capture(cls) -> TorchState:
        """The settings now, as this thread sees them."""
        return cls(tuple(setting.read() for setting in SETTINGS))

    def changes(self, after: TorchState) -> list[str]:
        """One line per setting that differs in ``after``: which, from what, to what."""
        return [
            f"{setting.name} changed from {old!r} to {new!r}"
            for setting, old, new in zip(SETTINGS, self.values, after.values, strict=True)
            if old != new
        ]

    def restore(self) -> list[str]:
        """Set back every setting that differs now; the lines of those that stay changed.

        A setting may rewrite another (the matmul precision and ``allow_tf32``), so the
        settings are set in order, each compared with a fresh reading, twice at most.
        """
        for _ in range(2):
            differ = False
            for setting, value in zip(SETTINGS, self.values, strict=True):
                if isinstance(value, Unreadable) or setting.read() == value:
                    continue
                differ = True
                try:
                    setting.set(value)
                except RuntimeError:
                    pass  # a later setting (the fp32_precision strings) may undo the clash
            if not differ:
                return []
        return self.changes(TorchState.capture())
