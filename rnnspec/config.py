"""Configurations and examples: the plain data that strategies draw and laws replay.

An :class:`Example` holds only sizes, flags and a seed; every tensor (weights,
inputs, initial states) is made from that seed with a ``torch.Generator``, so a
drawn example is cheap to shrink and replays bit-for-bit from its ``repr``.

It also holds, once, what the rest of the package names: the kinds and their torch
classes, the gate blocks of each kind, the dtype names, and the defaults of a run.
Importing it does not import torch (the CLI's options and the pytest plugin read it).
"""

from __future__ import annotations

import copy
import math
import random
import threading
import warnings
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn

    from rnnspec.state import State

__all__ = [
    "DEADLINE",
    "DTYPE_NAMES",
    "GATE_NAMES",
    "KINDS",
    "MAX_EXAMPLES",
    "NONLINEARITIES",
    "Example",
    "RNNConfig",
    "class_name",
    "dtype_name",
    "dtype_named",
    "fresh_seed",
    "gate_count",
    "kind_of",
    "materialize_state",
    "module_class",
]

# -- the kinds ----------------------------------------------------------------------
KINDS = ("rnn", "lstm", "gru")
"""The recurrent kinds, named as ``check(kind=...)`` takes them; torch's classes are
``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` (:func:`class_name`, :func:`module_class`)."""

GATE_NAMES: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}
"""The gate blocks stacked in ``weight_ih`` / ``weight_hh`` of each kind, in torch's order."""

NONLINEARITIES = ("tanh", "relu")
"""The nonlinearities of nn.RNN (the other kinds have none to choose)."""


