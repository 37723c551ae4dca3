"""Which Scope field declares each capability-bound law out of scope: the one mapping.

A failure of one of these laws may only mean that the candidate does not support the
capability (the meta device, packed sequences, torch's error contract...): its message
names the Scope field that says so, e.g. "(if your implementation does not support meta
tensors, declare Scope(meta=False))".  Declaring it puts the law out of scope (its
``needs`` returns a reason): tests/test_laws.py checks that for every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["CAPABILITIES", "Capability", "scope_hint"]


@dataclass(frozen=True)
class Capability:
    field: str  # the Scope field
    what: str  # what the candidate may not support
    value: Any  # the field's value that declares it out of scope

    @property
    def declaration(self) -> str:
        """``Scope(field=value)``, as Python."""
        return f"Scope({self.field}={self.value!r})"

    def hint(self) -> str:
        return f"(if your implementation does not support {self.what}, declare {self.declaration})"


_GRADIENTS = Capability("gradients", "gradients (backward)", False)
_BIDIRECTIONAL = Capability("bidirectional", "bidirectional=True", (False,))
_FLOAT64 = Capability("dtypes", "float64", (torch.float32,))
_ERRORS = Capability(
    "errors", "torch's error contract (its exceptions and messages for bad input)", False
)

CAPABILITIES: dict[str, Capability] = {
    "gradients": _GRADIENTS,
    "eval-backward": _GRADIENTS,
    "finite-differences": _GRADIENTS,
    "clip-grad-norm": _GRADIENTS,
    "bidirectional-doubling": _BIDIRECTIONAL,
    "bidirectional-composition": _BIDIRECTIONAL,
    "bidirectional-ends": _BIDIRECTIONAL,
    "bidirectional-not-causal": _BIDIRECTIONAL,
    "stacked-composition": Capability("max_layers", "more than one layer", 1),
    "streaming": Capability("initial_state", "an initial state (hx)", False),
    "unbatched": Capability("unbatched", "unbatched (T, I) input", False),
    "packed": Capability("packed", "packed sequences (PackedSequence)", False),
    "dropout-between-layers": Capability(
        "dropout", "dropout between layers in training mode", False
    ),
    "oracle": _FLOAT64,
    "dtype-parity": _FLOAT64,
    "meta-shapes": Capability("meta", "meta tensors", False),
    "device-parity": Capability("devices", "CUDA or MPS", ("cpu",)),
    "error-input-size": _ERRORS,
    "error-hx-shape": _ERRORS,
    "error-input-rank": _ERRORS,
    "error-dtype": _ERRORS,
    "error-empty-sequence": _ERRORS,
}
"""Law id -> the capability it needs beyond the forward itself, and its Scope field."""


def scope_hint(law_id: str) -> str | None:
    """The line that names the Scope field declaring ``law_id`` out of scope, or None."""
    capability = CAPABILITIES.get(law_id)
    return capability.hint() if capability else None
