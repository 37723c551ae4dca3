"""rnnspec.run.report: what a user reads of a run (Report.summary) and its JSON."""

from __future__ import annotations

import json

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
