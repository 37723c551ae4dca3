"""The README stays true: its laws table is the registry's, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from rnnspec.laws import LAWS
from rnnspec.text import markdown_table

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_laws_table_is_generated_from_the_registry() -> None:
    match = re.search(r"<!-- laws:begin -->\n(.*?)\n<!-- laws:end -->", README, re.S)
    assert match, "the README lost its laws markers"
    rows = [[law.id, law.sentence, ", ".join(law.kinds)] for law in LAWS.values()]
    expected = markdown_table(["law", "the sentence", "kinds"], rows)
    assert match.group(1) == expected, "regenerate with: rnnspec laws --markdown"


def test_the_two_setup_commands_are_what_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.findall(r"^python3 -m venv .*pytest -n 2$", README, re.M)
    assert len(test_command) == 1
    assert test_command[0] in ci
    assert re.search(r"^python3 -m venv .* && \.venv/bin/rnnspec check$", README, re.M)
