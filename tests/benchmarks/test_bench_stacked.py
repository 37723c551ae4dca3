"""Seed claim: "More layers = more training time" (stacked nn.RNN, 1 to 4 layers)."""

from __future__ import annotations

import pytest

from rnnspec.bench import timing as bench
from rnnspec.seed.methods import SEED_SIZES

LAYERS = list(bench.GROUPS["stacked-train"].builders)
pytestmark = pytest.mark.bench


@pytest.mark.parametrize("workload", LAYERS, ids=[w.replace(" ", "-") for w in LAYERS])
def test_train_step(run_bench, workload, device):
    run_bench("stacked-train", workload, SEED_SIZES, device)
