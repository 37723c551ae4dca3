"""rnnspec.check: the public API, its errors, and robustness against misbehaving candidates."""

from __future__ import annotations

import gc
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import rnnspec
from rnnspec import Scope, check
from rnnspec.reference import LOOPS, LoopGRU, LoopLSTM, LoopRNN
from rnnspec.run.lawrun import GC_THRESHOLD, conditions


def test_public_names() -> None:
    # the package face exports what it imports lazily, and its version: no more, no less
    assert set(rnnspec.__all__) == {*rnnspec._EXPORTS, "__version__"}
    assert rnnspec.__all__ == sorted(rnnspec.__all__)
    assert dir(rnnspec) == rnnspec.__all__
    for name in rnnspec.__all__:
        assert getattr(rnnspec, name) is not None
    importlib.import_module("rnnspec.run.checker")  # a submodule must not shadow the function
    assert rnnspec.check is check
    assert callable(rnnspec.check)


def test_every_modules_all_names_what_it_defines() -> None:
    """Each ``__all__`` under rnnspec/ lists only names its module has, each once."""
    root = Path(rnnspec.__file__).parent
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            continue
        assert len(set(exported)) == len(exported), name
        missing = [n for n in exported if not hasattr(module, n)]
        assert missing == [], f"{name}.__all__ names what it does not define: {missing}"


def test_importing_the_plugin_does_not_import_torch() -> None:
    code = "import sys, rnnspec, rnnspec.plugin, rnnspec.cli.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"kind": "cnn"}, ValueError, "kind must be one of rnn, lstm, gru"),
        ({"factory": 3}, TypeError, "factory must be callable"),
        ({"max_examples": 0}, ValueError, "max_examples must be a positive integer"),
        ({"scope": "all"}, TypeError, "scope must be an rnnspec.Scope"),
        ({"laws": ["nope"]}, ValueError, "unknown law 'nope'"),
        ({"deadline": 0}, ValueError, "deadline must be positive"),
    ],
)
def test_bad_arguments_raise_one_clear_error(kwargs: dict, error: type, message: str) -> None:
    args: dict[str, Any] = {"factory": LoopRNN.from_module, "kind": "rnn", **kwargs}
    with pytest.raises(error, match=message):
        check(args.pop("factory"), args.pop("kind"), **args)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bidirectional", (), "non-empty tuple of bools"),
        ("nonlinearities", ("gelu",), "'tanh' and/or 'relu'"),
        ("dtypes", (torch.int32,), "floating dtypes"),
        ("max_layers", 0, "positive integer"),
    ],
)
def test_bad_scopes_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scope(**{field: value})


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_correct_implementations_pass(kind: str, seed: int) -> None:
    for factory in (LOOPS[kind].from_module, lambda reference: reference):
        report = check(factory, kind, max_examples=3, seed=seed, scope=Scope(errors=True))
        assert report.ok, report.summary()
        assert report.counts()["failed"] == 0


def test_out_of_scope_laws_are_skipped_with_the_reason() -> None:
    scope = Scope(bidirectional=(False,), packed=False, gradients=False)
    report = check(LoopGRU.from_module, "gru", scope=scope, max_examples=5, seed=0)
    skipped = {r.law: r.message for r in report.results if r.status == "skipped"}
    assert skipped["packed"] == "out of scope: packed sequences are out of scope"
    assert "bidirectional is out of scope" in skipped["bidirectional-ends"]
    assert "gradients are out of scope" in skipped["gradients"]
    assert "opt-in" in skipped["error-input-size"]


def _function_around(reference: Any) -> Any:
    """A plain function wrapping torch's module: a candidate that is not an nn.Module."""

    def candidate(*args: Any) -> Any:
        return reference(*args)

    return candidate


def test_a_law_that_cannot_apply_at_run_time_is_skipped_not_passed() -> None:
    report = check(
        _function_around, "lstm", max_examples=5, seed=0, laws=["clip-grad-norm", "param-count"]
    )
    results = {r.law: r for r in report.results}
    for law_id in ("clip-grad-norm", "param-count"):
        assert results[law_id].status == "skipped", report.summary()
        assert results[law_id].message.startswith("not applicable: the candidate is a function")
        assert "not an nn.Module" in results[law_id].message
    assert report.ok
    assert report.counts() == {"passed": 0, "failed": 0, "skipped": 2, "interrupted": 0}
    data = json.loads(report.to_json())
    assert [r["status"] for r in data["results"]] == ["skipped", "skipped"]
    assert "not applicable" in report.summary()


def test_scope_is_read_from_the_factory() -> None:
    def factory(reference: Any) -> Any:
        return LoopRNN.from_module(reference)

    factory.scope = Scope(packed=False)  # type: ignore[attr-defined]
    report = check(factory, "rnn", max_examples=3, seed=0, laws=["packed"])
    assert report.results[0].status == "skipped"


def test_report_json_has_versions_scope_and_results() -> None:
    report = check(LoopLSTM.from_module, "lstm", max_examples=3, seed=7, laws=["shape", "oracle"])
    data = json.loads(report.to_json())
    assert data["rnnspec"] == rnnspec.__version__
    assert data["torch"] == torch.__version__
    assert data["device"] == "cpu"
    assert data["seed"] == 7
    assert data["scope"]["dtypes"] == ["float32", "float64"]
    assert [(r["law"], r["status"]) for r in data["results"]] == [
        ("shape", "passed"),
        ("oracle", "passed"),
    ]
    assert report.as_dict() == data  # as_dict() is the dict, to_json() its JSON string
    assert report.scope.as_dict() == data["scope"]


