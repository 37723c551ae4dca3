"""Configurations and examples: the plain data that strategies draw and laws replay.

An :class:`Example` holds only sizes, flags and a seed; every tensor (weights,
inputs, initial states) is made from that seed with a ``torch.Generator``, so a
drawn example is cheap to shrink and replays bit-for-bit from its ``repr``.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["KINDS", "Example", "RNNConfig", "materialize_state"]

KINDS = ("rnn", "lstm", "gru")
_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}


@dataclass(frozen=True)
class RNNConfig:
    """The constructor arguments of one nn.RNN / nn.LSTM / nn.GRU."""

    kind: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    bidirectional: bool = False
    nonlinearity: str = "tanh"  # rnn only
    proj_size: int = 0  # lstm only
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.proj_size and not (self.kind == "lstm" and self.proj_size < self.hidden_size):
            raise ValueError(
                f"proj_size={self.proj_size} needs kind='lstm' and proj_size < hidden_size"
            )

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def replace(self, **changes: Any) -> RNNConfig:
        return replace(self, **changes)

    @property
    def out_size(self) -> int:
        """Features per direction of ``output`` and ``h_n``: proj_size when set, else hidden."""
        return self.proj_size or self.hidden_size

    @property
    def state_sizes(self) -> tuple[int, ...]:
        """Feature size of each state tensor: (H_out,) or, for LSTM, (H_out, H)."""
        if self.kind == "lstm":
            return (self.out_size, self.hidden_size)
        return (self.out_size,)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the torch module's constructor."""
        kw = asdict(self)
        del kw["kind"]
        if self.kind != "rnn":
            del kw["nonlinearity"]
        if self.kind != "lstm":
            del kw["proj_size"]
        return kw

    def build(
        self, *, seed: int = 0, dtype: torch.dtype = torch.float64, device: str = "cpu"
    ) -> nn.RNNBase:
        """The torch module, eval mode, weights ``U(-1/sqrt(H), 1/sqrt(H))`` drawn from ``seed``.

        Every call returns a new module of its own.  On the CPU it is a deep copy of one
        built earlier for the same arguments (kept in a small cache, never handed out):
        copying is a few times cheaper than constructing, and the laws build the same
        reference many times (twice in one example, and again in every law that draws it).
        """
        if torch.device(device).type != "cpu":
            return self._build(seed, dtype, device)
        return _BUILT.fresh((self, seed, dtype))

    def _build(self, seed: int, dtype: torch.dtype, device: str) -> nn.RNNBase:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
            module = _MODULES[self.kind](**self.kwargs())
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in module.parameters():
                p.copy_(
                    torch.empty(p.shape, dtype=torch.float64).uniform_(
                        -bound, bound, generator=generator
                    )
                )
        return module.to(device=device, dtype=dtype).eval()


class _Built:
    """RNNConfig.build's CPU modules by ``(config, seed, dtype)``, never handed out.

    Least recently used first; at most ``modules`` of them and ``elements`` parameter
    elements in all (a module over an eighth of that is built each time, not kept).
    """

    def __init__(self, modules: int = 256, elements: int = 2**22) -> None:
        self.modules, self.elements = modules, elements
        self.kept: OrderedDict[tuple[RNNConfig, int, torch.dtype], tuple[nn.RNNBase, int]] = (
            OrderedDict()
        )
        self.total = 0
        self.lock = threading.Lock()

    def fresh(self, key: tuple[RNNConfig, int, torch.dtype]) -> nn.RNNBase:
        """A module of the caller's own: a deep copy of the kept one, or a new one."""
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is not None:
            return copy.deepcopy(kept[0])
        config, seed, dtype = key
        module = config._build(seed, dtype, "cpu")
        size = sum(p.numel() for p in module.parameters())
        if size <= self.elements // 8:
            with self.lock:
                if key not in self.kept:
                    self.kept[key] = (module, size)
                    self.total += size
                while len(self.kept) > self.modules or self.total > self.elements:
                    _, (_, dropped) = self.kept.popitem(last=False)
                    self.total -= dropped
            return copy.deepcopy(module)
        return module


_BUILT = _Built()


@dataclass(frozen=True)
class Example:
    """One drawn case: a config, the input sizes, whether to pass ``hx``, a dtype and a seed."""

    config: RNNConfig
    batch_size: int | None  # None: unbatched (2-D) input
    seq_len: int
    seed: int = 0
    dtype: str = "float64"
    with_hx: bool = False
    device: str = "cpu"

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    def replace(self, **changes: Any) -> Example:
        return replace(self, **changes)

    def reference(self, dtype: torch.dtype | None = None) -> nn.RNNBase:
        """The torch module this example is about, in eval mode."""
        return self.config.build(
            seed=self.seed, dtype=dtype or self.torch_dtype, device=self.device
        )

    def input_shape(self) -> tuple[int, ...]:
        c = self.config
        if self.batch_size is None:
            return (self.seq_len, c.input_size)
        if c.batch_first:
            return (self.batch_size, self.seq_len, c.input_size)
        return (self.seq_len, self.batch_size, c.input_size)

    def inputs(self, dtype: torch.dtype | None = None) -> tuple[Tensor, Any]:
        """``(x, hx)`` with ``hx`` None unless ``with_hx``; values from ``seed + 1``."""
        dtype = dtype or self.torch_dtype
        generator = torch.Generator().manual_seed(self.seed + 1)
        x = torch.randn(self.input_shape(), dtype=torch.float64, generator=generator)
        x = x.to(device=self.device, dtype=dtype)
        if not self.with_hx:
            return x, None
        hx = tuple(
            h.to(device=self.device, dtype=dtype) for h in materialize_state(self, generator)
        )
        return x, hx if self.config.kind == "lstm" else hx[0]


def materialize_state(example: Example, generator: torch.Generator) -> tuple[Tensor, ...]:
    """Random non-zero initial states, shaped as torch expects (float64, CPU)."""
    c = example.config
    count = c.num_layers * c.directions
    lead = (count,) if example.batch_size is None else (count, example.batch_size)
    return tuple(
        0.5 * torch.randn(*lead, size, dtype=torch.float64, generator=generator)
        for size in c.state_sizes
    )
