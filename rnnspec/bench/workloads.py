"""The workloads the seed's speed claims compare, grouped per claim.

A *workload* is a zero-argument callable built for some sizes on some device: one forward
pass, or one training step, of one way to compute an RNN.  Workloads that a claim compares
form a :class:`Group` (the seed's loop vs nn.RNN, bidirectional vs unidirectional, ...),
with the baseline its ratios are taken against.  Beyond the seed: :func:`premul_loop`, a
hand-written loop with every step's input projection in one matmul, and the same compiled
with TorchScript.  :mod:`rnnspec.bench.timing` times them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache

import torch
from torch import Tensor, nn

from rnnspec.reference.seed import BiRNN, BuiltInRNN, GRUModel, LSTMModel, ManualRNN, StackedRNN
from rnnspec.seed.methods import SEED_SIZES, Sizes

__all__ = [
    "GROUPS",
    "SWEEP",
    "TRAIN_SWEEP",
    "Builder",
    "Group",
    "PremulRNN",
    "Workload",
    "premul_loop",
    "scripted_premul_loop",
]

Workload = Callable[[], object]
Builder = Callable[[Sizes, torch.device], Workload]


def premul_loop(x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor) -> Tensor:
    """A tanh RNN over batch-first ``x`` with every step's input projection in one matmul.

    Returns the last hidden state ``(B, H)``; ``bias`` is ``b_ih + b_hh``.

    The steps are taken from ``xw.unbind(0)``, not ``xw[t]``: ``xw`` requires grad in
    training, and each ``xw[t]``'s backward writes a gradient the size of all of ``xw``
    (T, B, H), so ``T`` of them make the backward quadratic in ``T``.  ``unbind``'s backward
    stacks the ``T`` step gradients once.
    """
    batch, steps = x.shape[0], x.shape[1]
    flat = x.transpose(0, 1).reshape(steps * batch, x.shape[2])  # (T*B, I)
    xw = torch.addmm(bias, flat, w_ih.t()).view(steps, batch, w_ih.shape[0])  # (T, B, H)
    h = torch.zeros(batch, w_hh.shape[0], dtype=x.dtype, device=x.device)  # (B, H)
    w_hh_t = w_hh.t()
    for xw_t in xw.unbind(0):  # each (B, H)
        h = torch.addmm(xw_t, h, w_hh_t).tanh()  # (B, H)
    return h


@cache
def scripted_premul_loop() -> Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]:
    """:func:`premul_loop` compiled with TorchScript.

    TorchScript keeps the loop a loop; ``torch.compile`` unrolls it (about 25 s to compile
    at 10 steps here, growing with the length), which rules it out for a sweep to 1000 steps.
    TorchScript is deprecated in recent torch; its deprecation warning is silenced here only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit\.script. is deprecated", category=DeprecationWarning
        )
        return torch.jit.script(premul_loop)


class PremulRNN(nn.Module):
    """The seed's ``BuiltInRNN`` computed by a hand-written loop with hoisted input projections."""

    def __init__(self, model: BuiltInRNN, scripted: bool = False) -> None:
        super().__init__()
        if model.rnn.num_layers != 1 or model.rnn.bidirectional:
            raise ValueError("PremulRNN covers a single-layer, unidirectional BuiltInRNN")
        self.model = model
        self.loop = scripted_premul_loop() if scripted else premul_loop

    def forward(self, x: Tensor) -> Tensor:
        w_ih, w_hh, b_ih, b_hh = self.model.rnn.all_weights[0]
        h = self.loop(x, w_ih, w_hh, b_ih + b_hh)  # (B, H)
        return self.model.fc(h)  # (B, O)


def _seeded(build: Callable[[], nn.Module], device: torch.device) -> nn.Module:
    """Build a module from a fixed seed without disturbing the global generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build().to(device)


def _inputs(sizes: Sizes, device: torch.device) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(sizes.batch_size, sizes.seq_len, sizes.input_size, generator=g)  # (B, T, I)
    y = torch.randn(sizes.batch_size, sizes.output_size, generator=g)  # (B, O)
    return x.to(device), y.to(device)


def _seed_loop(model: ManualRNN, x: Tensor) -> Tensor:
    """The seed's Method 1 cell: one ``forward`` call per step; returns the last output."""
    hidden = model.init_hidden(x.shape[0]).to(x.device)  # (B, H)
    output = hidden
    for t in range(x.shape[1]):
        output, hidden = model(x[:, t, :], hidden)  # (B, O), (B, H)
    return output


def _forward(model: nn.Module, call: Callable[[Tensor], Tensor], x: Tensor) -> Workload:
    model.eval()

    def run() -> Tensor:
        with torch.no_grad():
            return call(x)

    return run


