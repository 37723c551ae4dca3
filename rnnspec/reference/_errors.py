"""Input validation for the loop references, raising what torch raises.

Exception types follow torch; messages follow torch's wording closely enough to
match the regular expressions of the error-contract laws (``rnnspec.laws.errors``).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rnnspec.config import class_name
from rnnspec.state import time_axis


def check_input(module: Any, x: Tensor) -> None:
    """Raise torch's exception for an input of the wrong rank, dtype, width or length."""
    if x.dim() not in (2, 3):
        name = class_name(module.kind)
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.dim()}D tensor instead")
    weight_dtype = module.weight_ih_l0.dtype
    if x.dtype != weight_dtype:
        raise ValueError(
            f"input must have the type {weight_dtype}, got type {x.dtype} "
            f"(RNN input dtype ({x.dtype}) does not match weight dtype ({weight_dtype}))"
        )
    if x.shape[-1] != module.input_size:
        raise RuntimeError(
            f"input.size(-1) must be equal to input_size. "
            f"Expected {module.input_size}, got {x.shape[-1]}"
        )
    time_dim = time_axis(module.batch_first, x.dim() == 3)
    if x.shape[time_dim] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")


def check_hidden(module: Any, hx: tuple[Tensor, ...], batch: int, unbatched: bool) -> None:
    """Raise torch's exception for initial states of the wrong rank or shape."""
    count = module.num_layers * module.num_directions
    for index, (h, size) in enumerate(zip(hx, module.state_sizes, strict=True)):
        if unbatched and h.dim() != 2:
            raise RuntimeError(
                f"For unbatched 2-D input, hx should also be 2-D but got {h.dim()}-D tensor"
            )
        if not unbatched and h.dim() != 3:
            raise RuntimeError(
                f"For batched 3-D input, hx should also be 3-D but got {h.dim()}-D tensor"
            )
        expected = (count, size) if unbatched else (count, batch, size)
        if tuple(h.shape) != expected:
            which = f"hidden[{index}]" if len(hx) == 2 else "hidden"
            raise RuntimeError(f"Expected {which} size {expected}, got {list(h.shape)}")
