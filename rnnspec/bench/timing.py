"""Timing shared by the benchmark suite and ``rnnspec claims``.

:func:`measure` times a group's workloads (:mod:`rnnspec.bench.workloads`) side by side: the
members are interleaved within each repeat, so a ratio is always taken between timings made
moments apart, and each repeat's ratio is kept for the spread.  On CUDA every timed call is
bracketed by synchronisation.  The workloads and groups are re-exported here.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from rnnspec.bench.workloads import (
    GROUPS,
    SWEEP,
    TRAIN_SWEEP,
    Group,
    PremulRNN,
    Workload,
    premul_loop,
    scripted_premul_loop,
)
from rnnspec.devices import Tf32
from rnnspec.seed.methods import Sizes

__all__ = [
    "CLOCKS",
    "GROUPS",
    "SWEEP",
    "TRAIN_SWEEP",
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
    "threads",
    "torch_seconds",
]


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
        where = f"cuda ({name}; {Tf32.current()})"
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


@contextlib.contextmanager
def torch_seconds(clock: Callable[[], float] = time.perf_counter) -> Iterator[list[float]]:
    """The seconds spent inside torch's RNN forwards and autograd during the block.

    Wraps ``forward`` of nn.RNN, nn.LSTM and nn.GRU, ``torch.autograd.grad`` and
    ``Tensor.backward``: the torch work a check of torch's own modules cannot avoid.
    ``clock``: e.g. ``time.process_time`` on a busy machine.
    """
    from torch import nn

    spent = [0.0]
    patched: list[tuple[object, str, Callable[..., object]]] = [
        *((cls, "forward", cls.forward) for cls in (nn.RNN, nn.LSTM, nn.GRU)),
        (torch.autograd, "grad", torch.autograd.grad),
        (torch.Tensor, "backward", torch.Tensor.backward),
    ]

    def timed(fn: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += clock() - start

        return call

    for owner, name, fn in patched:
        setattr(owner, name, timed(fn))
    try:
        yield spent
    finally:
        for owner, name, fn in patched:
            setattr(owner, name, fn)
