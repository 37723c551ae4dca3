"""rnnspec: an executable specification of recurrent networks in PyTorch.

``rnnspec.check(factory, kind="lstm")`` runs the specification's laws against your
own implementation; ``rnnspec.LAWS`` lists them.  Names are imported on first use,
so the pytest plugin and ``rnnspec --help`` do not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rnnspec.version import __version__

_EXPORTS = {
    "LAWS": "rnnspec.laws",
    "Law": "rnnspec.laws",
    "LawFailure": "rnnspec.laws",
    "LawResult": "rnnspec.run.report",
    "MisspelledScopeWarning": "rnnspec.errors",
    "Report": "rnnspec.run.report",
    "RunInterrupted": "rnnspec.errors",
    "Scope": "rnnspec.scope",
    "Tolerance": "rnnspec.tolerance",
    "check": "rnnspec.run.checker",
    "tolerance": "rnnspec.tolerance",
}

__all__ = [
    "LAWS",
    "Law",
    "LawFailure",
    "LawResult",
    "MisspelledScopeWarning",
    "Report",
    "RunInterrupted",
    "Scope",
    "Tolerance",
    "__version__",
    "check",
    "tolerance",
]

if TYPE_CHECKING:
    from rnnspec.errors import MisspelledScopeWarning, RunInterrupted
    from rnnspec.laws import LAWS, Law, LawFailure
    from rnnspec.run.checker import check
    from rnnspec.run.report import LawResult, Report
    from rnnspec.scope import Scope
    from rnnspec.tolerance import Tolerance, tolerance


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rnnspec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
