"""TF32 as an explicit setting, and the caller's thread-local torch state on the worker.

Everything here runs on a CPU-only machine: torch's precision flags are plain settings,
readable and settable without a GPU.
"""

from __future__ import annotations

import torch
import torch._dynamo
from torch import Tensor

import rnnspec
from rnnspec.deadline import call_with_deadline
from rnnspec.devices import DEFAULTS, OFF, Tf32, cuda_precision
from rnnspec.modes.table import MODES
from rnnspec.reference.loops import LoopGRU, LoopLSTM, State, Weights
from rnnspec.scope import Scope


def _reference() -> torch.nn.Module:
    return torch.nn.LSTM(3, 4).eval()


def test_cuda_mode_calls_run_with_tf32_off() -> None:
    # The bug this guards: torch.backends.cudnn.flags(enabled=...) resets allow_tf32 to
    # its own default (True), so a block meant to run "TF32 off" ran with TF32 on.
    with cuda_precision(DEFAULTS):
        for name, cudnn in (("cuda", True), ("cuda-no-cudnn", False)):
            candidate = MODES[name].wrap(_reference())  # nothing moves to the GPU yet
            with candidate.conditions():
                assert Tf32.current() == OFF, name
                assert torch.backends.cudnn.enabled is cudnn, name
        with MODES["cuda-tf32"].wrap(_reference()).conditions():
            assert Tf32.current() == DEFAULTS


def test_cuda_precision_restores_the_callers_flags() -> None:
    before = (Tf32.current(), torch.backends.cudnn.enabled)
    with cuda_precision(Tf32(matmul=True, cudnn_rnn=True), cudnn=False):
        assert Tf32.current() == Tf32(True, True)
        assert not torch.backends.cudnn.enabled
    assert (Tf32.current(), torch.backends.cudnn.enabled) == before
    # torch >= 2.9 keeps the legacy flags beside the fp32_precision strings, and raises on
    # reading allow_tf32 when they disagree: both must come back
    assert torch.backends.cudnn.allow_tf32 == before[0].cudnn_rnn


def test_torch_cudnn_flags_would_turn_tf32_back_on() -> None:
    """Why cuda_precision sets the flags itself (true of torch 2.2 to 2.13 at least)."""
    with cuda_precision(OFF), torch.backends.cudnn.flags(enabled=True):
        assert Tf32.current().cudnn_rnn


def test_the_report_states_the_tf32_settings_the_candidate_ran_under() -> None:
    with cuda_precision(Tf32(matmul=True, cudnn_rnn=False)):
        report = rnnspec.check(lambda ref: ref, "gru", laws=["shape"], max_examples=2, seed=0)
    assert report.as_dict()["tf32"] == {"matmul": True, "cudnn_rnn": False}


def test_the_candidate_sees_the_callers_dynamo_config_grad_mode_and_autocast() -> None:
    def read() -> tuple[bool, bool, bool]:
        return (
            torch._dynamo.config.allow_rnn,
            torch.is_grad_enabled(),
            torch.is_autocast_enabled("cpu"),
        )

    with torch._dynamo.config.patch(allow_rnn=True):
        assert call_with_deadline(read, (), 10.0) == (True, True, False)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            assert call_with_deadline(read, (), 10.0) == (True, False, True)
    assert call_with_deadline(read, (), 10.0)[0] is False


class _NeedsAllowRNN(LoopGRU):
    """Refuses to run unless Dynamo's allow_rnn is set, as a fullgraph compile does."""

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if not torch._dynamo.config.allow_rnn:
            raise RuntimeError("Dynamo does not support RNN; set allow_rnn=True")
        return super().forward(input, hx)


def test_check_runs_the_candidate_under_the_callers_dynamo_config() -> None:
    def run() -> rnnspec.Report:
        return rnnspec.check(
            _NeedsAllowRNN.from_module, "gru", laws=["equivalence"], max_examples=3, seed=0
        )

    assert run().failed, "without allow_rnn the candidate must refuse (the test's premise)"
    with torch._dynamo.config.patch(allow_rnn=True):
        report = run()
    assert report.ok, report.summary()


def _tf32(t: Tensor) -> Tensor:
    """Round float32 to TF32's 10 mantissa bits (to nearest), as tensor cores do."""
    if t.dtype != torch.float32:
        return t
    return ((t.view(torch.int32) + 0x1000) & ~0x1FFF).view(torch.float32)


class LSTMEmulatedTF32(LoopLSTM):
    """A float32 LSTM whose matmuls see TF32 inputs: what cuDNN computes with TF32 on."""

    def weights(self, layer: int, direction: int) -> Weights:
        found = super().weights(layer, direction)
        return {k: _tf32(v) if k.startswith("weight") and v is not None else v
                for k, v in found.items()}  # fmt: skip

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        return super().cell(_tf32(x), (_tf32(state[0]), *state[1:]), w)


def test_equivalence_catches_tf32_rounding_in_float32() -> None:
    # The default scope has float64 and float32: equivalence draws both, so a kernel that
    # rounds float32 like TF32 fails it (against the float64 reference), not only parity.
    assert set(Scope().dtypes) == {torch.float32, torch.float64}
    report = rnnspec.check(
        LSTMEmulatedTF32.from_module, "lstm", laws=["equivalence"], max_examples=50, seed=0
    )
    assert [r.law for r in report.failed] == ["equivalence"], report.summary()
    assert "float32" in report.failed[0].message


def test_the_cuda_repros_set_the_flags_their_modes_run_under() -> None:
    for name in ("cuda", "cuda-no-cudnn", "cuda-tf32"):
        mode = MODES[name]
        with cuda_precision(Tf32(matmul=True, cudnn_rnn=True), cudnn=True):
            exec("\n".join(ln for ln in mode.repro if ln.startswith("torch.backends")))
            in_repro = (Tf32.current(), torch.backends.cudnn.enabled)
            with mode.wrap(_reference()).conditions():
                assert (Tf32.current(), torch.backends.cudnn.enabled) == in_repro, name
