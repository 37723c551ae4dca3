"""The hand-written loops' backward does work linear in the sequence length.

A loop that takes its steps as ``x[t]`` from an ``x`` that requires grad has a backward
quadratic in ``T``: each ``x[t]``'s backward writes a zero-filled gradient the size of all of
``x`` and adds it into ``x``'s gradient.  The work here is counted, not timed: the number of
tensor elements that the backward's operators write, seen by a ``TorchDispatchMode`` (view
operators write nothing and are left out).  The count is the same on every run, and it is
an affine function of ``T`` for a linear backward, so the backward's work per step at ``4T``
is that at ``T`` up to the constant terms.  A quadratic backward's work per step grows with
``T``: at the sizes here it is 1.6x or more at ``4T``, which the bound below flags.  Each
guard is run on the old ``x[t]`` form too, kept here as a mutant, to show it flags it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from rnnspec.bench.workloads import PremulRNN, premul_loop, scripted_premul_loop
from rnnspec.reference.loops import (
    LOOPS,
    LoopGRU,
    LoopLSTM,
    LoopRecurrent,
    LoopRNN,
)
from rnnspec.reference.seed import BuiltInRNN

BATCH, INPUT, HIDDEN = 3, 8, 4
SHORT, LONG = 16, 64  # LONG = 4 * SHORT
BOUND = 1.25
"""Most that the backward's work per step may grow from SHORT to LONG steps.  The loops here
grow 0.97x to 1.03x (1.0 up to the constant terms); the quadratic mutants below, 1.6x to
3.5x."""


class _ElementsWritten(TorchDispatchMode):
    """Counts the elements of every tensor that a non-view operator returns."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not func.is_view:
            self.count += sum(t.numel() for t in tree_leaves(out) if isinstance(t, Tensor))
        return out


def backward_work(loss: Tensor) -> int:
    """Elements written by ``loss.backward()``."""
    counter = _ElementsWritten()
    with counter:
        loss.backward()
    return counter.count


def growth_per_step(loss_at: Callable[[int], Tensor]) -> float:
    """Backward work per step at LONG steps over that at SHORT steps."""
    short, long = backward_work(loss_at(SHORT)), backward_work(loss_at(LONG))
    return (long / LONG) / (short / SHORT)


def _total(outputs: object) -> Tensor:
    """A scalar that depends on every tensor in ``outputs`` (output, h_n, c_n, packed data)."""
    leaves = [t for t in tree_leaves(outputs) if isinstance(t, Tensor) and t.requires_grad]
    return torch.stack([t.sum() for t in leaves]).sum()


# -- the premul loops ---------------------------------------------------------------
def premul_indexed(x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor) -> Tensor:
    """Mutant: premul_loop as it was, stepping with ``xw[t]`` (quadratic backward)."""
    batch, steps = x.shape[0], x.shape[1]
    flat = x.transpose(0, 1).reshape(steps * batch, x.shape[2])  # (T*B, I)
    xw = torch.addmm(bias, flat, w_ih.t()).view(steps, batch, w_ih.shape[0])  # (T, B, H)
    h = torch.zeros(batch, w_hh.shape[0], dtype=x.dtype, device=x.device)  # (B, H)
    w_hh_t = w_hh.t()
    for t in range(steps):
        h = torch.addmm(xw[t], h, w_hh_t).tanh()  # (B, H)
    return h


@cache
def scripted_premul_indexed() -> Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit\.script. is deprecated", category=DeprecationWarning
        )
        return torch.jit.script(premul_indexed)


PremulFn = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
PREMUL: dict[str, Callable[[], PremulFn]] = {
    "premul": lambda: premul_loop,
    "scripted": scripted_premul_loop,
}
PREMUL_MUTANTS: dict[str, Callable[[], PremulFn]] = {
    "premul-indexed": lambda: premul_indexed,
    "scripted-indexed": scripted_premul_indexed,
}


def _premul_loss(loop: PremulFn) -> Callable[[int], Tensor]:
    gen = torch.Generator().manual_seed(0)
    weights = [
        torch.randn(shape, generator=gen).requires_grad_()
        for shape in ((HIDDEN, INPUT), (HIDDEN, HIDDEN), (HIDDEN,))
    ]

    def loss_at(steps: int) -> Tensor:
        x = torch.randn(BATCH, steps, INPUT, generator=gen, requires_grad=True)  # (B, T, I)
        for _ in range(3):  # TorchScript profiles its first calls, then optimises
            loop(x, *weights).sum().backward()
        return loop(x, *weights).sum()

    return loss_at


@pytest.mark.parametrize("name", list(PREMUL))
def test_premul_loop_backward_is_linear(name):
    growth = growth_per_step(_premul_loss(PREMUL[name]()))
    assert growth <= BOUND, f"{name}: backward work per step grows {growth:.2f}x from T to 4T"


