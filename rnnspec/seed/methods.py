"""The seed's seven methods as a catalog: how to build and run each, and what the seed printed."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnspec.reference.seed import (
    BiRNN,
    BuiltInRNN,
    GRUModel,
    LSTMModel,
    ManualRNN,
    Seq2Seq,
    StackedRNN,
    run_manual,
)
from rnnspec.seed.weights import seed_parameters

__all__ = ["METHODS", "SEED_SIZES", "Method", "MethodRow", "Sizes", "measure_methods"]


@dataclass(frozen=True)
class Sizes:
    """The sizes every seed method is built and run at."""

    batch_size: int = 32
    seq_len: int = 10
    input_size: int = 50
    hidden_size: int = 128
    output_size: int = 10

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


SEED_SIZES = Sizes()


@dataclass(frozen=True)
class Method:
    """One seed method: its label in the seed, its class, and what the seed printed for it."""

    label: str
    cls: type[nn.Module]
    printed_shape: tuple[int, ...]
    printed_params: int | None  # None: the seed's parameter table leaves it out

    def build(self, sizes: Sizes) -> nn.Module:
        return self.cls(sizes.input_size, sizes.hidden_size, sizes.output_size)

    def run(self, model: nn.Module, sizes: Sizes, generator: torch.Generator) -> Tensor:
        """Run ``model`` on random inputs the way the seed's cell does; return its output."""
        x = torch.randn(sizes.batch_size, sizes.seq_len, sizes.input_size, generator=generator)
        if isinstance(model, ManualRNN):
            output, _, _ = run_manual(model, x)
            return output
        if isinstance(model, Seq2Seq):
            tgt = torch.randn(
                sizes.batch_size, sizes.seq_len, sizes.output_size, generator=generator
            )
            return model(x, tgt)
        return model(x)

    def expected_shape(self, sizes: Sizes) -> tuple[int, ...]:
        """The shape the code produces: (B, O) for the heads, (B, T_tgt, O) for Seq2Seq."""
        if self.cls is Seq2Seq:
            return (sizes.batch_size, sizes.seq_len, sizes.output_size)
        return (sizes.batch_size, sizes.output_size)

    def expected_params(self, sizes: Sizes) -> int:
        return seed_parameters(
            self.cls.__name__, sizes.input_size, sizes.hidden_size, sizes.output_size
        )


METHODS: tuple[Method, ...] = (
    Method("Manual RNN", ManualRNN, (32, 10), 24_702),
    Method("nn.RNN", BuiltInRNN, (32, 10), 24_330),
    Method("LSTM", LSTMModel, (32, 10), 93_450),
    Method("GRU", GRUModel, (32, 10), 70_410),
    Method("BiRNN", BiRNN, (32, 10), 48_650),
    Method("Stacked RNN", StackedRNN, (32, 10, 10), None),
    Method("Seq2Seq", Seq2Seq, (32, 10, 10), None),
)
"""The seed's methods in the seed's order, with its printed output shapes and parameter table."""


@dataclass(frozen=True)
class MethodRow:
    """What one method measured at some sizes, next to what the seed printed."""

    label: str
    shape: tuple[int, ...]
    params: int
    printed_shape: tuple[int, ...] | None  # None: sizes differ from the seed's
    printed_params: int | None
    expected_shape: tuple[int, ...]
    formula_params: int

    @property
    def disagreements(self) -> list[str]:
        found = []
        if self.printed_shape is not None and self.printed_shape != self.shape:
            found.append(
                f"seed printed shape {list(self.printed_shape)}, code gives {list(self.shape)}"
            )
        if self.printed_params is not None and self.printed_params != self.params:
            found.append(
                f"seed printed {self.printed_params:,} parameters, code has {self.params:,}"
            )
        if self.expected_shape != self.shape:
            found.append(f"code should give {list(self.expected_shape)}, gives {list(self.shape)}")
        if self.formula_params != self.params:
            found.append(
                f"closed form says {self.formula_params:,} parameters, code has {self.params:,}"
            )
        return found


def measure_methods(sizes: Sizes = SEED_SIZES, seed: int = 0) -> list[MethodRow]:
    """Build and run every seed method at ``sizes``; compare with the seed where sizes match."""
    at_seed_sizes = sizes == SEED_SIZES
    rows = []
    for method in METHODS:
        torch.manual_seed(seed)
        model = method.build(sizes)
        with torch.no_grad():
            output = method.run(model, sizes, torch.Generator().manual_seed(seed))
        rows.append(
            MethodRow(
                label=method.label,
                shape=tuple(output.shape),
                params=sum(p.numel() for p in model.parameters()),
                printed_shape=method.printed_shape if at_seed_sizes else None,
                printed_params=method.printed_params if at_seed_sizes else None,
                expected_shape=method.expected_shape(sizes),
                formula_params=method.expected_params(sizes),
            )
        )
    return rows