def _known(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return kind


def gate_count(kind: str) -> int:
    """How many gate blocks ``kind`` stacks in its weights: 1, 4 or 3."""
    return len(GATE_NAMES[_known(kind)])


def class_name(kind: str) -> str:
    """The name of torch's class for ``kind``: "RNN", "LSTM" or "GRU"."""
    return _known(kind).upper()


def module_class(kind: str) -> type[nn.RNNBase]:
    """torch's class for ``kind``: nn.RNN, nn.LSTM or nn.GRU."""
    from torch import nn

    cls: type[nn.RNNBase] = getattr(nn, class_name(kind))
    return cls


def kind_of(module: Any) -> str:
    """The kind of a torch recurrent module, read from its ``mode`` (RNN_TANH, LSTM, ...)."""
    return {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")


# -- dtypes -------------------------------------------------------------------------
DTYPE_NAMES = ("float64", "float32", "bfloat16", "float16")
"""The floating dtypes an example may use, by name, the most precise first."""


def dtype_named(name: str) -> torch.dtype:
    """The torch dtype called ``name`` (one of :data:`DTYPE_NAMES`)."""
    if name not in DTYPE_NAMES:
        raise ValueError(f"dtype must be one of {DTYPE_NAMES}, got {name!r}")
    import torch

    dtype: torch.dtype = getattr(torch, name)
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    """The name of a torch dtype, as examples and reports spell it: torch.float32 -> "float32"."""
    return str(dtype).removeprefix("torch.")


# -- the defaults of a run ------------------------------------------------------------
MAX_EXAMPLES = 100
"""Hypothesis examples per law in a check, unless told otherwise."""

DEADLINE = 10.0
"""Seconds one call of a candidate may take in a check before its law fails."""


def fresh_seed() -> int:
    """The seed of a run given none: random, and reported so that the run replays."""
    return random.randrange(2**32)


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
        _known(self.kind)
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
        self, *, seed: int = 0, dtype: torch.dtype | None = None, device: str = "cpu"
    ) -> nn.RNNBase:
        """The torch module, eval mode, weights ``U(-1/sqrt(H), 1/sqrt(H))`` drawn from ``seed``.

        ``dtype`` None: float64.  Every call returns a new module of its own.  On the CPU
        it is a deep copy of one built earlier for the same arguments (kept in a small
        cache, never handed out): copying is a few times cheaper than constructing, and
        the laws build the same reference many times (twice in one example, and again in
        every law that draws it).  A seed not kept yet for a config whose structure is
        (another example's, or another dropout's) is a copy of that module with its
        dropout set and its weights drawn again: the same values.
        """
        import torch

        dtype = dtype or torch.float64
        if torch.device(device).type != "cpu":
            return self._build(seed, dtype, device)
        return _BUILT.fresh((self, seed, dtype))

    def _build(self, seed: int, dtype: torch.dtype, device: str) -> nn.RNNBase:
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
            module = module_class(self.kind)(**self.kwargs(), dtype=dtype)
        self._draw_weights(module, seed)
        module.eval()
        return module if torch.device(device).type == "cpu" else module.to(device)

    def _reseeded(self, seed: int, like: nn.RNNBase) -> nn.RNNBase:
        """What ``_build(seed, dtype, "cpu")`` returns, made from ``like``: a CPU module of
        this config's structure (:func:`_structure`) and dtype, built with another seed (a
        copy of it, with this config's dropout and its weights drawn again).
        """
        module = _copy(like)
        module.dropout = float(self.dropout)
        self._draw_weights(module, seed)
        return module

    def _draw_weights(self, module: nn.RNNBase, seed: int) -> None:
        """Set every parameter, in order, to ``U(-1/sqrt(H), 1/sqrt(H))`` drawn from ``seed``.

        Drawn in float64, rounded to the default dtype (as a module constructed in it and
        then converted would hold them), then to the module's.  One draw for all of them:
        the generator gives the same values in one call as in one call per parameter.
        """
        import torch

        params = list(module.parameters())
        bound = 1.0 / math.sqrt(self.hidden_size)
        flat = torch.empty(sum(p.numel() for p in params), dtype=torch.float64)
        flat.uniform_(-bound, bound, generator=torch.Generator().manual_seed(seed))
        flat = flat.to(torch.get_default_dtype())
        start = 0
        with torch.no_grad():
            for p in params:
                p.copy_(flat[start : start + p.numel()].view(p.shape))
                start += p.numel()


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
        # the key of the latest kept module of each (structure, dtype), to reseed on a miss
        self.like: dict[tuple[RNNConfig, torch.dtype], tuple[RNNConfig, int, torch.dtype]] = {}
        self.lock = threading.Lock()

    def fresh(self, key: tuple[RNNConfig, int, torch.dtype]) -> nn.RNNBase:
        """A module of the caller's own: a deep copy of the kept one, or a new one."""
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is not None:
            return _copy(kept[0])
        config, seed, dtype = key
        with self.lock:  # a kept module of this structure and dtype, built with another seed
            like = self.kept.get(self.like.get((_structure(config), dtype), key))
        if like is not None:  # copying it and drawing its weights again skips the constructor
            module = config._reseeded(seed, like[0])
        else:
            module = config._build(seed, dtype, "cpu")
        size = sum(p.numel() for p in module.parameters())
        if size <= self.elements // 8:
            with self.lock:
                if key not in self.kept:
                    self.kept[key] = (module, size)
                    self.total += size
                self.like[_structure(config), dtype] = key
                while len(self.kept) > self.modules or self.total > self.elements:
                    gone, (_, dropped) = self.kept.popitem(last=False)
                    self.total -= dropped
                    structure = (_structure(gone[0]), gone[2])
                    if self.like.get(structure) == gone:  # at most one per kept
                        del self.like[structure]
            return _copy(module)
        return module


def _structure(config: RNNConfig) -> RNNConfig:
    """``config`` without its dropout: modules of one structure hold the same parameters
    (the dropout laws draw a new p for every example)."""
    return config.replace(dropout=0.0) if config.dropout else config


def _copy(module: nn.RNNBase) -> nn.RNNBase:
    """``copy.deepcopy(module)`` for a kept module, done as deepcopy does it (a deep copy
    of its state, then ``__setstate__``) but a few times faster for what such a module
    holds: strings, numbers, parameters, and dicts, lists, sets and tuples of them.
    Anything else in the state goes through ``copy.deepcopy`` itself.

    The state is ``__getstate__``'s without its check for replaced weights: a kept
    module is never handed out, so its weights are the ones it was built with.
    """
    import torch

    memo: dict[int, Any] = {}
    state = module.__dict__.copy()
    state.pop("_flat_weight_refs", None)  # as RNNBase.__getstate__: __setstate__ rebuilds them
    state.pop("_compiled_call_impl", None)  # as Module.__getstate__
    new = module.__class__.__new__(module.__class__)
    new.__setstate__({k: _deep(v, memo, torch.nn.Parameter) for k, v in state.items()})
    return new


def _deep(value: Any, memo: dict[int, Any], parameter: type) -> Any:
    kind = type(value)
    if kind is parameter:
        new = memo.get(id(value))
        if new is None:  # as Parameter.__deepcopy__ (clone preserves the memory format)
            new = memo[id(value)] = kind(value.data.clone(), value.requires_grad)
        return new
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict or kind is OrderedDict:
        return kind((k, _deep(v, memo, parameter)) for k, v in value.items())
    if kind is list:
        return [_deep(v, memo, parameter) for v in value]
    if kind is tuple:
        return tuple(_deep(v, memo, parameter) for v in value)
    if kind is set and all(type(v) is str for v in value):
        return set(value)
    return copy.deepcopy(value, memo)


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
        return dtype_named(self.dtype)

    def replace(self, **changes: Any) -> Example:
        return replace(self, **changes)

    def reference(self, dtype: torch.dtype | None = None) -> nn.RNNBase:
        """The torch module this example is about, in eval mode."""
        return self.config.build(
            seed=self.seed, dtype=dtype or self.torch_dtype, device=self.device
        )

    @property
    def time_axis(self) -> int:
        """The time axis of this example's input and output."""
        from rnnspec.state import time_axis

        return time_axis(self.config.batch_first, self.batch_size is not None)

    def input_shape(self) -> tuple[int, ...]:
        c = self.config
        if self.batch_size is None:
            return (self.seq_len, c.input_size)
        if c.batch_first:
            return (self.batch_size, self.seq_len, c.input_size)
        return (self.seq_len, self.batch_size, c.input_size)

    def inputs(self, dtype: torch.dtype | None = None) -> tuple[Tensor, State]:
        """``(x, hx)`` with ``hx`` None unless ``with_hx``; values from ``seed + 1``."""
        import torch

        from rnnspec.state import as_state

        dtype = dtype or self.torch_dtype
        generator = torch.Generator().manual_seed(self.seed + 1)
        x = torch.randn(self.input_shape(), dtype=torch.float64, generator=generator)
        x = x.to(device=self.device, dtype=dtype)
        if not self.with_hx:
            return x, None
        hx = tuple(
            h.to(device=self.device, dtype=dtype) for h in materialize_state(self, generator)
        )
        return x, as_state(self.config.kind, hx)


def materialize_state(example: Example, generator: torch.Generator) -> tuple[Tensor, ...]:
    """Random non-zero initial states, shaped as torch expects (float64, CPU)."""
    import torch

    c = example.config
    count = c.num_layers * c.directions
    lead = (count,) if example.batch_size is None else (count, example.batch_size)
    return tuple(
        0.5 * torch.randn(*lead, size, dtype=torch.float64, generator=generator)
        for size in c.state_sizes
    )
