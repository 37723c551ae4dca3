"""rnnspec's own speed: laws per second, and a whole check against the torch work it does.

A change that slows the checker shows up here as a ratio against the torch calls made in
the same run: ``overhead`` is a check's total time over the time spent inside torch's RNN
forward calls and autograd (the candidate's and the reference's), which a checker cannot
avoid.  The issue that asked for these numbers set a goal of at most 2x.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from rnnspec.bench.timing import torch_seconds
from rnnspec.laws import LAWS, Subject
from rnnspec.run.candidates import torch_module
from rnnspec.run.checker import check
from rnnspec.run.lawrun import run_law
from rnnspec.scope import Scope

pytestmark = pytest.mark.bench
LAW_IDS = ("equivalence", "gradients", "packed", "stacked-composition")
EXAMPLES = 20


@pytest.mark.parametrize("law_id", LAW_IDS)
def test_law_throughput(benchmark: Any, law_id: str) -> None:
    subject = Subject("lstm", torch_module, Scope(), "torch nn.LSTM")
    result = benchmark.pedantic(
        run_law,
        args=(LAWS[law_id], subject),
        kwargs={"max_examples": EXAMPLES, "seed": 0},
        rounds=3,
        iterations=1,
    )
    assert result.status == "passed", result.message
    benchmark.extra_info["examples_per_second"] = EXAMPLES / benchmark.stats.stats.median


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_whole_check_against_the_torch_work_in_it(
    benchmark: Any, kind: str, summary_line: Callable[[str], None]
) -> None:
    def run() -> tuple[float, float]:
        start = time.perf_counter()
        with torch_seconds() as inside:
            report = check(torch_module, kind, max_examples=EXAMPLES, seed=0)
        assert report.ok, report.summary()
        return time.perf_counter() - start, inside[0]

    total, inside = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(total_s=total, torch_s=inside, overhead=total / inside)
    summary_line(
        f"check of torch nn.{kind.upper()}, {EXAMPLES} examples a law: {total:.1f} s in all, "
        f"{inside:.1f} s inside torch's RNN calls and autograd: overhead {total / inside:.2f}x"
    )
