"""Every law, against the built-in candidates: the loop references and the seed's methods.

One test id per (law, subject), e.g. ``test_law[equivalence-LoopLSTM]``.  torch's own
modules run every law too, but in the ``slow`` set (and in ``rnnspec check``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnspec.laws as laws_package
from rnnspec.laws import LAWS, Law, LawSkipped, Subject, Trial
from rnnspec.run.candidates import builtin_subjects


def _cases(subjects: list[Subject], expensive: bool | None = None) -> list:
    cases = []
    for subject in subjects:
        for law in LAWS.values():
            if subject.kind not in law.kinds or expensive not in (None, law.expensive):
                continue
            reason = law.skip_reason(subject)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            cases.append(pytest.param(law.id, subject, id=f"{law.id}-{subject.name}", marks=marks))
    return cases


def _check(law: Law, subject: Subject, data: st.DataObject) -> None:
    try:
        law.check(Trial(law, subject, data.draw))
    except LawSkipped as exc:  # as the runner reports it
        pytest.skip(f"not applicable: {exc}")


REFERENCES = builtin_subjects(torch_modules=False)
TORCH = [s for s in builtin_subjects() if s.name.startswith("torch")]


@pytest.mark.parametrize(("law_id", "subject"), _cases(REFERENCES, expensive=False))
@given(data=st.data())
def test_law(law_id: str, subject: Subject, data: st.DataObject) -> None:
    _check(LAWS[law_id], subject, data)


@pytest.mark.parametrize(("law_id", "subject"), _cases(REFERENCES, expensive=True))
@settings(max_examples=min(10, settings().max_examples))  # each example costs ~50 others'
@given(data=st.data())
def test_expensive_law(law_id: str, subject: Subject, data: st.DataObject) -> None:
    _check(LAWS[law_id], subject, data)


@pytest.mark.slow
@pytest.mark.parametrize(("law_id", "subject"), _cases(TORCH))
@given(data=st.data())
def test_law_on_torch(law_id: str, subject: Subject, data: st.DataObject) -> None:
    _check(LAWS[law_id], subject, data)


def test_every_law_has_a_unique_id_a_sentence_and_kinds() -> None:
    # the registry holds exactly the laws the modules define (decorated or in a case table)
    # and the README's table lists
    laws_dir = Path(laws_package.__file__).parent
    defined = {
        law_id
        for path in laws_dir.glob("[!_]*.py")
        for law_id in re.findall(
            r'(?:@law|ErrorCase)\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8")
        )
    }
    assert defined == set(LAWS)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([a-z0-9-]+) \| .+ \| (?:rnn|seed)[a-z, ]*\|$", readme, re.M))
    assert listed == set(LAWS)
    for law_id, law in LAWS.items():
        assert law.id == law_id
        assert law.sentence.endswith("."), law_id
        assert set(law.kinds) <= {"rnn", "lstm", "gru", "seed"}, law_id
