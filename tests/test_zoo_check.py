"""The whole zoo through ``rnnspec.check`` at default settings: every mutant is caught (slow)."""

from __future__ import annotations

import pytest

from mutants.zoo import MUTANTS, Mutant
from rnnspec import check


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_check_catches_the_mutant(mutant: Mutant) -> None:
    # Default settings (100 examples per law); shrink=False only skips the shrinking that
    # follows a failure, which changes the message, not whether the mutant is caught.
    report = check(mutant.factory, mutant.kind, seed=0, scope=mutant.scope, shrink=False)
    assert not report.ok, f"{mutant.name} ({mutant.bug}) passed every law"
