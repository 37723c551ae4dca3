"""One wrong candidate reached through every shape of factory a user may hand rnnspec.

The candidate doubles torch's output (it fails ``equivalence`` on any example).  A
repro imports what has a name (a module-level function, a classmethod, a module-level
instance and its method, a partial of these with plain arguments) and writes a
placeholder for what has none (a lambda, a closure, a method of a local object, a
partial of a lambda, a partial with an argument no repr rebuilds, a function of
``__main__``).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import torch

Factory = Callable[[Any], Any]


def doubled(reference: Any, scale: float = 2.0) -> Any:
    """A candidate that scales torch's output by ``scale``."""

    def candidate(*args: Any) -> Any:
        output, state = reference(*args)
        return output * scale, state

    return candidate


def scaled(scale: float, reference: Any) -> Any:
    """``doubled`` with the scale first, for a partial that binds it by position."""
    return doubled(reference, scale)


class Maker:
    """A factory as an object: called, or through a method or a classmethod."""

    def __call__(self, reference: Any) -> Any:
        return doubled(reference)

    def build(self, reference: Any) -> Any:
        return doubled(reference)

    @classmethod
    def from_module(cls, reference: Any) -> Any:
        return doubled(reference)


MAKER = Maker()


def _closure() -> Factory:
    def factory(reference: Any) -> Any:
        return doubled(reference)

    return factory


def _in_main() -> Factory:
    copy = types.FunctionType(doubled.__code__, {"__name__": "__main__"}, "doubled")
    copy.__module__ = "__main__"
    return copy


IMPORTABLE: dict[str, Factory] = {
    "function": doubled,
    "classmethod": Maker.from_module,
    "module-level instance": MAKER,
    "method of a module-level instance": MAKER.build,
    "partial of a function": functools.partial(doubled, scale=3.0),
    "partial with a positional argument": functools.partial(scaled, 2.5),
}
"""Factories with a name a fresh interpreter imports: their repro runs as it is."""

NAMELESS: dict[str, Factory] = {
    "lambda": lambda reference: doubled(reference),
    "closure": _closure(),
    "local instance": Maker(),
    "method of a local instance": Maker().build,
    "partial of a lambda": functools.partial(lambda reference, s: doubled(reference, s), s=2.0),
    "partial with a tensor": functools.partial(doubled, scale=torch.tensor(2.0)),
    "function of __main__": _in_main(),
}
"""Factories with no importable name: their repro says so and asks for the factory."""
