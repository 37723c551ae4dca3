"""The one tolerance table of rnnspec: by dtype, growing with sequence length.

Two results are close when ``|a - b| <= atol + rtol * |b|`` elementwise (the rule
of ``torch.testing.assert_close``).  Rounding error in a recurrence accumulates
step by step, so both terms grow linearly with the number of steps:
``base * (1 + steps / 16)``.  The bases are chosen from what correct
implementations reach on CPU (float64 loops vs torch differ by ~1e-15) with a wide
margin, and are far below what any real bug produces.

=========  ========  ========  =============================================
dtype      rtol      atol      notes
=========  ========  ========  =============================================
float64    1e-10     1e-10     loop references agree with torch to ~1e-15
float32    2e-5      2e-5      vs a float64 reference of the same weights
bfloat16   8e-2      8e-2      narrow kernels, compared with a float64 reference
float16    1e-2      1e-2      narrow kernels, compared with a float64 reference
=========  ========  ========  =============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["BASE", "GROWTH_STEPS", "Tolerance", "tolerance", "within"]


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def scaled(self, factor: float) -> Tolerance:
        return Tolerance(self.rtol * factor, self.atol * factor)

    def __str__(self) -> str:
        return f"rtol={self.rtol:.1e} atol={self.atol:.1e}"


BASE: dict[torch.dtype, Tolerance] = {
    torch.float64: Tolerance(1e-10, 1e-10),
    torch.float32: Tolerance(2e-5, 2e-5),
    torch.bfloat16: Tolerance(8e-2, 8e-2),
    torch.float16: Tolerance(1e-2, 1e-2),
}
GROWTH_STEPS = 16
"""The tolerance grows linearly by its base every ``GROWTH_STEPS`` steps of sequence length:
``base * (1 + steps / GROWTH_STEPS)``, twice the base at 16 steps, three times at 32."""


def tolerance(
    dtype: torch.dtype,
    steps: int,
    overrides: Mapping[torch.dtype, Tolerance] | None = None,
) -> Tolerance:
    """The tolerance for comparing a ``dtype`` result after ``steps`` recurrent steps."""
    table = {**BASE, **(overrides or {})}
    if dtype not in table:
        raise ValueError(f"no tolerance for dtype {dtype}; known: {sorted(map(str, table))}")
    return table[dtype].scaled(1 + steps / GROWTH_STEPS)


def within(actual: Tensor, expected: Tensor, tol: Tolerance) -> Tensor:
    """Elementwise ``|actual - expected| <= atol + rtol * |expected|``, as a bool tensor.

    The one closeness rule of rnnspec, computed in float64 on the CPU (shapes must
    broadcast); a NaN on either side is never within.
    """
    a = actual.detach().to("cpu", torch.float64)
    b = expected.detach().to("cpu", torch.float64)
    return (a - b).abs() <= tol.atol + tol.rtol * b.abs()
