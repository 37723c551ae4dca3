"""The pytest-benchmark suite: timings per seed claim, and the ratios they imply.

The benchmarks (marked ``bench``) run only with ``--benchmark-only`` and never under xdist:

- under xdist they are deselected before pytest-benchmark sees them (it would warn, and
  ``filterwarnings = error`` would turn that into a failure);
- without ``--benchmark-only`` they are skipped, so the default ``pytest -n 2`` stays fast.

Two kinds of benchmark: one per workload (pytest-benchmark's own timing and table), and
one per claim's group (``test_bench_ratios.py``) that times the group's workloads
interleaved with :func:`rnnspec.bench.timing.measure`; the terminal summary prints those ratios.
``RNNSPEC_BENCH_THREADS=N`` sets torch's intra-op threads for the timings (the root
conftest sets 1); ``RNNSPEC_BENCH_CLOCK=cpu`` times the interleaved ratios in process CPU
time (robust on a shared machine; for pytest-benchmark's own timings pass
``--benchmark-timer time.process_time``); ``RNNSPEC_BENCH_RATIOS=PATH`` writes the ratios
as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import pytest
import torch

from rnnspec.bench import timing as bench
from rnnspec.seed.methods import Sizes

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
_MEDIANS: dict[str, dict[str, float]] = {}
_MINS: dict[str, dict[str, float]] = {}
_BASELINES: dict[str, str] = {}
_RATIOS: dict[str, dict[str, bench.Ratio]] = {}
_LINES: list[str] = []
REPEATS, MIN_BLOCK_S = 21, 0.05
CLOCK = os.environ.get("RNNSPEC_BENCH_CLOCK", "wall")


def _under_xdist(config: pytest.Config) -> bool:
    return (
        config.getoption("dist", "no") != "no"
        or hasattr(config, "workerinput")
        or bool(os.environ.get("PYTEST_XDIST_WORKER"))
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("bench")]
    if not marked:
        return
    if _under_xdist(config):
        config.hook.pytest_deselected(items=marked)
        items[:] = [item for item in items if not item.get_closest_marker("bench")]
    elif not config.getoption("benchmark_only", False):
        reason = "benchmark: run with `pytest tests/benchmarks --benchmark-only`"
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(scope="session")
def _bench_threads() -> Iterator[None]:
    count = os.environ.get("RNNSPEC_BENCH_THREADS")
    with bench.threads(int(count) if count else None):
        yield


@pytest.fixture
def run_bench(benchmark, _bench_threads: None) -> Callable[[str, str, Sizes, torch.device], None]:
    """Time one workload of one group with pytest-benchmark and remember its median."""

    def run(group_id: str, workload: str, sizes: Sizes, device: torch.device) -> None:
        group = bench.GROUPS[group_id]
        fn = group.builders[workload](sizes, device)
        for _ in range(3):  # warm-up: allocator, oneDNN primitives, TorchScript profiling
            fn()
        key = f"{group_id} {bench.sizes_id(sizes)} {device.type}"
        benchmark.group = key
        benchmark.extra_info.update(
            workload=workload, sizes=vars(sizes), device=bench.describe_device(device)
        )
        if device.type == "cuda":

            def synced() -> None:
                fn()
                torch.cuda.synchronize(device)

            benchmark(synced)
        else:
            benchmark(fn)
        if benchmark.stats is not None:
            _MEDIANS.setdefault(key, {})[workload] = benchmark.stats.stats.median
            _MINS.setdefault(key, {})[workload] = benchmark.stats.stats.min
            _BASELINES[key] = group.baseline

    return run


@pytest.fixture
def run_ratio(benchmark, _bench_threads: None) -> Callable[[str, Sizes, torch.device], None]:
    """Time one group's workloads interleaved; remember each member's ratio to the baseline."""

    def run(group_id: str, sizes: Sizes, device: torch.device) -> None:
        group = bench.GROUPS[group_id]
        key = f"{group_id} {bench.sizes_id(sizes)} {device.type}"
        benchmark.group = "interleaved ratios (one round = one whole measurement)"
        timings = benchmark.pedantic(
            bench.measure,
            args=(group, sizes, device),
            kwargs={"repeats": REPEATS, "min_block_s": MIN_BLOCK_S, "clock": CLOCK},
            rounds=1,
            iterations=1,
        )
        names = [name for name in timings.seconds if name != group.baseline]
        _RATIOS[key] = {name: timings.ratio(name, group.baseline) for name in names}
        _BASELINES[key] = group.baseline
        benchmark.extra_info.update(
            device=timings.device,
            sizes=vars(sizes),
            ratios={name: r.as_dict() for name, r in _RATIOS[key].items()},
        )

    return run


@pytest.fixture
def summary_line() -> Callable[[str], None]:
    """Add a line to the terminal summary (rnnspec's own speed)."""
    return _LINES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _LINES:
        terminalreporter.section("rnnspec's own speed")
        for line in _LINES:
            terminalreporter.write_line(line)
    if not (_MEDIANS or _RATIOS):
        return
    write = terminalreporter.write_line
    terminalreporter.section(
        f"rnnspec speed ratios, interleaved, {CLOCK} clock: median of per-repeat ratios"
    )
    write(bench.describe_device(torch.device("cpu")))
    if torch.cuda.is_available():
        write(bench.describe_device(torch.device("cuda")))
    for key, ratios in _RATIOS.items():
        base = _BASELINES[key]
        write(f"{key}: " + ", ".join(f"{name}/{base} {r}" for name, r in ratios.items()))
    separate: dict[str, dict[str, dict[str, float]]] = {}
    for key, medians in _MEDIANS.items():
        base, mins = _BASELINES[key], _MINS[key]
        if base in medians:
            separate[key] = {
                name: {"median": t / medians[base], "min": mins[name] / mins[base]}
                for name, t in medians.items()
                if name != base
            }
    path = os.environ.get("RNNSPEC_BENCH_RATIOS")
    if path:
        interleaved = {k: {n: r.as_dict() for n, r in v.items()} for k, v in _RATIOS.items()}
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"interleaved": interleaved, "separate": separate}, out, indent=2)
        write(f"wrote {path}")
