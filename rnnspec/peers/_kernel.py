"""torch's own recurrent kernel with the weights as arguments, for the peers that convert it.

OpenVINO (``openvino.convert_model``) and ExecuTorch (``torch.export`` and
``executorch.exir``) take torch's layer itself, not a port: what they convert is
:class:`Functional`, which calls torch's kernel (``aten::rnn_tanh`` / ``rnn_relu`` /
``lstm`` / ``gru``) with the input, the initial states and every weight as arguments.
A converted program then holds the configuration and the shapes, never the weights, so
:class:`Programs` can keep it by those (:func:`program_key`) and every call feeds the
reference's weights as they are then.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import torch
from torch import nn

from rnnspec.peers._port import Spec

__all__ = ["Functional", "Programs", "program_key"]


def _kernel(spec: Spec) -> Any:
    if spec.kind == "rnn":
        return torch._VF.rnn_relu if spec.nonlinearity == "relu" else torch._VF.rnn_tanh
    return torch._VF.lstm if spec.kind == "lstm" else torch._VF.gru


class Functional(nn.Module):
    """torch's kernel for ``spec``: ``forward(x, h0[, c0], *weights)`` in torch's
    ``_flat_weights`` order, batch-major, eval mode, no dropout."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.spec = spec

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> Any:
        spec = self.spec
        states = 2 if spec.kind == "lstm" else 1
        hx: Any = tuple(rest[:states]) if states == 2 else rest[0]
        params = list(rest[states:])
        # dropout 0 and train=False: the converting peers' Scopes hand no dropout p > 0
        return _kernel(spec)(
            x, hx, params, spec.bias, spec.num_layers, 0.0, False, spec.bidirectional, True
        )


def program_key(spec: Spec, shapes: Sequence[Sequence[int]], *more: Hashable) -> tuple[Any, ...]:
    """What a converted program depends on: the configuration, the dtype, the shapes of
    its inputs (x, the states and every weight: the sizes) and ``more`` (a backend)."""
    return (
        *more,
        spec.kind,
        spec.nonlinearity,
        spec.num_layers,
        spec.bidirectional,
        spec.bias,
        str(spec.dtype),
        tuple(tuple(shape) for shape in shapes),
    )


class Programs:
    """Converted programs by :func:`program_key`; past ``size`` the least recently used
    one is dropped (a conversion costs seconds, the laws draw many shapes)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def newest(self) -> Any:
        """The program made or used last."""
        return next(reversed(self._items.values()))

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """The program for ``key``, made by ``make()`` the first time."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        program = self._items[key] = make()
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return program
