"""How much the last state of an RNN, LSTM or GRU still depends on the first input.

The measure is the Frobenius norm of the Jacobian ``d h_T / d x_1`` of a single-layer
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` at torch's default initialisation, for growing sequence
lengths ``T`` and several seeds.  It is computed exactly with one backward pass: the batch
holds ``H`` copies of the same sequence and copy ``b`` back-propagates only unit ``b`` of its
last state, so the gradient of copy ``b``'s first input is row ``b`` of the Jacobian.
Float64 keeps norms far below float32's range (``1e-38``) from underflowing to zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from rnnspec.bench.timing import threads
from rnnspec.config import KINDS, class_name, module_class

__all__ = ["MODULES", "GradientCurve", "first_input_gradient_norm", "gradient_curves"]

MODULES: dict[str, Callable[..., nn.RNNBase]] = {
    class_name(kind): module_class(kind) for kind in KINDS
}
"""torch's classes by name ("RNN", "LSTM", "GRU"): the kinds of the curves."""


def first_input_gradient_norm(
    kind: str, seq_len: int, *, input_size: int = 50, hidden_size: int = 128, seed: int = 0
) -> float:
    """``|| d h_T / d x_1 ||_F`` for a freshly initialised ``kind`` model and a random sequence."""
    if kind not in MODULES:
        raise ValueError(f"kind must be one of {sorted(MODULES)}, got {kind!r}")
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MODULES[kind](input_size, hidden_size, batch_first=True, dtype=torch.float64)
        x = torch.randn(1, seq_len, input_size, dtype=torch.float64)  # (1, T, I)
    copies = x.expand(hidden_size, seq_len, input_size).clone().requires_grad_()  # (H, T, I)
    out, _ = model(copies)  # (H, T, H)
    out[:, -1, :].diagonal().sum().backward()  # copy b back-propagates unit b of h_T
    assert copies.grad is not None
    jacobian = copies.grad[:, 0, :]  # (H, I): row b is d h_T[b] / d x_1
    return float(jacobian.norm())


@dataclass(frozen=True)
class GradientCurve:
    """Norms of ``d h_T / d x_1`` for one kind: ``norms[i][s]`` at ``lengths[i]``, seed ``s``."""

    kind: str
    lengths: tuple[int, ...]
    norms: tuple[tuple[float, ...], ...]

    def median(self, seq_len: int) -> float:
        return statistics.median(self.norms[self.lengths.index(seq_len)])

    def spread(self, seq_len: int) -> tuple[float, float]:
        values = self.norms[self.lengths.index(seq_len)]
        return min(values), max(values)

    def decay_per_step(self) -> float:
        """The geometric-mean factor the median norm shrinks by per added step."""
        first, last = self.lengths[0], self.lengths[-1]
        if last == first:
            return 1.0
        low, high = self.median(last), self.median(first)
        if low <= 0.0 or high <= 0.0:
            return 0.0
        return math.exp((math.log(low) - math.log(high)) / (last - first))

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "lengths": list(self.lengths),
            "norms": [list(n) for n in self.norms],
        }


def gradient_curves(
    lengths: Sequence[int] = (10, 25, 50, 100, 200, 500),
    seeds: int = 5,
    *,
    kinds: Sequence[str] = tuple(MODULES),
    input_size: int = 50,
    hidden_size: int = 128,
    progress: Callable[[str], None] | None = None,
) -> dict[str, GradientCurve]:
    """Measure :func:`first_input_gradient_norm` for every kind, length and seed.

    Runs on one thread: the result does not depend on it, and on a busy machine torch's
    multi-threaded small matmuls can be many times slower.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    curves = {}
    with threads(1):
        for kind in kinds:
            if progress:
                progress(f"gradient norms for {kind} at T in {list(lengths)}, {seeds} seeds")
            norms = tuple(
                tuple(
                    first_input_gradient_norm(
                        kind, t, input_size=input_size, hidden_size=hidden_size, seed=s
                    )
                    for s in range(seeds)
                )
                for t in lengths
            )
            curves[kind] = GradientCurve(kind, tuple(lengths), norms)
    return curves
