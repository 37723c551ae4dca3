"""Hidden states and axes, as torch's recurrent modules take them.

An initial or final state is ``None`` (zeros), one tensor ``h`` (nn.RNN, nn.GRU) or a
pair ``(h, c)`` (nn.LSTM); each tensor is ``(layers * directions, [batch,] size)``, so
a state's batch axis is 1.  The input's time axis depends on ``batch_first`` and on
whether the input is batched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from torch import Tensor

__all__ = [
    "State",
    "as_state",
    "batch_axis",
    "map_state",
    "select_samples",
    "state_tensors",
    "time_axis",
]

State: TypeAlias = Tensor | tuple[Tensor, Tensor] | None
"""``hx`` or ``h_n``: None, ``h``, or ``(h, c)`` for an LSTM."""


def map_state(fn: Callable[[Tensor], Tensor], hx: State) -> State:
    """``fn`` applied to each tensor of ``hx``, keeping its structure (None stays None)."""
    if hx is None:
        return None
    if isinstance(hx, tuple):
        h, c = hx
        return fn(h), fn(c)
    return fn(hx)


def select_samples(hx: State, index: Tensor) -> State:
    """The samples ``index`` (batch positions, a 1-D tensor) of a batched state."""
    return map_state(lambda h: h.index_select(1, index), hx)


def state_tensors(hx: State) -> list[Tensor]:
    """The tensors of ``hx``: [], [h] or [h, c]."""
    if hx is None:
        return []
    return list(hx) if isinstance(hx, tuple) else [hx]


def as_state(kind: str, tensors: Sequence[Tensor]) -> State:
    """The state of ``kind`` made of ``tensors`` (h first): ``(h, c)`` for lstm, else ``h``."""
    if kind == "lstm":
        h, c = tensors
        return h, c
    return tensors[0]


def time_axis(batch_first: bool, batched: bool = True) -> int:
    """The time axis of an input or output: 1 for batched batch-first tensors, else 0."""
    return 1 if batch_first and batched else 0


def batch_axis(batch_first: bool) -> int:
    """The batch axis of a batched input or output (a state's is always 1)."""
    return 0 if batch_first else 1
