"""Where the seed printed something its own code does not do.

Each erratum quotes the seed's words exactly and says what the code does; the
test suite re-derives the code's behaviour and checks both halves.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERRATA", "Erratum"]


@dataclass(frozen=True)
class Erratum:
    id: str
    method: str  # the seed method's label, as in rnnspec.seed.methods.METHODS
    quote: str  # the seed's words, exactly
    actual: str  # what the seed's code does
    explanation: str


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        id="stacked-output-shape",
        method="Stacked RNN",
        quote="Output shape: torch.Size([32, 10, 10])",
        actual="Output shape: torch.Size([32, 10])",
        explanation=(
            "StackedRNN.forward applies its head to rnn_out[:, -1, :], the last step only, "
            "exactly as BuiltInRNN does; stacking layers does not add a time dimension."
        ),
    ),
)
