"""Hidden states and axes, as torch's recurrent modules take them.

An initial or final state is ``None`` (zeros), one tensor ``h`` (nn.RNN, nn.GRU) or a
pair ``(h, c)`` (nn.LSTM); each tensor is ``(layers * directions, [batch,] size)``, so
a state's batch axis is 1.  The input's time axis depends on ``batch_first`` and on
whether the input is batched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from torch import Tensor
from torch.nn.utils.rnn import PackedSequence

__all__ = [
    "RESULT_NAMES",
    "State",
    "flat_result",
    "as_state",
    "batch_axis",
    "map_state",
    "select_samples",
    "state_tensors",
    "time_axis",
]

State: TypeAlias = Tensor | tuple[Tensor, Tensor] | None
"""``hx`` or ``h_n``: None, ``h``, or ``(h, c)`` for an LSTM."""

RESULT_NAMES = ("output", "h_n", "c_n")
"""The names of a result's tensors, in the order :func:`flat_result` gives them."""


def flat_result(result: Any) -> list[Any]:
    """A module's result ``(output, state)`` flattened: ``[output, h_n]`` or ``[output, h_n, c_n]``.

    A PackedSequence output gives its data; a state that is a tuple or list gives its
    items, anything else is one item.  Nothing is checked: the caller checks types.
    """
    output, state = result
    if isinstance(output, PackedSequence):
        output = output.data
    return [output, *(state if isinstance(state, tuple | list) else (state,))]


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
    """The tensors of ``hx``: [], [h] or [h, c] (a list counts as a tuple)."""
    if hx is None:
        return []
    return list(hx) if isinstance(hx, tuple | list) else [hx]


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
