"""The benchmark workloads run, at tiny sizes, in the default test run (no timing)."""

from __future__ import annotations

import pytest
import torch

from rnnspec.bench import timing as bench
from rnnspec.reference.seed import BuiltInRNN
from rnnspec.seed.methods import Sizes

TINY = Sizes(batch_size=2, seq_len=3, input_size=4, hidden_size=5, output_size=3)
CASES = [(g, w) for g, group in bench.GROUPS.items() for w in group.builders]


@pytest.mark.parametrize(("group", "workload"), CASES, ids=[f"{g}-{w}" for g, w in CASES])
def test_workload_runs(group, workload):
    run = bench.GROUPS[group].builders[workload](TINY, torch.device("cpu"))
    run()
    run()


@pytest.mark.parametrize("scripted", [False, True], ids=["premul", "scripted"])
def test_premul_loops_compute_nn_rnn(scripted):
    torch.manual_seed(0)
    model = BuiltInRNN(TINY.input_size, TINY.hidden_size, TINY.output_size)
    x = torch.randn(TINY.batch_size, 7, TINY.input_size)
    # float32, 7 steps of one (B, H) matmul each: torch.testing's float32 defaults suffice
    torch.testing.assert_close(bench.PremulRNN(model, scripted=scripted)(x), model(x))


@pytest.mark.parametrize("scripted", [False, True], ids=["premul", "scripted"])
def test_premul_loops_train_like_nn_rnn(scripted):
    """The premul loops' training step computes nn.RNN's gradients (input and weights)."""
    torch.manual_seed(0)
    model = BuiltInRNN(TINY.input_size, TINY.hidden_size, TINY.output_size)
    premul = bench.PremulRNN(model, scripted=scripted)
    x = torch.randn(TINY.batch_size, 7, TINY.input_size, requires_grad=True)
    wanted = torch.autograd.grad(model(x).square().sum(), [x, *model.parameters()])
    for _ in range(3):  # TorchScript profiles its first calls, then optimises
        got = torch.autograd.grad(premul(x).square().sum(), [x, *model.parameters()])
        for g, w in zip(got, wanted, strict=True):
            torch.testing.assert_close(g, w)


@pytest.mark.parametrize("clock", sorted(bench.CLOCKS))
def test_measure_interleaves_and_reports_ratios(clock):
    group = bench.GROUPS["bidirectional-forward"]
    timings = bench.measure(group, TINY, repeats=3, min_block_s=0, clock=clock)
    assert {name: len(s) for name, s in timings.seconds.items()} == {
        "bidirectional": 3,
        "unidirectional": 3,
    }, "measure must time every workload once per repeat"
    ratio = timings.ratio("bidirectional", "unidirectional")
    assert ratio.low <= ratio.median <= ratio.high, f"median outside its IQR: {ratio}"
    assert ratio.repeats == 3
    assert "torch " + torch.__version__ in timings.device


def test_measure_rejects_bad_settings():
    with pytest.raises(ValueError, match="repeats"):
        bench.measure(bench.GROUPS["bidirectional-forward"], TINY, repeats=0)
    with pytest.raises(ValueError, match="clock"):
        bench.measure(bench.GROUPS["bidirectional-forward"], TINY, clock="sundial")
