"""rnnspec.run.report: what a user reads of a run (Report.summary) and its JSON."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

from rnnspec.config import Example, RNNConfig
from rnnspec.laws._failure import FailureRecord
from rnnspec.run.report import LawResult, Report
from rnnspec.scope import Scope


def _report() -> Report:
    report = Report("gru", "mine:factory", Scope(), seed=42, max_examples=9)
    report.results = [
        LawResult("equivalence", "failed", "law 'equivalence' failed: output differs\n  more"),
        LawResult("oracle", "failed", "law 'oracle' failed: far off", probable_cause="equivalence"),
        LawResult("shape", "passed", seconds=0.25),
        LawResult("packed", "skipped", "out of scope: packed sequences are out of scope"),
    ]
    return report


def test_the_summary_has_a_row_per_law_and_a_counts_line() -> None:
    text = _report().summary()
    lines = text.splitlines()
    assert lines[0].split() == ["law", "status", "time", "detail"]
    for law, status in (
        ("equivalence", "failed"),
        ("oracle", "failed"),
        ("shape", "passed"),
        ("packed", "skipped"),
    ):
        assert any(line.split()[:2] == [law, status] for line in lines), text
    assert (
        "mine:factory (gru): 1 passed, 2 failed, 1 skipped; seed 42; "
        "1 failed probably from the same cause as another"
    ) in text
    assert "0.25s" in text


def test_each_failure_is_shown_in_full_with_its_probable_cause() -> None:
    text = _report().summary()
    assert "law 'equivalence' failed: output differs\n  more" in text
    assert "probably the same cause as 'equivalence', which failed too" in text
    assert "out of scope: packed sequences are out of scope" in text  # a skip says why
    assert text.index("law 'equivalence' failed") < text.index("law 'oracle' failed: far off")


def test_ok_failed_and_counts() -> None:
    report = _report()
    assert not report.ok
    assert [r.law for r in report.failed] == ["equivalence", "oracle"]
    assert report.counts() == {"passed": 1, "failed": 2, "skipped": 1, "interrupted": 0}
    report.results = [r for r in report.results if r.status != "failed"]
    assert report.ok  # skipped is not failed


def test_as_dict_is_the_dict_and_to_json_its_string() -> None:
    report = _report()
    data = report.as_dict()
    assert json.loads(report.to_json()) == json.loads(json.dumps(data))
    assert data["counts"] == {"passed": 1, "failed": 2, "skipped": 1, "interrupted": 0}
    assert data["interrupted"] is False
    assert data["ok"] is False
    assert data["seed"] == 42
    assert data["scope"] == report.scope.as_dict()
    assert [r["law"] for r in data["results"]] == ["equivalence", "oracle", "shape", "packed"]


def _failed(blob: str | None) -> LawResult:
    example = Example(RNNConfig(kind="gru", input_size=2, hidden_size=3), 1, 2, seed=5)
    record = FailureRecord(
        "output differs", "law 'oracle' failed: output differs", example, {"p": 0.5}, blob=blob
    )
    return LawResult("oracle", "failed", "", "a sentence", 4, 0.5, failure=record)


def test_a_failed_result_reads_its_record() -> None:
    result = _failed("AXicY2BgAAAABAAB")
    assert result.failure is not None
    assert result.message == result.failure.message
    assert (result.problem, result.blob, result.draws) == (
        "output differs",
        "AXicY2BgAAAABAAB",
        {"p": 0.5},
    )
    assert result.example is result.failure.example
    assert result.detail() == "output differs"
    data = result.as_dict()
    assert data["message"] == "law 'oracle' failed: output differs"
    assert data["example"]["repr"] == repr(result.example)
    assert data["draws"] == {"p": 0.5}
    assert pickle.loads(pickle.dumps(result)) == result  # it comes back from a worker


def test_one_renderer_for_the_cause_and_the_blob() -> None:
    result = _failed("AXicY2BgAAAABAAB")
    assert result.failure_text().splitlines() == [
        "law 'oracle' failed: output differs",
        "  Hypothesis blob: AXicY2BgAAAABAAB",
    ]
    marked = replace(result, probable_cause="equivalence")
    assert "probably the same cause as 'equivalence', which failed" in marked.failure_text()
    named = result.failure_text("tests/x.py::equivalence")  # the plugin names a node id
    assert "probably the same cause as tests/x.py::equivalence, which" in named
    report = _report()
    report.results = [marked]
    assert report.summary().count("Hypothesis blob: ") == 1
    assert report.summary().endswith(marked.failure_text())
    assert "Hypothesis blob" not in _failed(None).failure_text()
