"""What every port shares: torch's weights read out, torch's calling convention undone and redone.

A port copies a torch reference module (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) into another
framework and runs that framework's layer.  :class:`Spec` is the reference's
configuration, :func:`weights` its weights as NumPy arrays, one :class:`Direction` per
layer and direction, in torch's own gate order.  :class:`Ported` is the candidate: it
takes ``(x, hx)`` as torch does (time- or batch-major, batched or not, ``hx`` None or
given), hands the port one :class:`Call` in a single layout (batch-major, every
initial state given), and turns the port's arrays back into torch tensors shaped and
typed as torch returns them.  Nothing here imports a framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnspec.config import kind_of

__all__ = ["Call", "Direction", "Ported", "Spec", "folded_bias", "weights"]


@dataclass(frozen=True)
class Spec:
    """The reference's configuration, as a port needs it."""

    kind: str
    input_size: int
    hidden_size: int
    num_layers: int
    bidirectional: bool
    batch_first: bool
    bias: bool
    nonlinearity: str  # "tanh" or "relu" (nn.RNN); "tanh" for the others
    proj_size: int
    dropout: float
    training: bool
    dtype: torch.dtype

    @classmethod
    def of(cls, reference: nn.RNNBase) -> Spec:
        return cls(
            kind=kind_of(reference),
            input_size=reference.input_size,
            hidden_size=reference.hidden_size,
            num_layers=reference.num_layers,
            bidirectional=reference.bidirectional,
            batch_first=reference.batch_first,
            bias=reference.bias,
            nonlinearity=getattr(reference, "nonlinearity", "tanh"),
            proj_size=getattr(reference, "proj_size", 0),
            dropout=float(reference.dropout),
            training=reference.training,
            dtype=next(reference.parameters()).dtype,
        )

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def out_size(self) -> int:
        """The width of h (and of each direction's output): proj_size when set."""
        return self.proj_size or self.hidden_size

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(str(self.dtype).removeprefix("torch."))


@dataclass(frozen=True)
class Direction:
    """One layer's weights in one direction, as torch holds them (gate blocks stacked).

    ``w_ih`` is ``(G*H, I)``, ``w_hh`` ``(G*H, H_out)``, the biases ``(G*H,)`` or None
    (``bias=False``), ``w_hr`` ``(P, H)`` or None; G is 1, 4 or 3 and the gate blocks are
    torch's: i, f, g, o for the LSTM, r, z, n for the GRU.
    """

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray | None
    b_hh: np.ndarray | None
    w_hr: np.ndarray | None


def _array(module: nn.Module, name: str) -> np.ndarray | None:
    value = getattr(module, name, None)
    return None if value is None else value.detach().cpu().numpy().copy()


