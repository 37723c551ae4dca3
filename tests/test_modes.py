"""rnnspec.modes.table and rnnspec.modes.matrix: torch's execution modes checked against eager mode.

The default run stays fast: each cheap mode runs one tiny case, a deliberately broken
mode fails through the whole matrix pipeline, and one repro script runs in plain
Python.  Compiling (Dynamo's aot_eager, inductor, export's decompositions) and the
full matrix are in the slow set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from rnnspec import Scope, check
from rnnspec.cli.main import main
from rnnspec.config import Example, RNNConfig
from rnnspec.laws._repro import factory_path
from rnnspec.modes.candidate import quiet
from rnnspec.modes.matrix import repro_script, run_matrix
from rnnspec.modes.table import DEFAULT_MODES, MODES, Mode
from rnnspec.modes.wrappers import _on_device
from rnnspec.tolerance import tolerance

CHEAP = ("eager", "onednn-off", "jit-script", "jit-trace", "export", "quantized-dynamic")
SLOW = ("compile-aot_eager", "export-decomposed", "compile-inductor")


def _example(kind: str, mode: Mode) -> Example:
    layers = min(2, mode.scope.max_layers)
    config = RNNConfig(kind, 3, 4, num_layers=layers, bidirectional=True, batch_first=True)
    dtype = mode.scope.dtype_names[-1]
    return Example(config, batch_size=2, seq_len=5, seed=3, dtype=dtype, with_hx=True)


def _flat(result: Any) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _matches_eager(name: str, kind: str) -> None:
    mode = MODES[name]
    if mode.available(kind):
        pytest.skip(f"{name} is unavailable here: {mode.available(kind)}")
    example = _example(kind, mode)
    reference = example.reference()
    x, hx = example.inputs()
    with torch.no_grad():
        expected = reference(x, hx)
        actual = mode.wrap(reference)(x, hx)
    tol = tolerance(example.torch_dtype, example.seq_len, mode.tolerances)
    for a, e in zip(_flat(actual), _flat(expected), strict=True):
        torch.testing.assert_close(a, e, rtol=tol.rtol, atol=tol.atol)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("name", CHEAP)
def test_each_cheap_mode_matches_eager_on_a_tiny_case(name: str, kind: str) -> None:
    _matches_eager(name, kind)


def test_compile_eager_matches_eager_on_a_tiny_case() -> None:
    _matches_eager("compile-eager", "gru")


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_each_slow_mode_matches_eager_on_a_tiny_case(name: str) -> None:
    _matches_eager(name, "gru")


@pytest.mark.parametrize("name", ["jit-trace", "jit-script"])
def test_a_mode_known_to_work_passes_a_small_check(name: str) -> None:
    mode = MODES[name]
    report = check(
        mode.wrap, "lstm", scope=mode.scope, max_examples=3, seed=0, laws=["equivalence"]
    )
    assert report.ok, report.summary()


def test_the_registry_is_consistent() -> None:
    assert set(DEFAULT_MODES) <= set(MODES)
    assert "compile-inductor" not in DEFAULT_MODES  # opt-in: ~20 s a compile on this CPU
    for name, mode in MODES.items():
        assert mode.name == name
        assert isinstance(mode.scope, Scope)
        module, qualname = factory_path(mode.wrap)  # rnnspec's own repro imports it
        assert module == "rnnspec.modes.wrappers", name
        assert "<" not in qualname, name
        assert mode.repro
        assert any("actual" in line for line in mode.repro)
    assert torch.float32 in (MODES["quantized-dynamic"].tolerances or {})


def test_unavailable_modes_report_why() -> None:
    assert MODES["quantized-dynamic"].available("rnn") is not None
    absent = Mode("absent", "needs hardware", MODES["eager"].wrap, Scope(), requires=lambda: "no X")
    matrix = run_matrix([absent, "quantized-dynamic"], kinds=("rnn",), max_examples=1)
    assert matrix.cells["absent", "rnn"].text() == "unavailable: no X"
    assert matrix.cells["quantized-dynamic", "rnn"].text().startswith("unavailable: ")
    assert matrix.ok
    assert not matrix.failed
    if not torch.cuda.is_available():
        assert MODES["cuda"].available() == "no CUDA device on this machine"


def test_the_device_wrapper_moves_everything_there_and_back() -> None:
    """The CUDA / MPS plumbing, run here with the CPU as the 'device'."""

    def on_cpu(reference: nn.Module) -> nn.Module:
        return _on_device(reference, "cpu")

    laws = ["equivalence", "packed", "gradients", "finite-differences", "eval-backward"]
    report = check(on_cpu, "lstm", scope=Scope(), max_examples=3, seed=0, laws=laws)
    assert report.ok, report.summary()


def broken(reference: nn.Module) -> Any:
    """A deliberately wrong mode: eager plus 1e-3 on every output."""

    def run(*args: Any) -> Any:
        output, state = reference(*args)
        return output + 1e-3, state

    return run


BROKEN = Mode(
    "broken",
    "eager plus 1e-3",
    broken,
    Scope(packed=False),
    ("output, state = module(*args)", "actual = (output + 1e-3, state)"),
    laws=("equivalence",),
)


def test_a_deliberately_broken_mode_fails_with_a_repro(tmp_path: Path) -> None:
    matrix = run_matrix([BROKEN], kinds=("gru",), max_examples=2)
    cell = matrix.cells["broken", "gru"]
    assert cell.text() == "failed: equivalence"
    (failure,) = cell.failures
    assert failure.example is not None
    assert failure.example.config.kind == "gru"
    assert failure.repro is not None
    imports = [ln for ln in failure.repro.splitlines() if ln.startswith(("import", "from"))]
    assert not [ln for ln in imports if "rnnspec" in ln]  # plain torch only
    script = tmp_path / "repro.py"
    script.write_text(failure.repro, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "output: max |difference| 0.001" in run.stdout
    assert "broken DISAGREES with eager" in run.stdout
    assert "failed: equivalence" in matrix.table()
    assert "| broken |" in matrix.markdown()
    assert cell.report is not None
    assert failure.record is cell.report.failed[0].failure  # held, not copied
    assert failure.headline == failure.record.problem
    payload = json.loads(matrix.to_json())
    assert payload == json.loads(json.dumps(matrix.as_dict()))
    assert payload["cells"][0]["failures"][0]["law"] == "equivalence"
    assert payload["torch"] == torch.__version__


def no_grad_in_eval(reference: nn.Module) -> Any:
    """A deliberately wrong mode: in eval mode it runs without autograd (as cuDNN refuses)."""

    def run(*args: Any) -> Any:
        with torch.set_grad_enabled(reference.training and torch.is_grad_enabled()):
            return reference(*args)

    return run


NO_GRAD_IN_EVAL = Mode(
    "no-grad-in-eval",
    "eager, without autograd in eval mode",
    no_grad_in_eval,
    Scope(),
    ("with torch.set_grad_enabled(module.training):", "    actual = module(*args)"),
    laws=("gradients", "eval-backward"),
)


def test_an_eval_backward_failure_gets_a_repro_that_shows_it(tmp_path: Path) -> None:
    matrix = run_matrix([NO_GRAD_IN_EVAL], kinds=("lstm",), max_examples=5)
    cell = matrix.cells["no-grad-in-eval", "lstm"]
    assert cell.text() == "failed: eval-backward", "gradients are taken in training mode"
    (failure,) = cell.failures
    assert failure.repro is not None
    script = tmp_path / "repro.py"
    script.write_text(failure.repro, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "with autograd on, no-grad-in-eval raised" in run.stdout


@pytest.mark.parametrize(
    "law", ["gradients", pytest.param("eval-backward", marks=pytest.mark.slow)]
)
def test_a_gradient_repro_of_an_lstm_with_initial_state_runs(tmp_path: Path, law: str) -> None:
    example = Example(RNNConfig("lstm", 2, 3), batch_size=2, seq_len=3, with_hx=True)
    script = tmp_path / "repro.py"
    script.write_text(repro_script(MODES["eager"], example, law), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "grad hx: max |difference| 0" in run.stdout


@pytest.mark.slow
def test_a_repro_of_an_agreeing_case_exits_0(tmp_path: Path) -> None:
    example = Example(RNNConfig("lstm", 2, 3, proj_size=2), batch_size=None, seq_len=4)
    script = tmp_path / "repro.py"
    script.write_text(repro_script(MODES["jit-trace"], example), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "c_n: max |difference| 0" in run.stdout


def test_a_repro_script_runs_whatever_the_modes_name(tmp_path: Path) -> None:
    # the name and summary go into string literals and a function name: quotes,
    # backslashes, a leading digit and spaces must still give a script that runs
    odd = Mode('2 "odd\\ mode', 'a """ summary \\d', MODES["eager"].wrap, Scope())
    example = Example(RNNConfig("gru", 2, 3), batch_size=2, seq_len=3)
    text = repro_script(odd, example, "gradients")
    compile(text, "<repro>", "exec")
    script = tmp_path / "repro.py"
    script.write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert '2 "odd\\ mode agrees with eager' in run.stdout


