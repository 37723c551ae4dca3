"""The README stays true: its laws table is the registry's, its commands and names exist."""

from __future__ import annotations

import importlib
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


ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    *sorted((ROOT / "rnnspec").rglob("*.py")),
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
_DOTTED = re.compile(r"\brnnspec(?:\.[A-Za-z_]\w*)+")
_PATH = re.compile(r"\brnnspec/[\w/]+\.py\b")


def _resolves(dotted: str) -> bool:
    """``dotted`` names a module, or an attribute reached from the longest importable one."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for part in parts[i:]:
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    return False


def test_every_dotted_rnnspec_name_in_the_code_and_docs_imports() -> None:
    """Docstrings, comments, the README and docs/ name modules that exist (after moves)."""
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in TEXTS
        for name in set(_DOTTED.findall(path.read_text(encoding="utf-8")))
        if not _resolves(name)
    )
    assert wrong == []


def test_every_rnnspec_file_path_in_the_code_and_docs_exists() -> None:
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in TEXTS
        for name in set(_PATH.findall(path.read_text(encoding="utf-8")))
        if not (ROOT / name).is_file()
    )
    assert wrong == []
