"""Built-in candidates and subjects: torch's own modules, the loop references, the seed.

These are what rnnspec checks when no user implementation is given, and what its
own test suite runs every law against.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from rnnspec.config import KINDS, class_name, module_class
from rnnspec.laws import Subject
from rnnspec.reference import loops, seed
from rnnspec.reference.seed import ManualRNN
from rnnspec.scope import Scope
from rnnspec.seed.weights import copy_rnn_to_manual

__all__ = [
    "SEED_SUBJECT",
    "ManualRNNCandidate",
    "builtin_subjects",
    "seed_class",
    "torch_module",
]


def torch_module(reference: nn.Module) -> nn.Module:
    """The identity factory: torch's own module is the candidate."""
    return reference


def seed_class(name: str) -> Any:
    """The seed's classes, by name: the factory of the "seed" subject."""
    return getattr(seed, name)


class ManualRNNCandidate(nn.Module):
    """The seed's ManualRNN driven over a whole sequence, called like a one-layer tanh nn.RNN."""

    def __init__(self, reference: nn.RNN) -> None:
        super().__init__()
        self.batch_first = reference.batch_first
        weight = next(reference.parameters())
        self.manual = ManualRNN(reference.input_size, reference.hidden_size, 1)
        self.manual.to(device=weight.device, dtype=weight.dtype)
        copy_rnn_to_manual(reference, self.manual)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        unbatched = x.dim() == 2
        if unbatched:
            x, hx = x.unsqueeze(0), None if hx is None else hx.unsqueeze(1)
        elif not self.batch_first:
            x = x.transpose(0, 1)  # (B, T, I)
        hidden = None if hx is None else hx[0]
        _, last, hiddens = seed.run_manual(self.manual, x, hidden)  # (B, T, H)
        h_n = last.unsqueeze(0)  # (1, B, H)
        if unbatched:
            return hiddens.squeeze(0), h_n.squeeze(1)
        return (hiddens if self.batch_first else hiddens.transpose(0, 1)), h_n


MANUAL_SCOPE = Scope(bidirectional=(False,), max_layers=1, nonlinearities=("tanh",), packed=False)
"""ManualRNN is one layer, one direction, tanh, and knows nothing of PackedSequence."""


SEED_SUBJECT = Subject("seed", seed_class, Scope(), "seed methods")
"""The seed's own classes, for the laws of kind "seed"."""


def builtin_subjects(
    devices: tuple[str, ...] = ("cpu",), errors: bool = True, torch_modules: bool = True
) -> list[Subject]:
    """torch's modules (optional), the loop references, the seed ManualRNN, the seed's classes."""
    full = Scope(devices=devices, errors=errors)
    subjects = []
    for kind in KINDS:
        if torch_modules:
            name = f"torch nn.{class_name(kind)}"
            subjects.append(Subject(kind, torch_module, full, name, module_class(kind)))
        loop = loops.LOOPS[kind]
        subjects.append(Subject(kind, loop.from_module, full, loop.__name__, loop))
    subjects.append(Subject("rnn", ManualRNNCandidate, MANUAL_SCOPE, "seed ManualRNN"))
    subjects.append(SEED_SUBJECT)
    return subjects
