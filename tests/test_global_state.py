"""The law global-state: a candidate that changes torch's process-wide settings fails it,
by name, and rnnspec puts the settings back, so that no other law (nor the caller) sees them."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import torch

import rnnspec
from mutants.law_mutants import MORE_MUTANTS, LSTMDefaultsToFloat64, LSTMLeavesGradOff
from rnnspec.config import DEADLINE
from rnnspec.laws import LAWS
from rnnspec.reference.loops import LoopGRU, LoopLSTM, LoopRNN
from rnnspec.run.candidates import torch_module
from rnnspec.run.lawrun import run_law
from rnnspec.torchstate import SETTINGS, TorchState

LOOPS = {"rnn": LoopRNN, "lstm": LoopLSTM, "gru": LoopGRU}
DEADLINES = [pytest.param(DEADLINE, id="deadline"), pytest.param(None, id="no-deadline")]
OTHERS = ["equivalence", "gradients", "eval-backward", "output-dtype-device", "stateless"]


@pytest.fixture(autouse=True)
def _unchanged() -> Any:
    """Every test here leaves torch's settings as it found them."""
    before = TorchState.capture()
    yield
    after = TorchState.capture()
    before.restore()
    assert before.changes(after) == []


@pytest.mark.parametrize("deadline", DEADLINES)
@pytest.mark.parametrize("kind", sorted(LOOPS))
def test_torch_and_the_loop_references_keep_the_state(kind: str, deadline: float | None) -> None:
    for factory in (torch_module, LOOPS[kind].from_module):
        report = rnnspec.check(
            factory, kind, laws=["global-state"], seed=0, max_examples=20, deadline=deadline
        )
        assert report.ok, report.summary()


@pytest.mark.parametrize("deadline", DEADLINES)
@pytest.mark.parametrize("name", sorted(MORE_MUTANTS))
def test_each_change_is_named_and_put_back(name: str, deadline: float | None) -> None:
    law_id, subject, named = MORE_MUTANTS[name]
    report = rnnspec.check(
        subject.factory, subject.kind, laws=[law_id], seed=0, max_examples=50, deadline=deadline
    )
    (result,) = report.failed
    assert named in result.message, result.message
    assert "repro:" in result.message
    assert torch.get_default_dtype() == torch.float32
    assert torch.is_grad_enabled()


def test_the_other_laws_of_the_run_are_unaffected() -> None:
    laws = ["global-state", *OTHERS]
    for factory, kind in ((LSTMDefaultsToFloat64.from_module, "lstm"),
                          (LSTMLeavesGradOff.from_module, "lstm")):  # fmt: skip
        alone = rnnspec.check(factory, kind, laws=OTHERS, seed=3, max_examples=15, deadline=None)
        both = rnnspec.check(factory, kind, laws=laws, seed=3, max_examples=15, deadline=None)
        statuses = {r.law: r.status for r in both.results}
        assert statuses.pop("global-state") == "failed"
        assert statuses == {r.law: r.status for r in alone.results}
        assert torch.get_default_dtype() == torch.float32


def test_a_law_run_puts_back_what_any_candidate_changed() -> None:
    subject = MORE_MUTANTS["float64-default"][1]
    result = run_law(LAWS["equivalence"], subject, max_examples=5, seed=0)
    assert result.status == "passed", result.message  # it computes right; it only leaks
    assert torch.get_default_dtype() == torch.float32


def test_restore_sets_back_each_setting() -> None:
    before = TorchState.capture()
    torch.set_default_dtype(torch.float64)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("medium")
    torch.backends.cudnn.allow_tf32 = not torch.backends.cudnn.allow_tf32
    changed = before.changes(TorchState.capture())
    assert "torch.get_default_dtype() changed from torch.float32 to torch.float64" in changed
    assert "torch.are_deterministic_algorithms_enabled() changed from False to True" in changed
    assert "torch.backends.cudnn.benchmark changed from False to True" in changed
    assert any(line.startswith("torch.get_float32_matmul_precision()") for line in changed)
    assert any(line.startswith("torch.backends.cudnn.allow_tf32") for line in changed)
    assert before.restore() == []
    assert before.changes(TorchState.capture()) == []


def test_the_snapshot_names_the_settings_of_the_issue() -> None:
    names = {setting.name for setting in SETTINGS}
    assert {
        "torch.get_default_dtype()",
        "torch.is_grad_enabled()",
        "torch.get_num_threads()",
        "torch.are_deterministic_algorithms_enabled()",
        "torch.is_deterministic_algorithms_warn_only_enabled()",
        "torch.backends.mkldnn.enabled",
        "torch.backends.cudnn.enabled",
        "torch.backends.cudnn.benchmark",
        "torch.backends.cudnn.deterministic",
        "torch.backends.cudnn.allow_tf32",
        "torch.backends.cuda.matmul.allow_tf32",
        "torch.get_float32_matmul_precision()",
    } <= names


def test_grad_mode_is_read_on_the_calling_thread() -> None:
    """Grad mode is per thread: another thread's reading does not see this one's."""
    seen: list[TorchState] = []
    with torch.no_grad():
        here = TorchState.capture()
        thread = threading.Thread(target=lambda: seen.append(TorchState.capture()))
        thread.start()
        thread.join()
    (there,) = seen
    assert here.changes(there) == ["torch.is_grad_enabled() changed from False to True"]
