"""Fixtures shared by rnnspec's own tests.

The seed notebook lives outside the repository (``../shared/seed/`` beside a checkout).
What the tests need from it is carried in ``tests/seed_lines.txt``: every line of the
seed that the claims ledger or the errata quote, verbatim, in the seed's order.  One
test (``test_claims.py::test_the_carried_seed_lines_are_the_seeds``) checks that file
against the notebook where the notebook is present, and says how to regenerate it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SEED = Path(
    os.environ.get(
        "RNNSPEC_SEED_NOTEBOOK",
        Path(__file__).resolve().parents[2] / "shared" / "seed" / "rnn-methods-notebook.md",
    )
)
SEED_LINES = Path(__file__).resolve().parent / "seed_lines.txt"


@pytest.fixture(scope="session")
def seed_lines() -> str:
    """The seed's quoted lines, as carried in the repository (always present)."""
    return SEED_LINES.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_notebook() -> str:
    """The seed notebook itself; skips where it is not beside the repository."""
    if not SEED.exists():
        pytest.skip(f"the seed notebook is not at {SEED} (set RNNSPEC_SEED_NOTEBOOK)")
    return SEED.read_text(encoding="utf-8")
