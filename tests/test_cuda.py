"""What only a CUDA device can show: TF32 in a candidate, and cuDNN's gradients.

Skipped where torch sees no CUDA device; ``scripts/gpu-check`` runs them on a GPU.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

import rnnspec
from rnnspec.devices import DEFAULTS, OFF, Tf32, cuda_precision
from rnnspec.laws import LAWS, Subject, Trial
from rnnspec.modes.table import MODES
from rnnspec.run.lawrun import run_law

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class OnCuda(nn.Module):
    """The reference moved to CUDA, run under ``tf32`` inside its own call."""

    def __init__(self, reference: nn.Module, tf32: Tf32) -> None:
        super().__init__()
        self.rnn, self.tf32 = reference.cuda(), tf32

    def forward(self, x: torch.Tensor, hx: Any = None) -> Any:
        move = lambda t, d: tuple(move(v, d) for v in t) if isinstance(t, tuple) else t.to(d)  # noqa: E731
        with cuda_precision(self.tf32):
            output, state = self.rnn(x.cuda(), None if hx is None else move(hx, "cuda"))
        return output.cpu(), move(state, "cpu")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_candidate_that_turns_tf32_on_inside_its_call_fails_equivalence(kind: str) -> None:
    with cuda_precision(OFF):  # the caller asks for full float32; the candidate ignores it
        on = rnnspec.check(lambda r: OnCuda(r, Tf32(True, True)), kind, laws=["equivalence"],
                           max_examples=100, seed=0)  # fmt: skip
        off = rnnspec.check(lambda r: OnCuda(r, OFF), kind, laws=["equivalence"],
                            max_examples=100, seed=0)  # fmt: skip
    assert [r.law for r in on.failed] == ["equivalence"], on.summary()
    assert off.ok, off.summary()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cudnn_gradients_are_compared_and_only_eval_backward_fails(kind: str) -> None:
    results = {}
    for name in ("cuda", "cuda-no-cudnn"):
        subject = Subject(kind, MODES[name].wrap, MODES[name].scope, name)
        for law in ("gradients", "clip-grad-norm", "eval-backward"):
            results[name, law] = run_law(LAWS[law], subject, max_examples=10, seed=0)
    failed = {key for key, r in results.items() if r.status == "failed"}
    assert failed == {("cuda", "eval-backward")}, {k: r.message for k, r in results.items()}
    assert "training mode" in results["cuda", "eval-backward"].message


def test_the_default_precision_differs_from_tf32_off_for_an_lstm() -> None:
    torch.manual_seed(0)
    lstm = nn.LSTM(50, 128).cuda()
    x = torch.randn(100, 32, 50, device="cuda")
    with torch.no_grad():
        exact = lstm.double()(x.double())[0]
        lstm.float()
        results = {}
        for tf32 in (OFF, DEFAULTS):
            with cuda_precision(tf32):
                results[tf32] = float((lstm(x)[0].double() - exact).abs().max())
    assert results[DEFAULTS] > 5 * results[OFF], results


def test_reference_calls_on_cuda_run_with_tf32_off_whatever_the_callers_settings() -> None:
    trial = Trial(LAWS["equivalence"], Subject("rnn", lambda r: r), lambda *a, **k: None)
    seen = []

    def module(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append(Tf32.current())
        return x, x[:1]

    x = torch.zeros(2, 1, 3, device="cuda")
    with cuda_precision(DEFAULTS):
        trial.call(module, x, who="reference")
        trial.call(module, x, who="candidate")
    assert seen == [OFF, DEFAULTS]