@pytest.mark.parametrize("scripted", [False, True], ids=["premul", "scripted"])
def test_premul_module_training_backward_is_linear(scripted):
    torch.manual_seed(0)
    model = PremulRNN(BuiltInRNN(INPUT, HIDDEN, 2), scripted=scripted)

    def loss_at(steps: int) -> Tensor:
        x = torch.randn(BATCH, steps, INPUT)  # (B, T, I): data, no grad, as in training
        for _ in range(3):
            model(x).sum().backward()
        return model(x).sum()

    growth = growth_per_step(loss_at)
    assert growth <= BOUND, f"PremulRNN: backward work per step grows {growth:.2f}x"


@pytest.mark.parametrize("name", list(PREMUL_MUTANTS))
def test_guard_flags_the_indexed_premul_loop(name):
    growth = growth_per_step(_premul_loss(PREMUL_MUTANTS[name]()))
    assert growth > BOUND, f"{name}: the guard misses a quadratic backward ({growth:.2f}x)"


# -- the loop references ------------------------------------------------------------
class _IndexedSteps(LoopRecurrent):
    """Mutant: the steps as they were, ``x[t]`` (quadratic backward)."""

    def steps(self, x: Tensor) -> list[Tensor]:
        return [x[t] for t in range(x.shape[0])]


class IndexedRNN(_IndexedSteps, LoopRNN):
    pass


class IndexedLSTM(_IndexedSteps, LoopLSTM):
    pass


class IndexedGRU(_IndexedSteps, LoopGRU):
    pass


MUTANTS: dict[str, type[LoopRecurrent]] = {
    "rnn": IndexedRNN,
    "lstm": IndexedLSTM,
    "gru": IndexedGRU,
}
CONFIGS: dict[str, dict[str, object]] = {
    "plain": {},
    "batch-first": {"batch_first": True},
    "2-layer-bidirectional": {"num_layers": 2, "bidirectional": True},
    "2-layer-data-input": {"num_layers": 2, "data_input": True},  # only layer 2's input has grad
    "packed-bidirectional": {"bidirectional": True, "packed": True},
    "unbatched": {"unbatched": True},
}


def _loop_loss(cls: type[LoopRecurrent], config: dict[str, object]) -> Callable[[int], Tensor]:
    options = {k: v for k, v in config.items() if k not in ("packed", "unbatched", "data_input")}
    grad = not config.get("data_input")
    if cls.kind == "lstm":
        options["proj_size"] = 3
    torch.manual_seed(0)
    loop = cls(INPUT, HIDDEN, **options)

    def loss_at(steps: int) -> Tensor:
        if config.get("unbatched"):
            x = torch.randn(steps, INPUT, requires_grad=grad)  # (T, I)
            return _total(loop(x))
        if config.get("batch_first"):
            x = torch.randn(BATCH, steps, INPUT, requires_grad=grad)  # (B, T, I)
            return _total(loop(x))
        x = torch.randn(steps, BATCH, INPUT, requires_grad=grad)  # (T, B, I)
        if config.get("packed"):
            lengths = torch.tensor([steps, steps // 2, steps - 1])  # unsorted on purpose
            packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
            return _total(loop(packed))
        return _total(loop(x))

    return loss_at


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", list(LOOPS))
def test_loop_reference_backward_is_linear(kind, config):
    growth = growth_per_step(_loop_loss(LOOPS[kind], CONFIGS[config]))
    assert growth <= BOUND, (
        f"{LOOPS[kind].__name__} ({config}): backward work per step grows {growth:.2f}x "
        "from T to 4T steps; stepping with x[t] on an x that requires grad does that"
    )


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", list(MUTANTS))
def test_guard_flags_the_indexed_loop_reference(kind, config):
    growth = growth_per_step(_loop_loss(MUTANTS[kind], CONFIGS[config]))
    assert growth > BOUND, f"the guard misses {MUTANTS[kind].__name__} ({growth:.2f}x)"


def test_the_mutants_compute_what_the_loops_compute():
    """The mutants differ from the references in cost only, not in value."""
    torch.manual_seed(0)
    module = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True, proj_size=3)
    x = torch.randn(7, BATCH, INPUT)
    torch.testing.assert_close(IndexedLSTM.from_module(module)(x), LoopLSTM.from_module(module)(x))
    w = [torch.randn(s) for s in ((HIDDEN, INPUT), (HIDDEN, HIDDEN), (HIDDEN,))]
    xb = torch.randn(BATCH, 7, INPUT)
    torch.testing.assert_close(premul_indexed(xb, *w), premul_loop(xb, *w))
