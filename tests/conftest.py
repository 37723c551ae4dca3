"""Fixtures shared by rnnspec's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "rnn-methods-notebook.md"


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The seed notebook's text; tests that quote it skip when it is not beside the repo."""
    if not SEED.exists():
        pytest.skip(f"the seed notebook is not at {SEED}")
    return SEED.read_text(encoding="utf-8")
