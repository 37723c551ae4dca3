"""rnnspec.errors: the user-facing exceptions and warnings, under common bases, at one home."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import rnnspec
from rnnspec import errors

ROOT = Path(rnnspec.__file__).parent

NOT_YET_HOMED = {
    "rnnspec.deadline": {"DeadlineExceeded", "Abandoned", "Escaped"},
    "rnnspec.run.workers": {"MemoryLimitExceeded"},
    "rnnspec.laws._failure": {"LawFailure", "LawSkipped", "CandidateHung"},
    "rnnspec.plugin": {"LawFailed"},
}
"""Exception classes defined elsewhere for now (rnnspec's control flow, or owned by the
runner's rewrite); everything else that a user can catch lives in rnnspec.errors."""


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("rnnspec.cli.options", "UsageError"),
        ("rnnspec.run.misspelled", "MisspelledScopeWarning"),
        ("rnnspec.claims.plots", "MissingMatplotlib"),
    ],
)
def test_the_old_import_paths_give_the_same_class(old: str, name: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(errors, name)


def test_every_class_has_a_common_base_and_keeps_its_builtin_one() -> None:
    assert issubclass(errors.UsageError, errors.RnnspecError)
    assert issubclass(errors.UsageError, ValueError)
    assert issubclass(errors.MissingMatplotlib, RuntimeError)
    assert issubclass(errors.MisspelledScopeWarning, errors.RnnspecWarning)
    assert issubclass(errors.MisspelledScopeWarning, UserWarning)
    for name in errors.__all__:
        cls = getattr(errors, name)
        # Ctrl-C stays a KeyboardInterrupt, so that whoever does not catch it still stops
        base = KeyboardInterrupt if name == "RunInterrupted" else errors.RnnspecError
        assert issubclass(cls, base | errors.RnnspecWarning), name
    assert rnnspec.MisspelledScopeWarning is errors.MisspelledScopeWarning


def test_the_module_imports_nothing() -> None:
    tree = ast.parse((ROOT / "errors.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(n) for n in imports] == [
        "from __future__ import annotations",
        "from typing import TYPE_CHECKING",
        "from rnnspec.run.report import Report",  # under TYPE_CHECKING only
    ]
    assert "if TYPE_CHECKING:" in (ROOT / "errors.py").read_text(encoding="utf-8")


def test_no_other_module_defines_an_exception_or_a_warning() -> None:
    found: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name == "rnnspec.errors":
            continue
        module = importlib.import_module(name)
        for cls_name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__ == name and not cls_name.startswith("_"):
                if issubclass(cls, BaseException):  # a private one never reaches a user
                    found.setdefault(name, set()).add(cls_name)
    assert found == NOT_YET_HOMED
