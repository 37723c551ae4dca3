"""torchrl: ``torchrl.modules.LSTM`` and ``GRU``, torch's layers written as Python loops.

torchrl's classes derive from torch's ``LSTMBase``/``GRUBase``, with torch's parameter
names, and say they behave exactly like ``nn.LSTM``/``nn.GRU`` (computed step by step
in Python, for ``torch.vmap`` and ``torch.compile``).  The factory builds one with the
reference's configuration and loads its state dict as it is: no mapping at all.  The
candidate is a torch module, so the gradient laws apply.

``lstm_scan`` and ``gru_scan`` build the same layers with ``use_scan=True``, torchrl's
prototype that runs the time loop as one ``scan`` (the ``hoptorch`` package's, which
torchrl imports when asked for it).  torchrl says to call it inside ``torch.compile``;
with ``hoptorch`` installed it also runs eagerly, which is how these factories run it:
measured here, a compiled call (backend "eager", graph cached) cost as much as an eager
one, 1 to 2.5 s per call on this CPU, against milliseconds for the Python loop.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from rnnspec.peers._port import Spec
from rnnspec.scope import Scope
from rnnspec.silence import silenced

# torch's constructor warns that dropout acts on nothing in a one-layer network; the
# reference, built the same way, has already warned whoever built it
_ONE_LAYER_DROPOUT = ((UserWarning, "dropout option adds dropout after all but last"),)

__all__ = ["gru", "gru_scan", "lstm", "lstm_scan"]


def _factory(reference: nn.RNNBase, use_scan: bool = False) -> Any:
    import torchrl.modules

    spec = Spec.of(reference)
    options: dict[str, Any] = {
        "num_layers": spec.num_layers,
        "bias": spec.bias,
        "batch_first": spec.batch_first,
        "dropout": spec.dropout,
        "dtype": spec.dtype,
        "device": next(reference.parameters()).device,  # the meta device too
        "use_scan": use_scan,
    }
    with silenced(_ONE_LAYER_DROPOUT):
        if spec.kind == "lstm":
            module = torchrl.modules.LSTM(
                spec.input_size, spec.hidden_size, proj_size=spec.proj_size, **options
            )
        else:
            module = torchrl.modules.GRU(spec.input_size, spec.hidden_size, **options)
    module.load_state_dict(reference.state_dict())
    return module.train(spec.training)


def lstm(reference: nn.LSTM) -> Any:
    """``torchrl.modules.LSTM`` holding ``reference``'s state dict."""
    return _factory(reference)


def gru(reference: nn.GRU) -> Any:
    """``torchrl.modules.GRU`` holding ``reference``'s state dict."""
    return _factory(reference)


def lstm_scan(reference: nn.LSTM) -> Any:
    """``torchrl.modules.LSTM(use_scan=True)`` holding ``reference``'s state dict."""
    return _factory(reference, use_scan=True)


def gru_scan(reference: nn.GRU) -> Any:
    """``torchrl.modules.GRU(use_scan=True)`` holding ``reference``'s state dict."""
    return _factory(reference, use_scan=True)


SCOPE = replace(
    Scope(),
    # both raise NotImplementedError for bidirectional=True
    bidirectional=(False,),
    # both raise ValueError for a 2-D (unbatched) input: "Expected input to be 3D"
    unbatched=False,
    # forward takes a tensor (and a mask), not a PackedSequence
    packed=False,
)
"""What torchrl's layers refuse outright.  ``proj_size`` stays in scope: LSTM accepts it."""

lstm.scope = gru.scope = SCOPE  # type: ignore[attr-defined]

SCAN_SCOPE = replace(
    SCOPE,
    # both raise NotImplementedError("... use_scan=True) does not support dropout yet")
    # for any p > 0, in eval mode too, where torch's dropout does nothing
    dropout=False,
    # the scan refuses meta tensors: "torch._higher_order_ops.scan backward is not
    # checked for meta tensors"
    meta=False,
)
"""What the scan path refuses besides.  ``proj_size`` stays in scope, as for the loop."""

lstm_scan.scope = gru_scan.scope = SCAN_SCOPE  # type: ignore[attr-defined]