def _train_step(
    model: nn.Module, call: Callable[[Tensor], Tensor], x: Tensor, y: Tensor
) -> Workload:
    """Forward, MSE loss, backward and an SGD step: one training step."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

    def run() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(call(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return run


def _naive(train: bool) -> Builder:
    def build(sizes: Sizes, device: torch.device) -> Workload:
        model = _seeded(
            lambda: ManualRNN(sizes.input_size, sizes.hidden_size, sizes.output_size), device
        )
        assert isinstance(model, ManualRNN)
        x, y = _inputs(sizes, device)

        def call(x: Tensor) -> Tensor:
            return _seed_loop(model, x)

        return _train_step(model, call, x, y) if train else _forward(model, call, x)

    return build


def _module(make: Callable[[Sizes], nn.Module], train: bool) -> Builder:
    def build(sizes: Sizes, device: torch.device) -> Workload:
        model = _seeded(lambda: make(sizes), device)
        x, y = _inputs(sizes, device)
        return _train_step(model, model, x, y) if train else _forward(model, model, x)

    return build


def _builtin(s: Sizes) -> nn.Module:
    return BuiltInRNN(s.input_size, s.hidden_size, s.output_size)


def _premul(scripted: bool) -> Callable[[Sizes], nn.Module]:
    def make(s: Sizes) -> nn.Module:
        model = _builtin(s)
        assert isinstance(model, BuiltInRNN)
        return PremulRNN(model, scripted=scripted)

    return make


def _stacked(layers: int) -> Callable[[Sizes], nn.Module]:
    return lambda s: StackedRNN(s.input_size, s.hidden_size, s.output_size, num_layers=layers)


def _seed_class(cls: type[nn.Module]) -> Callable[[Sizes], nn.Module]:
    return lambda s: cls(s.input_size, s.hidden_size, s.output_size)


@dataclass(frozen=True)
class Group:
    """Workloads a seed claim compares; ratios are taken against ``baseline``."""

    id: str
    title: str
    baseline: str
    builders: Mapping[str, Builder]

    def build(self, sizes: Sizes, device: torch.device) -> dict[str, Workload]:
        return {name: build(sizes, device) for name, build in self.builders.items()}


def _groups(*groups: Group) -> dict[str, Group]:
    return {g.id: g for g in groups}


GROUPS: dict[str, Group] = _groups(
    Group(
        "manual-forward",
        "seed ManualRNN loop, premul loop, scripted premul loop vs nn.RNN: forward",
        "nn.RNN",
        {
            "naive": _naive(train=False),
            "premul": _module(_premul(scripted=False), train=False),
            "scripted": _module(_premul(scripted=True), train=False),
            "nn.RNN": _module(_builtin, train=False),
        },
    ),
    Group(
        "manual-train",
        "seed ManualRNN loop, premul loop, scripted premul loop vs nn.RNN: training step",
        "nn.RNN",
        {
            "naive": _naive(train=True),
            "premul": _module(_premul(scripted=False), train=True),
            "scripted": _module(_premul(scripted=True), train=True),
            "nn.RNN": _module(_builtin, train=True),
        },
    ),
    Group(
        "bidirectional-forward",
        "bidirectional vs unidirectional nn.RNN: forward",
        "unidirectional",
        {
            "bidirectional": _module(_seed_class(BiRNN), train=False),
            "unidirectional": _module(_builtin, train=False),
        },
    ),
    Group(
        "bidirectional-train",
        "bidirectional vs unidirectional nn.RNN: training step",
        "unidirectional",
        {
            "bidirectional": _module(_seed_class(BiRNN), train=True),
            "unidirectional": _module(_builtin, train=True),
        },
    ),
    Group(
        "lstm-gru-train",
        "LSTM vs GRU: training step",
        "GRU",
        {
            "LSTM": _module(_seed_class(LSTMModel), train=True),
            "GRU": _module(_seed_class(GRUModel), train=True),
        },
    ),
    Group(
        "lstm-gru-forward",
        "LSTM vs GRU: forward",
        "GRU",
        {
            "LSTM": _module(_seed_class(LSTMModel), train=False),
            "GRU": _module(_seed_class(GRUModel), train=False),
        },
    ),
    Group(
        "stacked-train",
        "stacked nn.RNN, 1 to 4 layers: training step",
        "1 layer",
        {
            f"{n} layer{'s' if n > 1 else ''}": _module(_stacked(n), train=True)
            for n in (1, 2, 3, 4)
        },
    ),
)
"""Every comparison the seed's speed claims need, by id."""

SWEEP: tuple[Sizes, ...] = (
    *(replace(SEED_SIZES, seq_len=t) for t in (100, 1000)),
    *(replace(SEED_SIZES, batch_size=b) for b in (1, 256)),
    *(replace(SEED_SIZES, hidden_size=h) for h in (32, 512)),
)
"""Sizes beyond the seed's for the manual-vs-nn.RNN sweep: one size changed at a time."""

TRAIN_SWEEP: tuple[Sizes, ...] = tuple(replace(SEED_SIZES, seq_len=t) for t in (100, 1000))
"""Lengths beyond the seed's (10) for the ``manual-train`` group.

A loop whose backward is quadratic in the length looks fine at 10 steps and costs seconds
a step at 1000, so the training comparison runs to 1000 steps.
"""
