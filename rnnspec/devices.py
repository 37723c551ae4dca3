"""Devices present here, and TF32: the reduced precision CUDA may use for float32 work.

On NVIDIA GPUs since Ampere, float32 matmuls and cuDNN kernels may round their inputs
to TF32 (10 mantissa bits instead of 23).  torch decides per backend: plain CUDA
matmuls (``torch.backends.cuda.matmul``, off by default) and cuDNN, which runs
nn.RNN / nn.LSTM / nn.GRU on CUDA (``torch.backends.cudnn``, **on** by default).  The
flags are process-wide, not per thread.  rnnspec reads them as a :class:`Tf32` value
and sets them only inside :func:`cuda_precision`, restoring the caller's afterwards.

torch 2.9 added a second spelling (``fp32_precision = "tf32" | "ieee" | "none"``, per
backend and operator); mixing it with the older ``allow_tf32`` flags makes reading
``allow_tf32`` raise.  Both are handled here, so that nothing else in rnnspec sets these
flags (``rnnspec.torchstate`` only puts back what a candidate changed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["ACCELERATORS", "Tf32", "available_devices", "cuda_precision"]

ACCELERATORS = ("cuda", "mps")


def available_devices() -> tuple[str, ...]:
    """``cpu`` plus each accelerator torch can use here."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return tuple(found)


def _new_api(owner: Any) -> str | None:
    """``owner.fp32_precision`` where this torch has it and it says "tf32" or "ieee"."""
    value = getattr(owner, "fp32_precision", None)
    return value if value in ("tf32", "ieee") else None


def _legacy(owner: Any) -> bool:
    try:
        return bool(owner.allow_tf32)
    except RuntimeError:  # flags set through both APIs and in disagreement: torch refuses
        return False


@dataclass(frozen=True)
class Tf32:
    """Whether TF32 may stand in for float32: in CUDA matmuls, and in cuDNN's RNN kernels."""

    matmul: bool
    cudnn_rnn: bool

    @classmethod
    def current(cls) -> Tf32:
        """The process's settings now (readable on a CPU-only build too)."""
        matmul = _new_api(torch.backends.cuda.matmul)
        rnn = _new_api(getattr(torch.backends.cudnn, "rnn", None))
        return cls(
            matmul == "tf32" if matmul else _legacy(torch.backends.cuda.matmul),
            rnn == "tf32" if rnn else _legacy(torch.backends.cudnn),
        )

    def __str__(self) -> str:
        words = {True: "on", False: "off"}
        return f"TF32 matmul {words[self.matmul]}, cuDNN RNN {words[self.cudnn_rnn]}"

    def as_dict(self) -> dict[str, bool]:
        return {"matmul": self.matmul, "cudnn_rnn": self.cudnn_rnn}

    def as_code(self) -> tuple[str, ...]:
        """Plain-torch lines that set these flags (for repro scripts)."""
        return (
            f"torch.backends.cuda.matmul.allow_tf32 = {self.matmul}",
            f"torch.backends.cudnn.allow_tf32 = {self.cudnn_rnn}",
        )


OFF = Tf32(matmul=False, cudnn_rnn=False)
DEFAULTS = Tf32(matmul=False, cudnn_rnn=True)
"""torch's own defaults: plain matmuls in float32, cuDNN (so every RNN on CUDA) in TF32."""


def _snapshot() -> list[tuple[Any, str, Any]]:
    """Every flag :func:`cuda_precision` may change, as (owner, attribute, value), in the
    order to restore them: the legacy booleans first (setting one rewrites the newer
    strings), then the strings, backend before operator."""
    legacy: list[Any] = [torch.backends.cuda.matmul, torch.backends.cudnn]
    owners = legacy + [getattr(torch.backends.cudnn, op) for op in ("conv", "rnn")
                       if hasattr(torch.backends.cudnn, op)]  # fmt: skip
    saved: list[tuple[Any, str, Any]] = [
        (torch.backends.cudnn, "enabled", torch.backends.cudnn.enabled)
    ]
    for owner in legacy:
        try:
            saved.append((owner, "allow_tf32", owner.allow_tf32))
        except RuntimeError:  # the two APIs disagree already; the strings below restore it
            pass
    saved += [(owner, "fp32_precision", owner.fp32_precision)
              for owner in owners if hasattr(owner, "fp32_precision")]  # fmt: skip
    return saved


@contextmanager
def cuda_precision(tf32: Tf32, *, cudnn: bool | None = None) -> Iterator[None]:
    """Run the block with ``tf32`` (and cuDNN enabled or not), then restore every flag.

    Sets the flags directly: ``torch.backends.cudnn.flags(...)`` would also reset
    ``allow_tf32`` to its own default (True) unless passed, which is how a block meant to
    run "TF32 off" once ran with TF32 on.
    """
    saved = _snapshot()
    try:
        torch.backends.cuda.matmul.allow_tf32 = tf32.matmul
        torch.backends.cudnn.allow_tf32 = tf32.cudnn_rnn
        if cudnn is not None:
            torch.backends.cudnn.enabled = cudnn
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
