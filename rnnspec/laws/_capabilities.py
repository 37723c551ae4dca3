"""Capabilities: the Scope declarations that put a law out of scope, declared with the law.

A law that needs more than the forward itself (the meta device, packed sequences,
torch's error contract...) names what it needs with ``law(..., capability=...)``.  The
capability says which Scope field declares the candidate without it, so that one
declaration gives both the law's "skipped (out of scope: ...)" reason and the line its
failure message adds, e.g. "(if your implementation does not support meta tensors,
declare Scope(meta=False))": a failure may only mean that the candidate lacks it.
``rnnspec.laws.CAPABILITIES`` is the resulting table, derived from the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from rnnspec.scope import Scope

__all__ = [
    "BIDIRECTIONAL",
    "DEVICES",
    "DROPOUT",
    "ERRORS",
    "FLOAT64",
    "FULL_DROPOUT",
    "GRADIENTS",
    "INITIAL_STATE",
    "LAYERS",
    "META",
    "PACKED",
    "SAMPLES",
    "STEPS",
    "UNBATCHED",
    "UNIDIRECTIONAL",
    "Capability",
]


@dataclass(frozen=True)
class Capability:
    """What a law needs beyond the forward, and the Scope field that declares it absent.

    ``value`` is a declaration of that field which puts the law out of scope (the one
    the hint shows); ``lacks`` says of any value of the field whether it does (by
    default: it equals ``value``); ``reason`` is the skip reason it gives.
    """

    field: str  # the Scope field
    what: str  # what the candidate may not support
    value: Any  # a value of the field that declares it out of scope
    reason: str  # "skipped (out of scope: <reason>)"
    lacks: Callable[[Any], bool] | None = None

    @property
    def declaration(self) -> str:
        """``Scope(field=value)``, as Python."""
        return f"Scope({self.field}={self.value!r})"

    def hint(self) -> str:
        return f"(if your implementation does not support {self.what}, declare {self.declaration})"

    def missing(self, scope: Scope) -> str | None:
        """The skip reason when ``scope`` declares the capability absent, else None."""
        value = getattr(scope, self.field)
        absent = self.lacks(value) if self.lacks is not None else value == self.value
        return self.reason if absent else None


GRADIENTS = Capability("gradients", "gradients (backward)", False, "gradients are out of scope")
BIDIRECTIONAL = Capability(
    "bidirectional",
    "bidirectional=True",
    (False,),
    "bidirectional is out of scope",
    lambda value: True not in value,
)
UNIDIRECTIONAL = Capability(
    "bidirectional",
    "bidirectional=False",
    (True,),
    "unidirectional is out of scope",
    lambda value: False not in value,
)
LAYERS = Capability(
    "max_layers", "more than one layer", 1, "needs max_layers >= 2", lambda value: value < 2
)
STEPS = Capability(
    "max_len", "sequences of two steps or more", 1, "needs max_len >= 2", lambda value: value < 2
)
SAMPLES = Capability(
    "max_batch",
    "batches of two samples or more",
    1,
    "needs max_batch >= 2",
    lambda value: value < 2,
)
INITIAL_STATE = Capability(
    "initial_state", "an initial state (hx)", False, "initial states are out of scope"
)
UNBATCHED = Capability(
    "unbatched", "unbatched (T, I) input", False, "unbatched input is out of scope"
)
PACKED = Capability(
    "packed", "packed sequences (PackedSequence)", False, "packed sequences are out of scope"
)
DROPOUT = Capability(
    "dropout", "dropout > 0 (between layers, in any mode)", False, "dropout is out of scope"
)
FULL_DROPOUT = Capability(
    "max_dropout",
    "dropout p = 1",
    0.9,
    "needs dropout p = 1 (Scope.max_dropout is below 1)",
    lambda value: value < 1,
)
FLOAT64 = Capability(
    "dtypes",
    "float64",
    (torch.float32,),
    "float64 is out of scope",
    lambda value: torch.float64 not in value,
)
META = Capability("meta", "meta tensors", False, "the meta device is out of scope")
DEVICES = Capability(
    "devices",
    "CUDA or MPS",
    ("cpu",),
    "no CUDA or MPS device in Scope.devices",
    lambda value: set(value) <= {"cpu"},
)
ERRORS = Capability(
    "errors",
    "torch's error contract (its exceptions and messages for bad input)",
    False,
    "the error contract is opt-in (Scope(errors=True))",
)
