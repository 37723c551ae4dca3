"""Where two results first diverge: time step, direction, layer, gate block."""

from __future__ import annotations

from torch import Tensor

from rnnspec.config import GATE_NAMES, RNNConfig

DIRECTIONS = ("forward", "reverse")


def locate(
    bad: Tensor,
    config: RNNConfig | None,
    *,
    what: str,
    time_dim: int | None = None,
    state_rows: bool = False,
) -> str:
    """Describe the elements flagged in ``bad`` (a boolean tensor), '' when nothing helps.

    ``time_dim`` is the time axis of an output; ``state_rows`` says dim 0 indexes
    (layer, direction) as in h_n; a weight gradient's rows are gate blocks.
    """
    if bad.dim() == 0 or config is None:
        return ""
    parts = []
    if time_dim is not None and bad.dim() > time_dim:
        steps = bad.movedim(time_dim, 0).reshape(bad.shape[time_dim], -1).any(dim=1)
        parts.append(f"first at time step {int(steps.nonzero()[0])}")
        if config.bidirectional:
            half = bad.shape[-1] // 2
            halves = (bad[..., :half], bad[..., half:])
            hit = [name for name, part in zip(DIRECTIONS, halves, strict=True) if part.any()]
            parts.append(f"direction {'+'.join(hit)}")
    if state_rows and bad.dim() >= 2:
        first = int(bad.reshape(bad.shape[0], -1).any(dim=1).nonzero()[0])
        layer, direction = divmod(first, config.directions)
        where = f"first in layer {layer}"
        if config.bidirectional:
            where += f", {DIRECTIONS[direction]} direction"
        parts.append(where)
    is_gate_weight = what.startswith("grad weight") and "weight_hr" not in what
    names = GATE_NAMES[config.kind]
    if is_gate_weight and bad.shape[0] % len(names) == 0:
        blocks = bad.reshape(len(names), -1).any(dim=1)
        parts.append("gate blocks " + ",".join(n for n, b in zip(names, blocks, strict=True) if b))
    return ("; " + ", ".join(parts)) if parts else ""
