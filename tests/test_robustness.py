"""No false failures: correct implementations pass ``check`` under 20 seeds (slow).

The default run keeps a two-seed version in test_check.py.
"""

from __future__ import annotations

import pytest

from rnnspec import Scope, check
from rnnspec.reference import LOOPS
from rnnspec.run.candidates import torch_module


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("implementation", ["torch", "loop"])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_correct_implementations_never_fail(kind: str, implementation: str, seed: int) -> None:
    factory = LOOPS[kind].from_module if implementation == "loop" else torch_module
    report = check(factory, kind, max_examples=10, seed=seed, scope=Scope(errors=True))
    assert report.ok, report.summary()
