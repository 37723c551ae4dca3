"""The speed ratios behind the seed's claims, timed side by side (interleaved, 21 repeats).

The per-workload benchmarks in the other files time each workload on its own, minutes apart
on a shared machine; these time a claim's workloads in alternation (rnnspec.bench.timing.measure,
the same timer as ``rnnspec claims``), so each ratio compares timings made moments apart.
The terminal summary prints them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rnnspec.bench import timing as bench
from rnnspec.seed.methods import SEED_SIZES

T100 = replace(SEED_SIZES, seq_len=100)
CASES = [
    *(("manual-forward", s) for s in (SEED_SIZES, *bench.SWEEP)),
    *(("manual-train", s) for s in (SEED_SIZES, *bench.TRAIN_SWEEP)),
    ("bidirectional-forward", SEED_SIZES),
    ("bidirectional-forward", T100),
    ("bidirectional-train", SEED_SIZES),
    ("lstm-gru-train", SEED_SIZES),
    ("lstm-gru-train", T100),
    ("lstm-gru-forward", SEED_SIZES),
    ("stacked-train", SEED_SIZES),
]
pytestmark = pytest.mark.bench


@pytest.mark.parametrize(
    ("group", "sizes"), CASES, ids=[f"{g}-{bench.sizes_id(s)}" for g, s in CASES]
)
def test_ratio(run_ratio, group, sizes, device):
    run_ratio(group, sizes, device)
