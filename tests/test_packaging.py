"""What pyproject.toml promises about versions is what `tox -e lowest` installs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _release(version: str) -> tuple[int, ...]:
    """2.7 and 2.7.0 are the same release."""
    parts = [int(p) for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _floors() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requirements = re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9][^",<]*)', text)
    return {name.lower(): version for name, version in requirements}


def test_the_lowest_constraints_are_pyprojects_floors() -> None:
    pinned = dict(
        line.split("==")
        for line in (ROOT / "constraints-lowest.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    floors = _floors()
    runtime = {
        *("torch", "hypothesis", "pytest", "pytest-benchmark", "numpy", "typing-extensions"),
        "pytest-xdist",  # the test extra
    }
    assert runtime <= set(floors), "a runtime or test dependency lost its lower bound"
    assert {n: _release(v) for n, v in pinned.items()} == {
        name: _release(floors[name]) for name in runtime
    }
