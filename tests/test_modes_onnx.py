"""The modes onnx-legacy and onnx-dynamo: torch.onnx.export, then ONNX Runtime.

Without the extra ``rnnspec[onnx]`` only the first test runs (the modes say why they
are unavailable); the others need onnx, onnxscript and onnxruntime.  The default run
keeps to the TorchScript-based exporter (a few hundredths of a second an export),
including the check that the mode fails a GRU exported without
``linear_before_reset`` (the bug onnxscript 0.5 to 0.7.0 shipped in the dynamo
exporter); the dynamo exporter (about a second an export) is in the slow set.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnspec import check
from rnnspec.config import Example, RNNConfig
from rnnspec.modes.matrix import repro_script, run_matrix
from rnnspec.modes.table import DEFAULT_MODES, MODES
from rnnspec.tolerance import tolerance

ONNX = ("onnx-legacy", "onnx-dynamo")


def test_without_the_extra_the_modes_are_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnspec.modes import onnx as modes_onnx

    installed = {"onnx": "1.16.0", "onnxscript": "0.7.2"}  # no onnxruntime; onnx too old

    def version(name: str) -> str:
        if name not in installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed[name]

    real_find_spec = importlib.util.find_spec
    fake_spec = real_find_spec("json")

    def find_spec(name: str, *args: Any) -> Any:
        return fake_spec if name in installed else real_find_spec(name, *args)

    assert set(ONNX) <= set(DEFAULT_MODES)  # in the default run when installed
    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert modes_onnx.missing() == "needs onnx>=1.17, found 1.16.0 (pip install 'rnnspec[onnx]')"
    installed["onnx"] = "1.17.0"
    why = "needs onnxruntime>=1.18 (pip install 'rnnspec[onnx]')"
    assert modes_onnx.missing() == why
    matrix = run_matrix(ONNX, kinds=("gru",), max_examples=1)
    assert [c.text() for c in matrix.cells.values()] == [f"unavailable: {why}"] * 2
    assert matrix.ok


def _needs_the_extra() -> None:
    for name in ("onnx", "onnxscript", "onnxruntime"):
        pytest.importorskip(name)


@pytest.fixture
def extra() -> None:
    _needs_the_extra()


def _flat(result: Any) -> list[torch.Tensor]:
    output, state = result
    output = output.data if hasattr(output, "batch_sizes") else output
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _agrees(name: str, config: RNNConfig, packed: bool = False, batches: tuple[int, ...] = (3,)):
    """The mode's candidate and eager agree, called in turn with each batch size."""
    mode = MODES[name]
    candidate = None
    for batch in batches:
        example = Example(config, batch, seq_len=4, seed=2, dtype="float32", with_hx=True)
        reference = example.reference()
        candidate = candidate or mode.wrap(reference)
        x, hx = example.inputs()
        if packed:
            lengths = torch.tensor([2, 4, 1][:batch])
            x = pack_padded_sequence(x, lengths, config.batch_first, enforce_sorted=False)
        with torch.no_grad():
            actual, expected = candidate(x, hx), reference(x, hx)
        assert type(actual[0]) is type(expected[0])
        tol = tolerance(torch.float32, example.seq_len, mode.tolerances)
        for a, e in zip(_flat(actual), _flat(expected), strict=True):
            torch.testing.assert_close(a, e, rtol=tol.rtol, atol=tol.atol)
    return candidate


@pytest.mark.usefixtures("extra")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_legacy_agrees_on_a_tiny_case_and_reuses_one_export(kind: str) -> None:
    config = RNNConfig(kind, 2, 3, num_layers=2, bidirectional=True, batch_first=True)
    candidate = _agrees("onnx-legacy", config, batches=(3, 1, 2))
    (exports,) = candidate.__dict__["_cache"].values()
    assert len(exports.sessions) == 1  # batch and time are dynamic axes
    names = [n for n, _ in candidate.named_parameters()]
    assert names == [n for n, _ in config.build().named_parameters()]


@pytest.mark.usefixtures("extra")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_legacy_runs_a_packed_batch_through_a_padded_export(kind: str) -> None:
    _agrees("onnx-legacy", RNNConfig(kind, 2, 3, bidirectional=True), packed=True)


@pytest.mark.usefixtures("extra")
def test_legacy_refuses_proj_size_and_the_law_says_so() -> None:
    mode = MODES["onnx-legacy"]
    report = check(mode.wrap, "lstm", scope=mode.scope, max_examples=20, seed=0,
                   laws=["equivalence"], shrink=False)  # fmt: skip
    (failure,) = report.failed
    assert "the candidate raised SymbolicValueError" in failure.message
    assert "LSTMs with projections" in failure.message


