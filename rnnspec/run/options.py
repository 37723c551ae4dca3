"""The keyword options of ``rnnspec.check``, ``resolve`` and ``plan_subject``, declared once.

:class:`PlanOptions` and :class:`CheckOptions` give their types, for the functions'
``**options: Unpack[CheckOptions]`` that type checkers read; :data:`DEFAULTS` gives
each its default; :func:`complete` fills in the defaults and refuses a name that is
not an option; :func:`shows_options` gives such a function the signature that
``help()`` and ``inspect.signature`` show, every option with its type and default.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict, TypeVar, cast

from rnnspec.config import DEADLINE, MAX_EXAMPLES
from rnnspec.scope import Scope

__all__ = ["DEFAULTS", "CheckOptions", "PlanOptions", "complete", "plan_options", "shows_options"]


class PlanOptions(TypedDict, total=False):
    """What a run of a subject already built takes (``plan_subject``)."""

    max_examples: int
    seed: int | None
    laws: Iterable[str] | None
    shrink: bool
    isolate: bool
    workers: int
    max_memory: int | None


class CheckOptions(PlanOptions, total=False):
    """What ``rnnspec.check`` and ``resolve`` take besides the factory and the kind."""

    scope: Scope | None
    deadline: float | None
    name: str | None
    constructor: Callable[..., Any] | None


DEFAULTS: dict[str, Any] = {
    "scope": None,  # factory.scope when the factory has one, else Scope()
    "max_examples": MAX_EXAMPLES,
    "seed": None,  # one is picked, and reported
    "laws": None,  # every law of the kind
    "deadline": DEADLINE,
    "name": None,  # the factory's import path
    "constructor": None,
    "shrink": True,
    "isolate": False,
    "workers": 1,
    "max_memory": None,
}
"""Each option's default, in the order ``help(rnnspec.check)`` lists them."""

_Options = TypeVar("_Options", PlanOptions, CheckOptions)
_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _names(options: Any) -> frozenset[str]:
    """The keys of a TypedDict class, its bases' included."""
    return frozenset(options.__required_keys__ | options.__optional_keys__)


def complete(given: Mapping[str, Any], options: type[_Options]) -> _Options:
    """``given`` with every other option of ``options`` at its default; TypeError (one
    line) for a name that is none of them, as Python says of an unknown keyword."""
    names = _names(options)
    for key in given:
        if key not in names:
            raise TypeError(
                f"unexpected keyword argument {key!r}; the options are "
                + ", ".join(k for k in DEFAULTS if k in names)
            )
    return cast(_Options, {k: given.get(k, v) for k, v in DEFAULTS.items() if k in names})


def plan_options(options: CheckOptions) -> PlanOptions:
    """The options of ``options`` that ``plan_subject`` takes."""
    names = _names(PlanOptions)
    return cast(PlanOptions, {k: v for k, v in options.items() if k in names})


def shows_options(options: type) -> Callable[[_Fn], _Fn]:
    """Give a function taking ``**options`` a signature that lists each of them."""
    hints = typing.get_type_hints(options)

    def decorate(fn: _Fn) -> _Fn:
        own = inspect.signature(fn, eval_str=True)
        params = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        params += [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hints[name]
            )  # fmt: skip
            for name, default in DEFAULTS.items()
            if name in hints
        ]
        fn.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        return fn

    return decorate
