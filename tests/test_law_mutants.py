"""Every law fails on at least one wrong implementation: no law is a check that cannot fail."""

from __future__ import annotations

import pytest

from mutants.law_mutants import LAW_MUTANTS, MORE_MUTANTS
from rnnspec.laws import LAWS
from rnnspec.run.lawrun import run_law


def test_every_law_has_a_mutant() -> None:
    assert set(LAW_MUTANTS) == set(LAWS)


@pytest.mark.parametrize("law_id", list(LAWS))
def test_law_fails_on_its_mutant(law_id: str) -> None:
    law, subject = LAWS[law_id], LAW_MUTANTS[law_id]
    reason = law.skip_reason(subject)
    if reason:
        pytest.skip(f"{subject.name} cannot be run here: {reason}")
    result = run_law(law, subject, max_examples=100, seed=0, shrink=False)
    assert result.status == "failed", f"{law_id} did not catch {subject.name}: {result}"
    assert f"law {law_id!r} failed" in result.message


@pytest.mark.parametrize("name", sorted(MORE_MUTANTS))
def test_law_fails_on_its_other_mutants(name: str) -> None:
    law_id, subject, named = MORE_MUTANTS[name]
    result = run_law(LAWS[law_id], subject, max_examples=100, seed=0, shrink=False)
    assert result.status == "failed", f"{law_id} did not catch {subject.name}: {result}"
    assert named in result.message, result.message


def test_a_failure_shrinks_to_the_smallest_config() -> None:
    law, subject = LAWS["equivalence"], LAW_MUTANTS["equivalence"]
    result = run_law(law, subject, max_examples=100, seed=0)
    assert result.status == "failed"
    assert "input_size=1, hidden_size=1, num_layers=1" in result.message, result.message
    assert "seq_len=1" in result.message