@pytest.mark.usefixtures("extra")
def test_a_legacy_repro_exports_runs_and_exits_1_while_they_disagree(tmp_path: Path) -> None:
    example = Example(RNNConfig("lstm", 2, 3, proj_size=2), 2, seq_len=3, dtype="float32")
    script = repro_script(MODES["onnx-legacy"], example)
    assert "torch.onnx.export(" in script
    assert "onnxruntime.InferenceSession(" in script
    imports = [ln for ln in script.splitlines() if ln.lstrip().startswith(("import", "from"))]
    assert not [ln for ln in imports if "rnnspec" in ln]  # torch, onnx, onnxruntime only
    path = tmp_path / "repro.py"
    path.write_text(script, encoding="utf-8")
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "onnx-legacy raised: SymbolicValueError" in run.stdout
    assert "onnx-legacy DISAGREES with eager" in run.stdout


@pytest.mark.usefixtures("extra")
def test_the_warnings_of_the_export_stay_inside_the_mode() -> None:
    """pytest turns warnings into errors: the tiny cases above prove the mode silences its
    own; here, nothing is silenced outside it, and the ONNX log stays off."""
    reference = RNNConfig("lstm", 2, 3, proj_size=2).build(dtype=torch.float32)
    candidate = MODES["onnx-legacy"].wrap(reference)
    with pytest.raises(Exception, match="LSTMs with projections"):
        candidate(torch.randn(3, 1, 2))
    assert not torch._C._jit_is_onnx_log_enabled()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.onnx.export(nn.GRU(2, 3), (torch.randn(3, 1, 2),), io.BytesIO(), dynamo=False)
        assert any("legacy TorchScript-based ONNX export" in str(w.message) for w in caught)
        assert torch._C._jit_is_onnx_log_enabled()  # torch's own export leaves it on (O7)
    finally:
        torch._C._jit_set_onnx_log_enabled(False)


def drop_linear_before_reset(model: Any) -> Any:
    """onnxscript 0.5-0.7.0's GRU: every GRU node's linear_before_reset back to ONNX's 0."""
    changed = 0
    for node in model.graph.node:
        for attribute in node.attribute:
            if node.op_type == "GRU" and attribute.name == "linear_before_reset":
                assert attribute.i == 1  # what torch's GRU needs, and what 0.7.2 writes
                attribute.i = 0
                changed += 1
    assert changed, "no GRU node with linear_before_reset in the exported graph"
    return model


def old_onnxscript_gru(exporter: str) -> Any:
    """The exporter's mode, with each exported GRU as onnxscript 0.5-0.7.0 wrote it."""
    from rnnspec.modes import onnx_candidate

    def factory(reference: nn.Module) -> nn.Module:
        return onnx_candidate.candidate(reference, exporter, edit=drop_linear_before_reset)

    return factory


@pytest.mark.usefixtures("extra")
@pytest.mark.parametrize("exporter", ["legacy", pytest.param("dynamo", marks=pytest.mark.slow)])
def test_the_mode_catches_a_gru_without_linear_before_reset(exporter: str) -> None:
    """microsoft/onnxscript#2852: the mode's equivalence law fails such a model.

    The bug was the dynamo exporter's; both exporters write GRU nodes, so the legacy one
    (a hundredth of the cost) stands in for it in the default run.
    """
    mode = MODES[f"onnx-{exporter}"]
    kwargs: dict[str, Any] = {"scope": mode.scope, "max_examples": 2, "seed": 0, "shrink": False}
    broken = check(old_onnxscript_gru(exporter), "gru", laws=["equivalence"], **kwargs)
    (failure,) = broken.failed
    assert failure.law == "equivalence"
    assert "forward output: max |difference|" in failure.message
    assert "exceeds tolerance" in failure.message
    fixed = check(mode.wrap, "gru", laws=["equivalence"], **kwargs)  # the same examples
    assert fixed.ok, fixed.summary()


