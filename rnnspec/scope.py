"""What a candidate implementation supports, so nothing outside it is drawn."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import torch

from rnnspec.config import DTYPE_NAMES, NONLINEARITIES, dtype_name, dtype_named
from rnnspec.tolerance import Tolerance

__all__ = ["Scope"]

_BY_PRECISION = tuple(dtype_named(name) for name in DTYPE_NAMES)


@dataclass(frozen=True)
class Scope:
    """The configurations and features a candidate supports.

    The defaults are everything torch supports on CPU, except the error contract
    (``errors``), which a candidate opts in to.  A law that needs a feature outside
    the scope is reported "skipped (out of scope)", never failed.
    """

    batch_first: tuple[bool, ...] = (False, True)
    bidirectional: tuple[bool, ...] = (False, True)
    max_layers: int = 3
    bias: tuple[bool, ...] = (True, False)
    proj_size: bool = True
    nonlinearities: tuple[str, ...] = NONLINEARITIES
    initial_state: bool = True
    unbatched: bool = True
    packed: bool = True
    gradients: bool = True
    dropout: bool = True  # accepts dropout p > 0 (False: no law hands it a p > 0, in any mode)
    max_dropout: float = 1.0  # the largest p it accepts: laws draw p in (0, max_dropout]
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64)
    devices: tuple[str, ...] = ("cpu",)
    meta: bool = True
    errors: bool = False
    tolerances: dict[torch.dtype, Tolerance] | None = field(default=None, hash=False)
    max_input: int = 6
    max_hidden: int = 6
    max_batch: int = 4
    max_len: int = 72

    def __post_init__(self) -> None:
        for name in ("batch_first", "bidirectional", "bias"):
            value = getattr(self, name)
            if not value or any(not isinstance(v, bool) for v in value):
                raise ValueError(f"Scope.{name} must be a non-empty tuple of bools, got {value!r}")
        unknown = set(self.nonlinearities) - set(NONLINEARITIES)
        if not self.nonlinearities or unknown:
            raise ValueError(
                f"Scope.nonlinearities must name 'tanh' and/or 'relu', got {self.nonlinearities!r}"
            )
        bad = [d for d in self.dtypes if d not in _BY_PRECISION]
        if not self.dtypes or bad:
            raise ValueError(f"Scope.dtypes must be floating dtypes from {list(_BY_PRECISION)}")
        for name in ("max_layers", "max_input", "max_hidden", "max_batch", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Scope.{name} must be a positive integer, got {value!r}")
        p = self.max_dropout
        if not isinstance(p, int | float) or isinstance(p, bool) or not 0 < p <= 1:
            raise ValueError(f"Scope.max_dropout must be a number in (0, 1], got {p!r}")
        if not self.devices:
            raise ValueError("Scope.devices must name at least one device, e.g. ('cpu',)")

    @property
    def dtype_names(self) -> tuple[str, ...]:
        return tuple(dtype_name(d) for d in self.dtypes)

    @property
    def dtype_names_widest_first(self) -> tuple[str, ...]:
        """The dtypes in scope, most precise first (where a drawn dtype shrinks to)."""
        return tuple(dtype_name(d) for d in _BY_PRECISION if d in self.dtypes)

    @property
    def widest_dtype(self) -> torch.dtype:
        """The most precise dtype in scope: the one most laws compare in."""
        return next(d for d in _BY_PRECISION if d in self.dtypes)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "dtypes":
                value = list(self.dtype_names)
            elif f.name == "tolerances":
                value = (
                    {dtype_name(d): [t.rtol, t.atol] for d, t in value.items()} if value else None
                )
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out
