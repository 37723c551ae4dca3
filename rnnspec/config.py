"""Configurations and examples: the plain data that strategies draw and laws replay.

An :class:`Example` holds only sizes, flags and a seed; every tensor (weights,
inputs, initial states) is made from that seed with a ``torch.Generator``, so a
drawn example is cheap to shrink and replays bit-for-bit from its ``repr``.

It also holds, once, what the rest of the package names: the kinds and their torch
classes, the gate blocks of each kind, the dtype names, and the defaults of a run.
Importing it does not import torch (the CLI's options and the pytest plugin read it).
"""

from __future__ import annotations

import functools
import random
import warnings
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from rnnspec.built import Kept, Template, set_weights, weights

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
        it is a copy of a module constructed once for this config's structure
        (:meth:`_structure`) and dtype, with the seed's weights, which are drawn once for
        each structure, seed and dtype (``rnnspec.built``): the laws build the same
        reference many times.
        """
        import torch

        dtype = dtype or torch.float64
        if device != "cpu" and torch.device(device).type != "cpu":
            return self._build(seed, dtype, device)
        structure = self._structure()
        template = _TEMPLATES.get((structure, dtype))
        if template is None:
            uninitialised = structure._construct(dtype, initialise=False)
            template = Template(uninitialised, module_class(self.kind))
            _TEMPLATES.put((structure, dtype), template, template.numel)
        flat = _WEIGHTS.get((structure, seed, dtype))
        if flat is None:
            flat = weights(template.numel, self.hidden_size, seed, dtype)
            _WEIGHTS.put((structure, seed, dtype), flat, template.numel)
        module: nn.RNNBase = template.copy(
            flat, dropout=float(self.dropout), batch_first=self.batch_first
        )
        return module

    def _structure(self) -> RNNConfig:
        """This config as far as the parameters go: without its dropout and its layout,
        which torch's constructor only stores (the dropout laws draw a new p every example;
        ``test_strategies`` compares every attribute of a copy with a constructed module's).
        """
        if self.dropout or self.batch_first:
            return self.replace(dropout=0.0, batch_first=False)
        return self

    def _build(self, seed: int, dtype: torch.dtype, device: str) -> nn.RNNBase:
        """What :meth:`build` returns, made from scratch: constructed, then given the weights."""
        import torch

        module = self._construct(dtype)
        numel = sum(p.numel() for p in module.parameters())
        set_weights(module, weights(numel, self.hidden_size, seed, dtype))
        return module if torch.device(device).type == "cpu" else module.to(device)

    def _construct(self, dtype: torch.dtype, initialise: bool = True) -> nn.RNNBase:
        """torch's module for this config, in ``dtype`` and eval mode, weights as torch
        initialises them; ``initialise=False``: as allocated, for a template (whose
        weights are never used), which saves a quarter of the constructor's time."""
        cls = module_class(self.kind) if initialise else _uninitialised(self.kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
            return cls(**self.kwargs(), dtype=dtype).eval()


@functools.cache
def _uninitialised(kind: str) -> type[nn.RNNBase]:
    """torch's class for ``kind`` with a ``reset_parameters`` that does nothing: the
    constructor leaves the weights as allocated.  A :class:`~rnnspec.built.Template` of
    one hands out instances of torch's class itself."""
    cls = module_class(kind)
    return type(f"Uninitialised{cls.__name__}", (cls,), {"reset_parameters": lambda self: None})


_TEMPLATES: Kept[Template] = Kept(items=4096, elements=2**22)
"""A constructed module for each (structure, dtype), to copy; never handed out.  A check
of torch's LSTM meets some 750 structures: with room for 256 of them, it constructed 960
modules; with room for all, 742."""
_WEIGHTS: Kept[Tensor] = Kept(items=1024, elements=2**22)
"""The flat weights of each (structure, seed, dtype)."""


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