def test_a_trace_is_reused_across_sizes_and_keeps_torch_names() -> None:
    reference = RNNConfig("gru", 2, 3).build()
    candidate = MODES["jit-trace"].wrap(reference)
    for t, b in ((4, 2), (6, 3)):
        x = torch.randn(t, b, 2, dtype=torch.float64)
        torch.testing.assert_close(candidate(x)[0], reference(x)[0])
    assert len(candidate.__dict__["_cache"]) == 1
    names = [n for n, _ in candidate.named_parameters()]
    assert names == [n for n, _ in reference.named_parameters()]


def test_quiet_silences_only_the_listed_warnings() -> None:
    with quiet(), torch.backends.mkldnn.flags(enabled=True):  # warns in torch 2.13
        pass
    with pytest.warns(UserWarning, match="unrelated"), quiet():
        warnings.warn("unrelated", UserWarning, stacklevel=1)


# The discrepancies documented in docs/modes.md, as they stand in this torch.  When one
# of these fails, torch changed: update the mode's scope and notes, and the docs.
def test_documented_scripted_rnn_has_no_forward() -> None:
    with quiet():
        scripted = torch.jit.script(nn.GRU(2, 3))
    with pytest.raises(AttributeError, match="forward"):
        scripted(torch.randn(4, 1, 2))


