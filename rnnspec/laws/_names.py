"""How a repro script names a callable it did not define: an import, or why there is none.

:func:`spell` gives the import lines and the expression that rebuild a factory (or a
constructor, or a drawn value's class) in a fresh interpreter: a module-level function
or class, a classmethod bound to one, a method of a module-level instance, a
``functools.partial`` of any of these whose arguments have faithful reprs.  A name is
only claimed after it was looked up again in the module the object says it comes from
and found to be that object.  Everything else (a lambda, a closure, a function defined
in ``__main__``, a callable instance no module names, a partial of one of these) has no
name to import: :func:`bind` then writes a placeholder for the user to fill in, and the
script stops with exit status 2 until they do.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["Spelling", "bind", "display_name", "literal", "spell"]

_LITERALS = (type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset)


@dataclass(frozen=True)
class Spelling:
    """The lines that import a callable and the expression naming it; or why there are none."""

    imports: tuple[str, ...] = ()
    expression: str | None = None
    missing: str = ""  # what the callable is, when it has no importable name


def spell(obj: Any) -> Spelling:
    """How a script run elsewhere gets ``obj``: imports and an expression, or ``missing``."""
    if isinstance(obj, functools.partial):
        return _partial(obj)
    owner = getattr(obj, "__self__", None)
    if inspect.ismethod(obj) and owner is not None:  # a classmethod, or an instance's method
        base = spell(owner)
        name = obj.__name__
        if base.expression is None:
            return Spelling(missing=f"the method {name} of {base.missing}")
        if getattr(owner, name, None) != obj:
            return Spelling(missing=f"{base.expression}.{name}, which is not that attribute")
        return Spelling(base.imports, f"{base.expression}.{name}")
    qualname = getattr(obj, "__qualname__", None) if _named(obj) else None
    if not isinstance(qualname, str):
        return _instance(obj)
    module = getattr(obj, "__module__", None)
    if "<lambda>" in qualname:
        return Spelling(missing=f"a lambda (in {module})")
    if "<locals>" in qualname:
        outer = qualname.split(".<locals>")[0]
        return Spelling(missing=f"{qualname.split('.')[-1]}, defined inside {outer}() in {module}")
    if module == "__main__":
        return Spelling(missing=f"{qualname}, defined in __main__ (a script run directly)")
    if not isinstance(module, str) or _lookup(module, qualname) is not obj:
        return Spelling(missing=f"{module}.{qualname}, which does not import as that name")
    return Spelling((f"from {module} import {qualname.split('.')[0]}",), qualname)


def bind(obj: Any, role: str, required: bool = True) -> tuple[list[str], str]:
    """Script lines that make ``obj`` available, and the expression to use it by.

    With no importable name the lines say why and bind ``role`` to a placeholder
    (None); when ``required``, the script stops there with exit status 2, and a
    message, until the user puts their ``role`` in its place.
    """
    spelled = spell(obj)
    if spelled.expression is not None:
        *first, last = spelled.imports
        return [*first, f"{last}  # the {role} under test"], spelled.expression
    lines = [
        f"# The {role} under test is {spelled.missing}: no name this script can import.",
        f"# Set {role} to it below (paste its definition above, or import a named equivalent).",
        f"{role} = None",
    ]
    if required:
        lines += [
            f"if {role} is None:  # exit status 2: not a verdict on the candidate",
            f"    print('this repro needs the {role} under test: set {role} at the top',"
            " file=sys.stderr)",
            "    sys.exit(2)",
        ]
    return lines, role


def display_name(obj: Any) -> str:
    """A short name for ``obj`` in reports: its qualified name, or its expression."""
    if isinstance(obj, functools.partial):
        return f"partial({display_name(obj.func)})"
    owner = getattr(obj, "__self__", None)
    if inspect.ismethod(obj) and isinstance(owner, type):
        return f"{owner.__qualname__}.{obj.__name__}"
    qualname = getattr(obj, "__qualname__", None) if _named(obj) else None
    return qualname if isinstance(qualname, str) else type(obj).__qualname__


def _named(obj: Any) -> bool:
    """Whether ``obj`` carries a name of its own (a function or class, not an instance)."""
    return inspect.isroutine(obj) or inspect.isclass(obj)


def _lookup(module: str, qualname: str) -> Any:
    """The object at ``qualname`` in the already imported ``module`` (None if none)."""
    value: Any = sys.modules.get(module)
    for part in qualname.split("."):
        value = getattr(value, part, None)
    return value


def _instance(obj: Any) -> Spelling:
    """A callable instance: importable where its class's module binds it to a name."""
    cls = type(obj)
    module = sys.modules.get(cls.__module__)
    what = f"an instance of {cls.__module__}.{cls.__qualname__}"
    if cls.__module__ != "__main__" and module is not None:
        for name, value in vars(module).items():
            if value is obj and not name.startswith("_"):
                return Spelling((f"from {cls.__module__} import {name}",), name)
    return Spelling(missing=what)


def _partial(obj: functools.partial[Any]) -> Spelling:
    """``functools.partial(func, *args, **keywords)`` again, when every part spells."""
    inner = spell(obj.func)
    if inner.expression is None:
        return Spelling(missing=f"a functools.partial of {inner.missing}")
    parts = [literal(a) for a in obj.args] + [
        None if (text := literal(v)) is None else f"{k}={text}" for k, v in obj.keywords.items()
    ]
    if any(p is None for p in parts):
        return Spelling(
            missing=f"functools.partial({inner.expression}, ...) with an argument "
            "that has no faithful repr"
        )
    arguments = ", ".join([inner.expression, *(p for p in parts if p is not None)])
    return Spelling(("import functools", *inner.imports), f"functools.partial({arguments})")


def literal(value: Any) -> str | None:
    """``repr(value)`` where evaluating it gives ``value`` back (else None): Python's
    literals, nested, and torch's dtypes (the scripts import torch)."""
    if isinstance(value, torch.dtype):
        name = repr(value)
        return name if getattr(torch, name.removeprefix("torch."), None) is value else None
    if type(value) not in _LITERALS:
        return None
    text = repr(value)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if type(back) is type(value) and back == value else None
