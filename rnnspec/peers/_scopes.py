"""The Scope every port to another framework starts from, each field's reason beside it."""

from __future__ import annotations

from rnnspec.scope import Scope

__all__ = ["PORT"]

PORT = Scope(
    # The port computes in another framework and hands back tensors made from its arrays:
    # torch's autograd does not reach through it, so the gradient laws cannot apply.
    gradients=False,
    # PackedSequence is torch's own type; other frameworks take masks or lengths, which
    # the adapters do not translate.
    packed=False,
    # torch's meta device computes nothing; another framework cannot run on it.
    meta=False,
    # None of these libraries' layers has torch's dropout between stacked layers (the
    # port stacks the layers itself), so no dropout > 0 is handed to them.
    dropout=False,
    # LSTM projections (proj_size) exist in torch (and cuDNN) only, among these.
    proj_size=False,
)
"""What a port to another framework lacks; a module narrows or widens it with replace()."""