def weights(reference: nn.RNNBase) -> list[list[Direction]]:
    """The reference's weights: ``[layer][direction]`` (direction 1 is the reverse one)."""
    spec = Spec.of(reference)
    layers = []
    for layer in range(spec.num_layers):
        row = []
        for direction in range(spec.directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = (
                _array(reference, "weight_ih" + suffix),
                _array(reference, "weight_hh" + suffix),
            )
            assert w_ih is not None
            assert w_hh is not None
            row.append(
                Direction(
                    w_ih=w_ih,
                    w_hh=w_hh,
                    b_ih=_array(reference, "bias_ih" + suffix),
                    b_hh=_array(reference, "bias_hh" + suffix),
                    w_hr=_array(reference, "weight_hr" + suffix),
                )
            )
        layers.append(row)
    return layers


def folded_bias(direction: Direction, like: np.ndarray) -> np.ndarray:
    """``b_ih + b_hh``, zeros when the reference has no bias (one bias per gate suffices)."""
    total = np.zeros(like.shape[0], dtype=like.dtype)
    for b in (direction.b_ih, direction.b_hh):
        if b is not None:
            total = total + b
    return total


def bias_or_zeros(bias: np.ndarray | None, like: np.ndarray) -> np.ndarray:
    return np.zeros(like.shape[0], dtype=like.dtype) if bias is None else bias


@dataclass(frozen=True)
class Call:
    """One call, in one layout: ``x`` is ``(B, T, I)``; ``h0`` is ``(D*L, B, H_out)`` and
    ``c0`` ``(D*L, B, H)`` (LSTM only), zeros where torch's caller passed no state."""

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None

    def initial(self, layer: int, direction: int, directions: int) -> tuple[np.ndarray, ...]:
        """The initial state(s) of one layer and direction: ``(h,)`` or ``(h, c)``."""
        index = layer * directions + direction
        return (self.h0[index],) if self.c0 is None else (self.h0[index], self.c0[index])


Run = Callable[[Call], tuple[Any, Any, Any]]
"""A port's run: a Call -> (output ``(B, T, D*H_out)``, h_n, c_n or None), array-likes."""


RunLayer = Callable[[int, Any, list[tuple[np.ndarray, ...]]], tuple[Any, list[tuple[Any, ...]]]]
"""One layer: (layer, input, each direction's initial state) -> (output, each final state)."""


class Ported:
    """torch's calling convention around a port's :data:`Run`.

    A plain callable, not an ``nn.Module``: its results are computed by another
    framework, outside torch's autograd (the laws that need gradients or parameters
    are declared out of scope, or not applicable).
    """

    def __init__(self, spec: Spec, run: Run, name: str) -> None:
        self.spec, self._run, self.name = spec, run, name

    def __repr__(self) -> str:
        return f"<{self.name} port of a torch {self.spec.kind}>"

    def __call__(self, x: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        spec = self.spec
        if isinstance(x, PackedSequence):
            raise NotImplementedError(f"{self.name}: packed sequences are not supported")
        if x.dim() not in (2, 3):
            raise ValueError(f"{self.name}: the input must be 2-D or 3-D, got {x.dim()}-D")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0 if spec.batch_first else 1)
            hx = None if hx is None else _map(lambda h: h.unsqueeze(1), hx)
        xb = x if spec.batch_first else x.transpose(0, 1)
        batch = xb.shape[0]
        layers = spec.num_layers * spec.directions
        dtype = spec.numpy_dtype
        if hx is None:
            h0 = np.zeros((layers, batch, spec.out_size), dtype=dtype)
            c0 = (
                np.zeros((layers, batch, spec.hidden_size), dtype=dtype)
                if spec.kind == "lstm"
                else None
            )
        elif spec.kind == "lstm":
            h0, c0 = (_numpy(t) for t in hx)
        else:
            h0, c0 = _numpy(hx), None
        output, h_n, c_n = self._run(Call(_numpy(xb), h0, c0))
        out = torch.from_numpy(np.array(output, dtype=dtype))
        if not spec.batch_first:
            out = out.transpose(0, 1)
        state: Any = torch.from_numpy(np.array(h_n, dtype=dtype))
        if spec.kind == "lstm":
            state = (state, torch.from_numpy(np.array(c_n, dtype=dtype)))
        if unbatched:
            out = out.squeeze(0 if spec.batch_first else 1)
            state = _map(lambda h: h.squeeze(1), state)
        return out.contiguous(), state


def _numpy(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _map(fn: Callable[[Tensor], Tensor], state: Any) -> Any:
    return tuple(fn(t) for t in state) if isinstance(state, tuple | list) else fn(state)


def stacked(
    spec: Spec,
    call: Call,
    run_layer: Callable[
        [int, Any, list[tuple[np.ndarray, ...]]], tuple[Any, list[tuple[Any, ...]]]
    ],
) -> tuple[Any, Any, Any]:
    """Layers run one after the other, each fed the previous one's output (a port whose
    framework has no multi-layer module stacks its layers here, as torch does).

    ``run_layer(layer, x, initial)`` gets the layer's input ``(B, T, I)`` and each
    direction's initial state, and returns its output ``(B, T, D*H_out)`` and each
    direction's final state (``(h,)`` or ``(h, c)``).
    """
    x: Any = call.x
    finals: list[tuple[Any, ...]] = []
    for layer in range(spec.num_layers):
        initial = [call.initial(layer, d, spec.directions) for d in range(spec.directions)]
        x, last = run_layer(layer, x, initial)
        finals.extend(last)
    h_n = np.stack([np.asarray(f[0]) for f in finals])
    c_n = np.stack([np.asarray(f[1]) for f in finals]) if spec.kind == "lstm" else None
    return x, h_n, c_n
