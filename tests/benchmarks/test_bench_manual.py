"""Seed claim: nn.RNN is "10-50x faster than manual RNN". Beyond it: premul and scripted loops,
and training steps to 1000 steps (bench.TRAIN_SWEEP)."""

from __future__ import annotations

import pytest

from rnnspec.bench import timing as bench
from rnnspec.seed.methods import SEED_SIZES

FORWARD = list(bench.GROUPS["manual-forward"].builders)
TRAIN = list(bench.GROUPS["manual-train"].builders)
pytestmark = pytest.mark.bench


@pytest.mark.parametrize("workload", FORWARD)
@pytest.mark.parametrize("sizes", [SEED_SIZES, *bench.SWEEP], ids=bench.sizes_id)
def test_forward(run_bench, workload, sizes, device):
    run_bench("manual-forward", workload, sizes, device)


@pytest.mark.parametrize("workload", TRAIN)
@pytest.mark.parametrize("sizes", [SEED_SIZES, *bench.TRAIN_SWEEP], ids=bench.sizes_id)
def test_train_step(run_bench, workload, sizes, device):
    run_bench("manual-train", workload, sizes, device)
