"""The shells around rnnspec.check: import errors, a misspelled scope, probable causes, the plugin.

The plugin is run end to end in-process with pytest's ``pytester`` on small candidate
modules written to a temporary directory.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from rnnspec import LAWS, LawResult, Scope, check
from rnnspec.cli.main import main
from rnnspec.cli.options import UsageError, load_object
from rnnspec.run.causes import COMPARES_WITH_TORCH, mark_probable_causes
from rnnspec.run.misspelled import MisspelledScopeWarning, misspelled_scope

pytest_plugins = ["pytester"]

# A candidate whose forward is wrong (output scaled), whatever else it does right:
# equivalence, oracle and dropout-inactive fail from this one cause; stateless holds.
WRONG_FORWARD = """
def factory(reference):
    def candidate(*args):
        output, state = reference(*args)
        return 1.5 * output, state
    return candidate
"""

GOOD = """
def factory(reference):
    return reference
"""


@pytest.fixture(autouse=True)
def _inner_runs_keep_their_order(request: pytest.FixtureRequest) -> None:
    """The plugin's runs below assert the order of their items and lines: a shuffling
    plugin installed beside pytest (pytest-randomly) is kept out of them."""
    if "pytester" not in request.fixturenames:
        return
    pytester = request.getfixturevalue("pytester")
    for name in ("runpytest", "runpytest_subprocess"):
        run = getattr(pytester, name)
        setattr(pytester, name, functools.partial(run, "-p", "no:randomly"))


# -- import errors: a usage error in one line naming the file and line --------------------


@pytest.mark.parametrize(
    ("source", "line", "detail"),
    [
        ("x = 1\ndef factory(:\n    pass\n", 2, "SyntaxError: invalid syntax"),
        ("x = 1\n\nraise RuntimeError('no GPU here')\n", 3, "RuntimeError: no GPU here"),
        (
            "from rnnspec import Scope\n\ndef factory(r):\n    return r\n\n"
            "factory.scope = Scope(packd=False)\n",
            6,
            "TypeError: Scope.__init__() got an unexpected keyword argument 'packd'",
        ),
        (  # rnnspec's Scope refuses the value: reported at the user's line, not scope.py's
            "from rnnspec import Scope\nfactory = None\nSCOPE = Scope(max_layers=0)\n",
            3,
            "ValueError",
        ),
        ("import a_module_nobody_has_installed\n", 1, "ModuleNotFoundError"),
    ],
)
def test_an_error_while_importing_the_users_module_exits_2_in_one_line(
    source: str,
    line: int,
    detail: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"usermod_{abs(hash(source)) % 10**8}"
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["check", f"{name}:factory", "--kind", "lstm", "--quiet"])
    err = capsys.readouterr().err
    lines = [entry for entry in err.splitlines() if entry.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert f"{path}, line {line}" in lines[0]
    assert detail in lines[0]
    assert "Traceback" not in err


def test_a_module_that_is_not_there_is_still_named_as_such() -> None:
    with pytest.raises(UsageError, match="cannot import module 'no_such_pkg.inner'"):
        load_object("no_such_pkg.inner:factory", "the factory")


def test_the_plugin_refuses_a_broken_module_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(broken="x = 1\ny = undefined_name\n")
    result = pytester.runpytest("--rnnspec-impl", "broken:factory", "--rnnspec-kind", "gru")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: rnnspec: importing 'broken' * failed at *broken.py, line 2: NameError: *"]
    )


# -- a misspelled factory.scope --------------------------------------------------------------


def _factory(**attributes: Any) -> Any:
    def factory(reference: Any) -> Any:
        return reference

    for name, value in attributes.items():
        setattr(factory, name, value)
    return factory


@pytest.mark.parametrize("name", ["scopes", "scop", "Scope", "_scope", "SCOPE", "scpoe"])
def test_attributes_close_to_scope_are_flagged(name: str) -> None:
    assert misspelled_scope(_factory(**{name: Scope()})) == [name]


@pytest.mark.parametrize(
    "attributes",
    [{}, {"scope": Scope(), "scopes": Scope()}, {"parameter_map": None, "cope_with": 1}],
)
def test_nothing_is_flagged_without_a_misspelling(attributes: dict[str, Any]) -> None:
    assert misspelled_scope(_factory(**attributes)) == []


def test_a_bound_methods_function_attributes_are_read() -> None:
    class Port:
        @classmethod
        def from_module(cls, reference: Any) -> Any:
            return reference

    Port.from_module.__func__.scopes = Scope()  # type: ignore[attr-defined]
    assert misspelled_scope(Port.from_module) == ["scopes"]


def test_check_warns_on_a_misspelled_scope() -> None:
    factory = _factory(scopes=Scope(bidirectional=(False,)))
    with pytest.warns(MisspelledScopeWarning, match=r"factory\.scopes is ignored"):
        report = check(factory, "lstm", laws=["shape"], max_examples=2, seed=0)
    assert report.scope == Scope()  # the misspelled one really was ignored


def test_the_cli_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "scoped_cand.py").write_text(
        GOOD + "\nfrom rnnspec import Scope\nfactory.scopes = Scope()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["check", "scoped_cand:factory", "--kind", "gru", "--laws", "shape"]
    assert main([*argv, "--max-examples", "2", "--seed", "0", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "rnnspec check: warning: factory.scopes is ignored" in err


def test_the_plugin_warns_on_a_misspelled_scope(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(scoped=GOOD + "\nfrom rnnspec import Scope\nfactory.Scope = Scope()\n")
    result = pytester.runpytest(
        *_impl("scoped:factory", "gru"), "--rnnspec-laws", "shape", "-W", "default"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MisspelledScopeWarning: factory.Scope is ignored*"])


# -- failures that probably share a cause ----------------------------------------------------


def test_the_rule_names_real_laws_and_leaves_self_comparisons_out() -> None:
    assert set(LAWS) >= COMPARES_WITH_TORCH
    assert "equivalence" not in COMPARES_WITH_TORCH
    # these compare the candidate with itself: a wrong forward passes them
    assert not {"hx-none-is-zeros", "stateless", "repeatable", "streaming"} & COMPARES_WITH_TORCH


def test_marks_need_equivalence_to_have_failed() -> None:
    failed = [LawResult("oracle", "failed", "x"), LawResult("stateless", "failed", "y")]
    assert [r.probable_cause for r in mark_probable_causes(failed)] == [None, None]
    marked = mark_probable_causes([LawResult("equivalence", "failed", "z"), *failed])
    assert [r.probable_cause for r in marked] == [None, "equivalence", None]


def test_a_wrong_forward_marks_the_laws_that_compare_the_same_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wrong_forward.py").write_text(WRONG_FORWARD)
    monkeypatch.syspath_prepend(str(tmp_path))
    factory = load_object("wrong_forward:factory", "the factory")
    laws = ["equivalence", "oracle", "dropout-inactive", "stateless"]
    report = check(factory, "gru", scope=Scope(), laws=laws, max_examples=5, seed=0)
    by_law = {r.law: r for r in report.results}
    assert {r.law for r in report.failed} == {"equivalence", "oracle", "dropout-inactive"}
    assert by_law["equivalence"].probable_cause is None
    assert by_law["oracle"].probable_cause == "equivalence"
    assert by_law["dropout-inactive"].probable_cause == "equivalence"
    assert by_law["stateless"].status == "passed"
    summary = report.summary()
    assert "2 failed probably from the same cause as another" in summary
    assert "probably the same cause as 'equivalence'" in summary
    assert re.search(r"dropout-inactive +failed .* probably the same cause as equivalence", summary)
    results = report.as_dict()["results"]
    assert [r["probable_cause"] for r in results] == [None, "equivalence", "equivalence", None]


# -- the plugin: header, collection, failures, selection ------------------------------------


def _impl(spec: str, kind: str) -> tuple[str, ...]:
    return (
        "--rnnspec-impl",
        spec,
        "--rnnspec-kind",
        kind,
        "--rnnspec-max-examples",
        "3",
        "-p",
        "no:cacheprovider",
    )


def test_the_header_names_the_seed_and_the_items_are_collected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD)
    result = pytester.runpytest(*_impl("good:factory", "gru"), "--rnnspec-laws", "shape,causality")
    result.stdout.fnmatch_lines(
        [
            "rnnspec: good:factory as gru, seed *, 3 examples per law "
            "(replay with --rnnspec-seed * --rnnspec-max-examples 3)",
            "collected 2 items",
        ]
    )
    result.assert_outcomes(passed=2)


def test_a_given_seed_is_the_one_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD)
    result = pytester.runpytest(
        *_impl("good:factory", "rnn"), "--rnnspec-laws", "shape", "--rnnspec-seed", "1234"
    )
    result.stdout.fnmatch_lines(["rnnspec: good:factory as rnn, seed 1234, *"])


def test_a_failure_carries_seed_blob_replay_and_probable_cause(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(wrong=WRONG_FORWARD)
    # in a subprocess: nested in this process, pytest < 9 shows only the law's message
    result = pytester.runpytest_subprocess(
        *_impl("wrong:factory", "gru"),
        "--rnnspec-seed",
        "77",
        "--rnnspec-laws",
        "equivalence,oracle,stateless",
    )
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ rnnspec law equivalence _*",
            "law 'equivalence' failed for wrong:factory (gru): *",
            "  Hypothesis blob: '*', b'*'",
            "  seed 77; replay: pytest --rnnspec-impl wrong:factory --rnnspec-kind gru "
            "--rnnspec-seed 77 --rnnspec-max-examples 3 rnnspec::gru::equivalence",
            "*_ rnnspec law oracle _*",
            "  probably the same cause as rnnspec::gru::equivalence, which failed too *",
            "  Hypothesis blob: *",
            "  seed 77; replay: * rnnspec::gru::oracle",
            "FAILED rnnspec::gru::equivalence*",
            "FAILED rnnspec::gru::oracle*",
        ]
    )


def test_node_ids_select_and_deselect_like_pytests_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD)
    impl = _impl("good:factory", "gru")
    by_id = pytester.runpytest(
        *impl, "--co", "-q", "rnnspec::gru::shape", "rnnspec::gru::causality"
    )
    by_id.stdout.fnmatch_lines(["rnnspec::gru::shape", "rnnspec::gru::causality", "2 tests *"])
    kind = pytester.runpytest(*impl, "--co", "-q", "rnnspec::gru")
    assert f"{len([law for law in LAWS.values() if 'gru' in law.kinds])} tests" in kind.stdout.str()
    deselected = pytester.runpytest(
        *impl, "--co", "-q", "-k", "bidirectional", "--deselect", "rnnspec::gru::bidirectional-ends"
    )
    deselected.stdout.fnmatch_lines(
        [
            "rnnspec::gru::bidirectional-doubling",
            "rnnspec::gru::bidirectional-composition",
            "rnnspec::gru::bidirectional-not-causal",
            "3/* tests collected (* deselected) *",
        ]
    )


def test_a_law_item_that_does_not_exist_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD)
    result = pytester.runpytest(*_impl("good:factory", "gru"), "rnnspec::gru::nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: rnnspec: not found: rnnspec::gru::nope *"])
    result = pytester.runpytest("rnnspec::gru::shape")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: rnnspec: rnnspec::gru::shape names a law item: *"])


def test_without_a_test_path_only_the_law_items_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD)
    pytester.makepyfile(test_project="def test_the_projects_own():\n    pass\n")
    pytester.makeini("[pytest]\ntestpaths = .\n")
    impl = (*_impl("good:factory", "gru"), "--rnnspec-laws", "shape")
    alone = pytester.runpytest(*impl, "-v")
    alone.stdout.fnmatch_lines(["rnnspec: no test path given, so only the law items run"])
    alone.assert_outcomes(passed=1)
    assert "test_the_projects_own" not in alone.stdout.str()
    beside = pytester.runpytest(*impl, "-v", "test_project.py")
    beside.assert_outcomes(passed=2)
    beside.stdout.fnmatch_lines(["*test_the_projects_own PASSED*", "rnnspec::gru::shape PASSED*"])
    plain = pytester.runpytest("-p", "no:cacheprovider")  # without the plugin's options
    plain.assert_outcomes(passed=1)


def test_a_law_that_cannot_apply_is_a_pytest_skip_with_its_reason(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(wrong=WRONG_FORWARD)  # a plain function: no parameters to clip
    result = pytester.runpytest(
        *_impl("wrong:factory", "gru"), "-rs", "rnnspec::gru::clip-grad-norm"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * not applicable: the candidate is a function, *"])


def test_the_cli_reports_a_law_that_cannot_apply_as_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "wrong_fn.py").write_text(WRONG_FORWARD)
    monkeypatch.syspath_prepend(str(tmp_path))
    out_json = tmp_path / "report.json"
    argv = ["check", "wrong_fn:factory", "--kind", "gru", "--laws", "clip-grad-norm"]
    code = main([*argv, "--max-examples", "3", "--quiet", "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(
        r"clip-grad-norm\s+skipped\s.*not applicable: the candidate is a function", out
    )
    results = json.loads(out_json.read_text())["results"]
    assert [(r["law"], r["status"]) for r in results] == [("clip-grad-norm", "skipped")]


def test_the_replay_command_gives_the_same_example(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(wrong=WRONG_FORWARD)
    impl = (*_impl("wrong:factory", "lstm"), "--rnnspec-seed", "5")
    whole = pytester.runpytest(*impl, "--rnnspec-laws", "equivalence,dropout-inactive")
    alone = pytester.runpytest(*impl, "rnnspec::lstm::dropout-inactive")
    alone.assert_outcomes(failed=1)

    def example(result: pytest.RunResult) -> list[str]:
        # With CI set, pytest also prints each whole message in the short summary:
        # count each example line once.
        lines = [line for line in result.outlines if line.startswith("  example: ")]
        return list(dict.fromkeys(lines))

    assert example(alone) == example(whole)[-1:]


@pytest.mark.slow
def test_xdist_workers_share_the_seed_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(wrong=WRONG_FORWARD)
    result = pytester.runpytest_subprocess(
        *_impl("wrong:factory", "gru"),
        "-n",
        "2",
        "rnnspec::gru::equivalence",
        "rnnspec::gru::oracle",
    )
    result.assert_outcomes(failed=2)
    seeds = set(re.findall(r"seed (\d+)", result.stdout.str()))
    assert len(seeds) == 1, result.stdout.str()


# -- one door: check(), the CLI and the plugin resolve a run the same way -----------------

THREADS_PROBE = """
import torch

