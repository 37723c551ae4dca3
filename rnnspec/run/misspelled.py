"""A factory's misspelled ``scope`` attribute: found, and said in one line.

``rnnspec.check`` reads the scope a factory declares from ``factory.scope``; an attribute
whose name is close to it (``scopes``, ``Scope``) is most likely a typo that would
silently check with the default Scope().  The door (``rnnspec.run.checker.resolve``)
finds it; each shell says it its own way.  Imports nothing heavy: the pytest plugin
loads it at start-up.
"""

from __future__ import annotations

import difflib
from typing import Any

from rnnspec.errors import MisspelledScopeWarning  # its home; imported from here too

__all__ = ["MisspelledScopeWarning", "misspelled_scope", "misspelled_scope_message"]


def misspelled_scope(factory: Any) -> list[str]:
    """Attributes of ``factory`` that look like a misspelled ``scope`` (when it has none).

    Close by difflib's ratio (``scopes``, ``scop``, ``_scope``) or equal but for case
    (``Scope``, ``SCOPE``); dunder names are not considered.
    """
    if hasattr(factory, "scope"):
        return []
    names = set(dir(factory))
    func = getattr(factory, "__func__", None)  # a bound method: its function's attributes
    if func is not None:
        names |= set(dir(func))
    names = {n for n in names if not (n.startswith("__") and n.endswith("__"))}
    close = set(difflib.get_close_matches("scope", names, n=5, cutoff=0.75))
    close |= {n for n in names if n.lower() == "scope"}
    return sorted(close)


def misspelled_scope_message(factory: Any) -> str | None:
    """The one-line warning for a misspelled ``scope`` on ``factory``, or None."""
    names = misspelled_scope(factory)
    if not names:
        return None
    shown = ", ".join(f"factory.{n}" for n in names)
    return (
        f"{shown} is ignored: rnnspec reads factory.scope (a misspelling?); "
        "checking with the default Scope()"
    )
