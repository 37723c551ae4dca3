"""Timing shared by the benchmark suite and ``rnnspec claims``.

A *workload* is a zero-argument callable built for some sizes on some device: one forward
pass, or one training step, of one way to compute an RNN.  Workloads that a seed claim
compares form a *group* (manual loop vs nn.RNN, bidirectional vs unidirectional, ...).
:func:`measure` times a group's workloads side by side: the members are interleaved within
each repeat, so a ratio is always taken between timings made moments apart, and a repeat's
ratio is kept for the spread.  On CUDA every timed block is bracketed by synchronisation.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

import torch
from torch import Tensor, nn

from rnnspec.methods import SEED_SIZES, Sizes
from rnnspec.reference.seed import BiRNN, BuiltInRNN, GRUModel, LSTMModel, ManualRNN, StackedRNN

__all__ = [
    "CLOCKS",
    "GROUPS",
    "SWEEP",
    "Group",
    "PremulRNN",
    "Ratio",
    "Timings",
    "describe_device",
    "measure",
    "premul_loop",
    "scripted_premul_loop",
    "sizes_id",
    "sizes_label",
    "tf32_state",
    "threads",
]

Workload = Callable[[], object]
Builder = Callable[[Sizes, torch.device], Workload]


def premul_loop(x: Tensor, w_ih: Tensor, w_hh: Tensor, bias: Tensor) -> Tensor:
    """A tanh RNN over batch-first ``x`` with every step's input projection in one matmul.

    Returns the last hidden state ``(B, H)``; ``bias`` is ``b_ih + b_hh``.
    """
    batch, steps = x.shape[0], x.shape[1]
    flat = x.transpose(0, 1).reshape(steps * batch, x.shape[2])  # (T*B, I)
    xw = torch.addmm(bias, flat, w_ih.t()).view(steps, batch, w_ih.shape[0])  # (T, B, H)
    h = torch.zeros(batch, w_hh.shape[0], dtype=x.dtype, device=x.device)  # (B, H)
    w_hh_t = w_hh.t()
    for t in range(steps):
        h = torch.addmm(xw[t], h, w_hh_t).tanh()  # (B, H)
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
        "seed ManualRNN loop, premul loop vs nn.RNN: training step",
        "nn.RNN",
        {
            "naive": _naive(train=True),
            "premul": _module(_premul(scripted=False), train=True),
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


def sizes_id(sizes: Sizes) -> str:
    """A short test id: ``B32-T10-I50-H128``."""
    return f"B{sizes.batch_size}-T{sizes.seq_len}-I{sizes.input_size}-H{sizes.hidden_size}"


def sizes_label(sizes: Sizes) -> str:
    return (
        f"batch {sizes.batch_size}, seq {sizes.seq_len}, "
        f"input {sizes.input_size}, hidden {sizes.hidden_size}"
    )


@contextlib.contextmanager
def threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads (``None``: leave torch's setting)."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tf32_state() -> str:
    """Whether TF32 may stand in for float32 in CUDA matmuls and cuDNN (the RNN kernels)."""
    matmul = "on" if torch.backends.cuda.matmul.allow_tf32 else "off"
    cudnn = "on" if torch.backends.cudnn.allow_tf32 else "off"
    return f"TF32 matmul {matmul}, cuDNN {cudnn}"


def _cpu_name() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_device(device: torch.device) -> str:
    """The device in words, with what makes its timings comparable: threads, TF32, torch."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        where = f"cuda ({name}; {tf32_state()})"
    else:
        cores = os.cpu_count() or 0
        n = torch.get_num_threads()
        where = f"cpu ({_cpu_name()}; {cores} cores, {n} torch thread{'s' if n != 1 else ''})"
    return f"{where}, torch {torch.__version__}"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