def factory(reference):
    def candidate(*args):
        if torch.get_num_threads() != 1:
            raise RuntimeError(f"ran with {torch.get_num_threads()} intra-op threads")
        return reference(*args)
    return candidate
"""


def test_the_three_shells_resolve_through_one_door(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnspec.run.checker as checker

    calls: list[str] = []
    real = checker.resolve

    def spy(factory: Any, kind: str, **kw: Any) -> Any:
        calls.append(kind)
        return real(factory, kind, **kw)

    monkeypatch.setattr(checker, "resolve", spy)
    pytester.makepyfile(good=GOOD)
    from rnnspec.run.candidates import torch_module

    check(torch_module, "rnn", laws=["shape"], max_examples=1)
    assert calls == ["rnn"]
    assert main(["check", "good:factory", "--kind", "gru", "--laws", "shape", "--quiet"]) == 0
    assert calls == ["rnn", "gru"]
    result = pytester.runpytest(*_impl("good:factory", "lstm"), "--rnnspec-laws", "shape")
    result.assert_outcomes(passed=1)
    assert calls == ["rnn", "gru", "lstm"]


def test_the_plugin_runs_laws_under_the_runs_conditions(pytester: pytest.Pytester) -> None:
    import torch

    pytester.makepyfile(probe=THREADS_PROBE)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = pytester.runpytest(*_impl("probe:factory", "rnn"), "--rnnspec-laws", "shape")
    finally:
        torch.set_num_threads(threads)
    result.assert_outcomes(passed=1)


def test_the_plugins_door_refuses_what_check_refuses(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(good=GOOD, notascope="from good import factory\nSCOPE = 3\n")
    result = pytester.runpytest(*_impl("good:factory", "gru"), "--rnnspec-scope", "notascope:SCOPE")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: rnnspec: scope must be an rnnspec.Scope, got int"])


def test_one_law_alone_runs_as_check_runs_it() -> None:
    """The plugin's item (run_one) gives check()'s result for that law: passes, example."""
    from rnnspec.laws._repro import factory_path
    from rnnspec.run.checker import resolve, run_one

    namespace: dict[str, Any] = {}
    exec(WRONG_FORWARD, namespace)  # noqa: S102 - the test's own candidate
    factory = namespace["factory"]
    factory.__module__ = "wrong"
    assert factory_path(factory) == ("wrong", "factory")
    whole = check(factory, "lstm", seed=3, max_examples=20, laws=["stateless", "oracle"])
    plan = resolve(factory, "lstm", seed=3, max_examples=20, laws=["stateless", "oracle"])
    for law, expected in zip(plan.laws, whole.results, strict=True):
        alone = run_one(plan, law)
        assert (alone.law, alone.status, alone.examples) == (
            expected.law,
            expected.status,
            expected.examples,
        )
        assert alone.message.splitlines()[:3] == expected.message.splitlines()[:3]
    assert [r.status for r in whole.results] == ["passed", "failed"]
