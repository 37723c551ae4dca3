"""Planted faults: factories whose candidates misbehave the ways real ones do.

Each wraps torch's own module (a correct forward) and misbehaves only where it says,
so every other law passes and a test can tell what isolation did with the fault.  The
crashing ones crash only on a first call with batch size 2 or more in a float64 run, so
that a scouting pass finds them at once and the laws before them see some passing
examples.  Used by ``tests/test_isolation.py`` through ``rnnspec check`` and
``rnnspec.check``; importable as ``faults:<name>`` with ``tests/`` on the path.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import time
from typing import Any

import torch
from torch import nn


class _Wrapped(nn.Module):
    """torch's module, with ``misbehave(x)`` run before each forward."""

    def __init__(self, reference: nn.Module, misbehave: Any) -> None:
        super().__init__()
        self.inner, self.misbehave = reference, misbehave

    def forward(self, *args: Any) -> Any:
        x = args[0]
        if isinstance(x, torch.Tensor) and x.dim() == 3:  # a PackedSequence is left alone
            x = x.transpose(0, 1) if self.inner.batch_first else x
        self.misbehave(x)
        return self.inner(*args)


def _batched(x: Any) -> bool:
    """``x`` (time-major here) holds two samples or more."""
    return isinstance(x, torch.Tensor) and x.dim() == 3 and x.shape[1] >= 2


def _segfault(x: Any) -> None:
    if _batched(x):
        ctypes.string_at(0)  # reads address 0: SIGSEGV


def _abort(x: Any) -> None:
    if _batched(x):
        os.abort()


def _exit3(x: Any) -> None:
    if _batched(x):
        os._exit(3)


def _sys_exit(x: Any) -> None:
    if _batched(x):
        sys.exit(5)


def _gil_hang(x: Any) -> None:
    if _batched(x):
        # catastrophic backtracking inside the C regex engine: it holds the GIL for hours
        re.match(r"(a*)*b", "a" * 40)


def _sleeps(x: Any) -> None:
    if _batched(x):
        time.sleep(30)


def _default_dtype(x: Any) -> None:
    torch.set_default_dtype(torch.float64)


def _eats_memory(x: Any) -> None:
    if _batched(x):
        torch.empty(2**40, dtype=torch.uint8)  # a terabyte


def segfaults(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _segfault)


def aborts(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _abort)


def exits(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _exit3)


def sys_exits(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _sys_exit)


def hangs_holding_the_gil(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _gil_hang)


def sleeps(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _sleeps)


def sets_default_dtype(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _default_dtype)


def eats_memory(reference: nn.Module) -> nn.Module:
    return _Wrapped(reference, _eats_memory)


def factory_exits(reference: nn.Module) -> nn.Module:
    """The factory itself calls sys.exit."""
    sys.exit(7)


def slow_factory(reference: nn.Module) -> nn.Module:
    """A correct candidate whose factory takes 1 s a build, as a converter's does."""
    time.sleep(1.0)
    return reference
