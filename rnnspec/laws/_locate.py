"""Where two results first diverge: time step, direction, layer, gate block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from rnnspec.config import GATE_NAMES, RNNConfig

DIRECTIONS = ("forward", "reverse")


@dataclass(frozen=True)
class Location:
    """Where a comparison first diverges; every field None or () when it does not apply.

    ``time_step`` and ``directions`` locate an output (the halves of a bidirectional
    one), ``layer`` and ``direction`` a row of h_n / c_n, ``gates`` a weight gradient's
    gate blocks.  ``str()`` is the phrase a failure message ends with ('' when empty).
    """

    time_step: int | None = None
    directions: tuple[str, ...] = ()
    layer: int | None = None
    direction: str | None = None
    gates: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.time_step is not None:
            parts.append(f"first at time step {self.time_step}")
        if self.directions:
            parts.append(f"direction {'+'.join(self.directions)}")
        if self.layer is not None:
            where = f"first in layer {self.layer}"
            if self.direction is not None:
                where += f", {self.direction} direction"
            parts.append(where)
        if self.gates:
            parts.append("gate blocks " + ",".join(self.gates))
        return ("; " + ", ".join(parts)) if parts else ""


def locate(
    bad: Tensor,
    config: RNNConfig | None,
    *,
    what: str,
    time_dim: int | None = None,
    state_rows: bool = False,
) -> Location:
    """Locate the elements flagged in ``bad`` (a boolean tensor); empty when nothing helps.

    ``time_dim`` is the time axis of an output; ``state_rows`` says dim 0 indexes
    (layer, direction) as in h_n; a weight gradient's rows are gate blocks.
    """
    if bad.dim() == 0 or config is None:
        return Location()
    found: dict[str, Any] = {}
    if time_dim is not None and bad.dim() > time_dim:
        steps = bad.movedim(time_dim, 0).reshape(bad.shape[time_dim], -1).any(dim=1)
        found["time_step"] = int(steps.nonzero()[0])
        if config.bidirectional:
            half = bad.shape[-1] // 2
            halves = (bad[..., :half], bad[..., half:])
            hit = [name for name, part in zip(DIRECTIONS, halves, strict=True) if part.any()]
            found["directions"] = tuple(hit)
    if state_rows and bad.dim() >= 2:
        first = int(bad.reshape(bad.shape[0], -1).any(dim=1).nonzero()[0])
        layer, direction = divmod(first, config.directions)
        found["layer"] = layer
        if config.bidirectional:
            found["direction"] = DIRECTIONS[direction]
    is_gate_weight = what.startswith("grad weight") and "weight_hr" not in what
    names = GATE_NAMES[config.kind]
    if is_gate_weight and bad.shape[0] % len(names) == 0:
        blocks = bad.reshape(len(names), -1).any(dim=1)
        found["gates"] = tuple(n for n, b in zip(names, blocks, strict=True) if b)
    return Location(**found)
