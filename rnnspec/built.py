"""The machinery behind ``RNNConfig.build`` on the CPU: weights, templates and copies.

The laws build thousands of torch modules in a check, many of them more than once (the
reference and the module that gives the expected result; the same example in several
laws).  Constructing one costs about 0.3 ms (the constructor registers and initialises
every parameter); a copy of one costs about a quarter of that.  So ``RNNConfig.build``
constructs one :class:`Template` per structure and dtype, keeps it and never hands it
out, and hands out copies of it whose parameters hold a seed's weights, drawn once per
(structure, seed, dtype) by :func:`weights` and kept (:class:`Kept`).

Nothing here knows what a config is: ``rnnspec.config`` decides what is kept under which
key.  Importing it does not import torch.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

__all__ = ["Kept", "Template", "set_weights", "weights"]

V = TypeVar("V")


def weights(numel: int, hidden_size: int, seed: int, dtype: torch.dtype) -> Tensor:
    """Every parameter's values, in order, in one flat tensor of ``dtype``.

    Drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`` with a generator seeded
    with ``seed``, in float64, rounded to the default dtype (as a module constructed in it
    and then converted would hold them), then to ``dtype``.  One draw for all of them: the
    generator gives the same values in one call as in one call per parameter.
    """
    import torch

    bound = 1.0 / math.sqrt(hidden_size)
    flat = torch.empty(numel, dtype=torch.float64)
    flat.uniform_(-bound, bound, generator=torch.Generator().manual_seed(seed))
    return flat.to(torch.get_default_dtype()).to(dtype)


def set_weights(module: nn.Module, flat: Tensor) -> None:
    """Copy ``flat`` (:func:`weights`) into ``module``'s parameters, in order."""
    import torch

    start = 0
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(flat[start : start + p.numel()].view(p.shape))
            start += p.numel()


class Template:
    """A module to copy, kept and never handed out: its own weights are never used.

    :meth:`copy` is ``copy.deepcopy(module)`` with the parameters' values taken from a
    flat tensor of weights instead, done as deepcopy does it (a deep copy of the state,
    then ``__setstate__``) but a few times faster for what an RNN module holds: strings,
    numbers, and dicts, lists, sets and tuples of them.  Anything else in the state goes
    through ``copy.deepcopy`` itself.

    The state is ``__getstate__``'s without its check for replaced weights: a template is
    never handed out, so its weights are the ones it was built with.
    """

    def __init__(self, module: nn.Module, cls: type[nn.Module] | None = None) -> None:
        self.module = module
        # the class of the copies (default: the template's); a template may be an instance
        # of a subclass that only leaves its weights uninitialised
        self.cls = cls or type(module)
        state = module.__dict__.copy()
        state.pop("_flat_weight_refs", None)  # as RNNBase.__getstate__: __setstate__ rebuilds
        state.pop("_compiled_call_impl", None)  # as Module.__getstate__
        # numbers, flags and names are shared with every copy; the rest is copied
        self.shared = {k: v for k, v in state.items() if type(v) in _ATOMS}
        self.copied = tuple((k, v) for k, v in state.items() if k not in self.shared)
        self.numel = 0
        layout = []
        for p in module.parameters():
            layout.append((id(p), tuple(p.shape), p.stride(), self.numel, p.requires_grad))
            self.numel += p.numel()
        self.layout = tuple(layout)

    def copy(self, flat: Tensor, **attributes: Any) -> Any:
        """A module of the caller's own: the template's state, with ``flat``'s weights and
        the plain ``attributes`` given (numbers and flags the constructor only stores).

        The parameters share one new buffer, a copy of ``flat``, each its own part of it
        laid out as the template's (as torch's flattened cuDNN weights do).
        """
        from torch.nn import Parameter

        data = flat.clone()
        memo: dict[int, Any] = {
            key: Parameter(data.as_strided(shape, stride, start), grad)
            for key, shape, stride, start, grad in self.layout
        }
        state = self.shared.copy()
        for key, value in self.copied:
            state[key] = _deep(value, memo)
        state.update(attributes)
        new = self.cls.__new__(self.cls)
        new.__setstate__(state)
        return new


_ATOMS = (str, int, bool, float, type(None))


def _deep(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict or kind is OrderedDict:
        return kind((k, _deep(v, memo)) for k, v in value.items()) if value else kind()
    if kind is list:
        return [_deep(v, memo) for v in value]
    if kind is tuple:
        return tuple(_deep(v, memo) for v in value)
    if kind is set and all(type(v) is str for v in value):
        return set(value)
    found = memo.get(id(value))  # a parameter, already copied
    return found if found is not None else copy.deepcopy(value, memo)


class Kept(Generic[V]):
    """Values kept by key, the least recently used dropped first: at most ``items`` of
    them and ``elements`` tensor elements in all.  A value of over an eighth of that is not
    kept.  Safe to share between threads.
    """

    def __init__(self, items: int, elements: int) -> None:
        self.items, self.elements = items, elements
        self._kept: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept.move_to_end(key)
            return kept[0]

    def put(self, key: Hashable, value: V, elements: int) -> V:
        """Keep ``value`` (of ``elements`` tensor elements) under ``key``; return it."""
        if elements > self.elements // 8:
            return value
        with self._lock:
            if key not in self._kept:
                self._kept[key] = (value, elements)
                self._total += elements
            while len(self._kept) > self.items or self._total > self.elements:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._total -= dropped
        return value
