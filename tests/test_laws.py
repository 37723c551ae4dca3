"""Every law, against every built-in subject: torch's modules, the loop references, the seed.

One test id per (law, subject), e.g. ``test_law[equivalence-LoopLSTM]``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnspec.candidates import builtin_subjects
from rnnspec.laws import LAWS, Subject, Trial


def _cases() -> list:
    cases = []
    for subject in builtin_subjects():
        for law in LAWS.values():
            if subject.kind not in law.kinds:
                continue
            reason = law.skip_reason(subject)
            marks = [pytest.mark.skip(reason=reason)] if reason else []
            cases.append(pytest.param(law.id, subject, id=f"{law.id}-{subject.name}", marks=marks))
    return cases


@pytest.mark.parametrize(("law_id", "subject"), _cases())
@given(data=st.data())
def test_law(law_id: str, subject: Subject, data: st.DataObject) -> None:
    law = LAWS[law_id]
    law.check(Trial(law, subject, data.draw))
