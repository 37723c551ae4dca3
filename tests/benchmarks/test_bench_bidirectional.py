"""Seed claim: bidirectional is "2x slower than unidirectional"."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rnnspec.bench import timing as bench
from rnnspec.seed.methods import SEED_SIZES

WORKLOADS = list(bench.GROUPS["bidirectional-forward"].builders)
pytestmark = pytest.mark.bench


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize(
    "sizes", [SEED_SIZES, replace(SEED_SIZES, seq_len=100)], ids=bench.sizes_id
)
def test_forward(run_bench, workload, sizes, device):
    run_bench("bidirectional-forward", workload, sizes, device)


@pytest.mark.parametrize("workload", WORKLOADS)
def test_train_step(run_bench, workload, device):
    run_bench("bidirectional-train", workload, SEED_SIZES, device)