# -- the dynamo exporter, and the documented findings: the slow set --------------------
@pytest.mark.slow
@pytest.mark.usefixtures("extra")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_dynamo_agrees_on_a_tiny_case_with_a_dynamic_batch(kind: str) -> None:
    config = RNNConfig(kind, 2, 3, num_layers=2, bidirectional=True, batch_first=True)
    candidate = _agrees("onnx-dynamo", config, batches=(3, 1, 2))
    (exports,) = candidate.__dict__["_cache"].values()
    assert len(exports.sessions) == 1  # the batch is a dynamic axis (time is not)


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_dynamo_runs_a_packed_batch_through_sequence_lens(kind: str) -> None:
    _agrees("onnx-dynamo", RNNConfig(kind, 2, 3, num_layers=2, bidirectional=True), packed=True)


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_the_cached_translation_registry_changes_no_byte_of_an_export() -> None:
    from rnnspec.modes.onnx import export_onnx
    from rnnspec.modes.onnx_candidate import _as_in_a_fresh_process, _quiet_onnx

    example = Example(RNNConfig("lstm", 2, 3, num_layers=2), 2, seq_len=3, dtype="float32")
    reference, (x, hx) = example.reference(), example.inputs()
    models = []
    for patched in (False, True, True):
        _as_in_a_fresh_process()
        with _quiet_onnx() if patched else warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(export_onnx(reference, (x, hx), dynamo=True).SerializeToString())
    assert models[0] == models[1] == models[2]


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_the_two_rows_run_in_the_matrix_with_a_repro_per_failure(tmp_path: Path) -> None:
    matrix = run_matrix(ONNX, max_examples=1, laws=["equivalence", "packed"])
    assert {c.status for c in matrix.cells.values()} <= {"passed", "failed"}
    for cell in matrix.failed:
        for failure in cell.failures:
            assert failure.repro is not None, failure.message
            path = tmp_path / f"{cell.mode}-{cell.kind}-{failure.law}.py"
            path.write_text(failure.repro, encoding="utf-8")
            run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
            assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]


# The findings documented in docs/modes.md, as they stand with these versions.  When
# one of these fails, something upstream changed: update the notes and the docs.
@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_documented_dynamo_exports_proj_size_that_onnxruntime_refuses() -> None:
    from rnnspec.modes.onnx import export_onnx, ort_session, run_session

    lstm = nn.LSTM(5, 7, proj_size=3).eval()
    x = torch.randn(4, 3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = export_onnx(lstm, (x,), dynamo=True)  # no error
    (node,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    hidden = next(a.i for a in node.attribute if a.name == "hidden_size")
    assert hidden == 3  # proj_size, not hidden_size=7; weight_hr_l0 is not in the graph
    with pytest.raises(Exception, match=r"initial_c must have shape \{1,3,3\}. Actual:\{1,3,7\}"):
        run_session(ort_session(model), lstm, (x,))


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_documented_dynamo_refuses_a_padded_rnn() -> None:
    from rnnspec.modes.onnx import PaddedRNN

    gru = PaddedRNN(nn.GRU(2, 3).eval(), enforce_sorted=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="tuple of ints,but got Fake"):
            torch.onnx.export(gru, (torch.randn(4, 2, 2), torch.tensor([4, 2])), dynamo=True)


_TIME_AXIS = """
import warnings; warnings.simplefilter("ignore")
import onnxruntime, torch
gru, x = torch.nn.GRU(2, 3).eval(), torch.randn(5, 2, 2)
def export():
    try:
        return torch.onnx.export(gru, (x,), dynamo=True, verbose=False,
                                 dynamic_shapes=({0: "time", 1: "batch"},)).model_proto
    except Exception as exc:
        return "refused" if "inferred a static shape of 5" in str(exc) else exc
first, second = export(), export()
torch.ops.aten.gru.input._dispatch_cache.clear()
third = export()
print("second:", second, "third:", third if isinstance(third, str | Exception) else "exported")
session = onnxruntime.InferenceSession(first.SerializeToString())
print("declared:", session.get_inputs()[0].shape)
try:
    session.run(None, {"input": torch.randn(7, 2, 2).numpy()})
except Exception as exc:
    print("7 steps:", str(exc).split("Status Message: ")[-1])
"""


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_documented_dynamo_time_axis_only_on_the_first_export_and_then_fixed() -> None:
    """In a fresh process: the first export accepts a dynamic time axis, declares it, and
    runs only at the export's length; the second is refused until the dispatch cache of
    aten.gru.input is cleared."""
    run = subprocess.run([sys.executable, "-c", _TIME_AXIS], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "second: refused third: exported" in run.stdout
    assert "declared: ['time', 'batch', 2]" in run.stdout
    assert "requested shape:{5,-1,3}" in run.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("extra")
def test_documented_dynamo_auto_time_axis_is_declared_dynamic_but_fixed() -> None:
    from torch.export import Dim

    from rnnspec.modes.onnx import ort_session

    rnn = nn.RNN(2, 3).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(rnn, (torch.randn(5, 2, 2),), dynamo=True, verbose=False,
                                    dynamic_shapes=({0: Dim.AUTO, 1: Dim.AUTO},))  # fmt: skip
    assert program is not None
    session = ort_session(program.model_proto)
    assert isinstance(session.get_inputs()[0].shape[0], str)  # declared dynamic...
    x = torch.randn(7, 2, 2)
    output, h_n = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert output.shape[0] == 5  # ...but 5 steps are baked in: 2 of 7 steps dropped
    assert not torch.allclose(torch.from_numpy(h_n), rnn(x)[1], atol=1e-3)