def test_documented_scripted_packed_output_is_not_a_packed_sequence() -> None:
    reference = RNNConfig("gru", 2, 3).build(dtype=torch.float32)
    packed = pack_padded_sequence(torch.randn(3, 2, 2), torch.tensor([3, 1]))
    output, _ = MODES["jit-script"].wrap(reference)(packed)
    assert not isinstance(output, PackedSequence)
    assert type(output).__name__ == "PackedSequence"


def test_documented_quantized_limits() -> None:
    wrap = MODES["quantized-dynamic"].wrap
    x = torch.randn(3, 2)
    with pytest.raises(RuntimeError, match="input must have 3 dimensions"):
        wrap(RNNConfig("lstm", 2, 3).build(dtype=torch.float32))(x)
    # torch 2.13 says "mod.bias must be True"; torch 2.7 asserts without a message
    with pytest.raises(AssertionError, match="bias must be True|^$"):
        wrap(RNNConfig("gru", 2, 3, bias=False).build(dtype=torch.float32))
    with pytest.raises(RuntimeError, match="packB"):
        wrap(RNNConfig("lstm", 2, 3, proj_size=2).build(dtype=torch.float32))(x.unsqueeze(1))


def test_cli_runs_the_matrix_and_writes_json(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "matrix.json"
    argv = ["check", "--modes", "eager,jit-trace", "--kind", "gru", "--laws", "equivalence"]
    code = main([*argv, "--max-examples", "2", "--json", str(path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "jit-trace" in out
    assert "no mode disagrees with eager" in out
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert [(c["mode"], c["status"]) for c in cells] == [
        ("eager", "passed"),
        ("jit-trace", "passed"),
    ]


@pytest.mark.parametrize("argv", [["--modes", "nope"], ["--modes", "eager", "examples.x:f"]])
def test_cli_modes_usage_errors_exit_2(argv: list[str], capsys: Any) -> None:
    assert main(["check", *argv]) == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.slow
def test_the_default_matrix_runs_with_a_tiny_budget() -> None:
    matrix = run_matrix(max_examples=1, laws=["equivalence"])
    assert {c.status for c in matrix.cells.values()} <= {"passed", "unavailable", "failed"}
    assert all(c.status != "failed" for c in matrix.cells.values()), matrix.table()


def perturbed_packed(reference: nn.Module) -> Any:
    """A deliberately wrong mode: a packed batch of two or more is off by 1e-3."""

    def run(*args: Any) -> Any:
        output, state = reference(*args)
        if isinstance(output, PackedSequence) and int(output.batch_sizes[0]) > 1:
            output = output._replace(data=output.data + 1e-3)
        return output, state

    return run


PERTURBED_PACKED = Mode(
    "perturbed-packed",
    "eager, with a packed batch's output off by 1e-3",
    perturbed_packed,
    Scope(),
    (
        "output, state = module(*args)",
        "if isinstance(output, PackedSequence) and int(output.batch_sizes[0]) > 1:",
        "    output = output._replace(data=output.data + 1e-3)",
        "actual = (output, state)",
    ),
    laws=("packed",),
)


def test_a_packed_mismatch_gets_a_repro_that_shows_it(tmp_path: Path) -> None:
    """A numeric packed failure's repro packs the whole batch with its drawn lengths.

    (It used to read the per-sequence example of the message beside the whole batch's
    lengths, and crash with "INDICES element is out of DATA bounds".)
    """
    matrix = run_matrix([PERTURBED_PACKED], kinds=("gru",), max_examples=10)
    cell = matrix.cells["perturbed-packed", "gru"]
    assert cell.text() == "failed: packed"
    (failure,) = cell.failures
    # the failure's data: the whole example the law drew, beside the lengths it drew
    assert failure.example is not None
    assert failure.example.batch_size == len(failure.draws["lengths"]) > 1
    assert failure.repro is not None
    script = tmp_path / "repro.py"
    script.write_text(failure.repro, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert "out of DATA bounds" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stdout + run.stderr
    assert "output: max |difference| 0.001" in run.stdout, run.stdout
    assert "perturbed-packed DISAGREES with eager" in run.stdout