def test_a_narrow_dtype_candidate_is_checked_against_a_wider_reference() -> None:
    report = check(
        LoopLSTM.from_module,
        "lstm",
        max_examples=10,
        seed=0,
        scope=Scope(dtypes=(torch.bfloat16,)),
        laws=["equivalence", "output-dtype-device"],
    )
    assert report.ok, report.summary()
    data = report.as_dict()
    assert data["scope"]["dtypes"] == ["bfloat16"]
    assert data["tolerances"]["bfloat16"]["atol"] == 8e-2


# -- misbehaving candidates give failed laws, never a crash or a hang ------------------
def _raises(reference: Any) -> Any:
    def candidate(*args: Any) -> Any:
        raise RuntimeError("kernel exploded")

    return candidate


def _wrong_type(reference: Any) -> Any:
    return lambda *args: "not a tensor"


def _factory_fails(reference: Any) -> Any:
    raise KeyError("weight_ih_l0")


def _factory_hangs(reference: Any) -> Any:
    import time

    time.sleep(30)


def _hangs(reference: Any) -> Any:
    def candidate(*args: Any) -> Any:
        import time

        time.sleep(30)

    return candidate


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (_raises, "the candidate raised RuntimeError: kernel exploded"),
        (_wrong_type, "returned a str, expected (output, state)"),
        (_factory_fails, "the factory raised KeyError"),
        (_hangs, "the candidate did not return within 0.2 s"),
        (_factory_hangs, "the factory did not return within 0.2 s"),
    ],
)
def test_misbehaving_candidates_fail_laws_with_a_message(factory: Any, message: str) -> None:
    report = check(
        factory,
        "rnn",
        max_examples=5,
        seed=0,
        deadline=0.2,
        laws=["equivalence", "shape"],
        shrink=False,
    )
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert message in report.results[0].message


def test_a_failure_carries_repro_blob_and_draws() -> None:
    from mutants.zoo import MUTANTS

    (mutant,) = [m for m in MUTANTS if m.name == "lstm_gates_igfo"]
    report = check(mutant.factory, "lstm", max_examples=50, seed=3, laws=["gradients"])
    (result,) = report.failed
    assert "law 'gradients' failed" in result.message
    assert "gate blocks" in result.message  # where it diverges
    assert "repro:" in result.message
    assert "candidate = LSTMGatesIGFO.from_module(reference)" in result.message
    assert result.blob is not None
    assert result.first_failure_seconds is not None


def test_a_run_sets_its_conditions_and_restores_what_it_found() -> None:
    before = torch.get_num_threads(), gc.get_threshold()
    with conditions():
        assert torch.get_num_threads() == 1
        assert gc.get_threshold()[0] >= GC_THRESHOLD
    assert (torch.get_num_threads(), gc.get_threshold()) == before


def _noisy(reference: Any) -> Any:
    """A candidate that adds noise from torch's global generator (a dropout left on)."""

    def candidate(*args: Any) -> Any:
        output, state = reference(*args)
        return output + 1e-3 * torch.randn(output.shape, dtype=output.dtype), state

    return candidate


def test_a_candidate_drawing_from_the_global_generator_fails_the_same_whatever_ran_before() -> None:
    outcomes = []
    for before in (1, 2):
        torch.manual_seed(before)  # the process's history differs...
        state = torch.get_rng_state()
        report = check(_noisy, "gru", laws=["equivalence"], max_examples=5, seed=3)
        assert torch.equal(torch.get_rng_state(), state)  # ...and is left as it was
        (result,) = report.results
        outcomes.append((result.status, result.message))
    assert outcomes[0][0] == "failed"
    assert outcomes[0] == outcomes[1]  # the same failure, the same differences


def test_the_signature_of_check_lists_every_option_with_its_default() -> None:
    import inspect
    import typing

    from rnnspec.run.checker import resolve
    from rnnspec.run.options import DEFAULTS, CheckOptions

    options = typing.get_type_hints(CheckOptions)
    assert set(options) == set(DEFAULTS)  # every option has a default, and only they
    for fn, own in ((check, {"progress"}), (resolve, set())):
        params = inspect.signature(fn).parameters
        assert [p for p in params if p not in own] == ["factory", "kind", *DEFAULTS]
        for name, default in DEFAULTS.items():
            assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
            assert params[name].default == default, name
            assert params[name].annotation == options[name], name
    assert "max_examples: int = 100" in str(inspect.signature(check))
    assert "isolate=True" in (check.__doc__ or "")  # the docstring is kept


def test_the_options_the_readme_shows_exist_with_the_defaults_it_gives() -> None:
    import ast
    import inspect
    import re

    params = inspect.signature(check).parameters
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    calls = [ln for ln in readme.splitlines() if "rnnspec.check(" in ln]
    assert calls
    shown = 0
    for line in calls:
        code, _, comment = line.partition("#")
        for name in re.findall(r"(\w+)=", code.split("rnnspec.check(", 1)[1]):
            assert name in params, line
            shown += 1
        for name, value in re.findall(r"(\w+)=([\w.]+)", comment):
            assert params[name].default == ast.literal_eval(value), line
    assert shown >= 4


def test_an_unknown_option_is_a_type_error_that_lists_them() -> None:
    with pytest.raises(TypeError, match=r"'max_exampels'; the options are scope, max_exam"):
        check(LoopGRU.from_module, "gru", max_exampels=3)  # type: ignore[call-arg]
    from rnnspec.laws import Subject
    from rnnspec.run.checker import plan_subject

    subject = Subject("gru", LoopGRU.from_module, Scope(), "loops")
    with pytest.raises(TypeError, match=r"'deadline'; the options are max_examples, seed"):
        plan_subject(subject, deadline=1.0)  # type: ignore[call-arg]