"""``wall``: elapsed time, what a user waits (the default).  ``cpu``: the process's CPU time,
all threads summed: blind to other processes on a shared machine, the same as ``wall`` with
one torch thread on an idle one, but a sum of work rather than a latency with several."""


def _block(run: Workload, number: int, device: torch.device, clock: str = "wall") -> float:
    """Seconds per call of ``run``: the median of ``number`` back-to-back, separately timed calls.

    The median, not the mean, so that a burst of load from another process that hits a few
    calls of a block does not move it.  On CUDA each call is synchronised.
    """
    now = CLOCKS[clock]
    times = []
    _sync(device)
    for _ in range(number):
        start = now()
        run()
        _sync(device)
        times.append(now() - start)
    return statistics.median(times)


def _calibrate(run: Workload, device: torch.device, min_block_s: float, clock: str) -> int:
    """Calls per block so that one block lasts at least ``min_block_s``."""
    number = 1
    while True:
        elapsed = _block(run, number, device, clock) * number
        if elapsed >= min_block_s or number >= 1 << 16:
            return number
        number = max(number * 2, int(number * min_block_s / max(elapsed, 1e-9) * 1.2))


@dataclass(frozen=True)
class Ratio:
    """Per-repeat ratios ``slow / fast``: their median and interquartile range."""

    median: float
    low: float
    high: float
    repeats: int

    @classmethod
    def of(cls, ratios: list[float]) -> Ratio:
        if len(ratios) == 1:
            return cls(ratios[0], ratios[0], ratios[0], 1)
        q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
        return cls(statistics.median(ratios), q1, q3, len(ratios))

    def __str__(self) -> str:
        return f"{self.median:.2f}x (IQR {self.low:.2f}-{self.high:.2f}, {self.repeats} repeats)"

    def as_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "q1": self.low, "q3": self.high, "repeats": self.repeats}


@dataclass(frozen=True)
class Timings:
    """Seconds per call of each workload of one group, one entry per interleaved repeat."""

    group: str
    sizes: Sizes
    device: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    clock: str = "wall"

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def ratio(self, slow: str, fast: str) -> Ratio:
        """``slow``'s time over ``fast``'s, repeat by repeat."""
        pairs = zip(self.seconds[slow], self.seconds[fast], strict=True)
        return Ratio.of([a / b for a, b in pairs])

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "sizes": vars(self.sizes),
            "device": self.device,
            "clock": self.clock,
            "median_seconds": {name: self.median(name) for name in self.seconds},
        }


def measure(
    group: Group,
    sizes: Sizes,
    device: torch.device | str = "cpu",
    *,
    repeats: int = 7,
    min_block_s: float = 0.05,
    clock: str = "wall",
    progress: Callable[[str], None] | None = None,
) -> Timings:
    """Time ``group``'s workloads at ``sizes``, interleaved, ``repeats`` times each.

    Each workload is warmed up and calibrated so that one timed block lasts at least
    ``min_block_s``; then every repeat times one block of each workload, in an order that
    rotates from repeat to repeat so no workload always runs first.  A block's time is the
    median of its calls; a ratio is the median over repeats of the per-repeat ratios.
    ``clock`` is a key of :data:`CLOCKS`; CUDA needs ``wall``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    device = torch.device(device)
    if clock not in CLOCKS or (clock != "wall" and device.type != "cpu"):
        raise ValueError(f"clock must be one of {sorted(CLOCKS)} (only 'wall' off the CPU)")
    if progress:
        progress(f"timing {group.id} at {sizes_label(sizes)} on {device.type}")
    runs = group.build(sizes, device)
    numbers = {}
    for name, run in runs.items():
        for _ in range(3):  # warm-up: allocator, oneDNN primitives, TorchScript profiling
            run()
        numbers[name] = _calibrate(run, device, min_block_s, clock)
    names = list(runs)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            seconds[name].append(_block(runs[name], numbers[name], device, clock))
    return Timings(group.id, sizes, describe_device(device), seconds, clock)
