"""Options shared by the ``rnnspec check`` command and the pytest plugin, defined once.

The CLI spells them ``--kind``, the plugin ``--rnnspec-kind``; both take the same
types, defaults and help.  This module imports no torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "OPTIONS", "Option", "UsageError", "load_object", "positive_int"]

KINDS = ("rnn", "lstm", "gru")


class UsageError(ValueError):
    """A bad command-line value; the message is one line."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value}")
    return value


@dataclass(frozen=True)
class Option:
    name: str  # without dashes or prefix, e.g. "max-examples"
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("kind", "the kind the candidate implements", {"choices": KINDS}),
    Option(
        "max-examples",
        "Hypothesis examples per law (default: 100 for the CLI, the Hypothesis profile's "
        "max_examples for the plugin)",
        {"type": positive_int, "metavar": "N"},
    ),
    Option("seed", "seed of the run, to replay it exactly", {"type": int, "metavar": "S"}),
    Option(
        "scope",
        "an rnnspec.Scope to use, as MODULE:NAME (default: the factory's `scope` attribute)",
        {"metavar": "MODULE:NAME"},
    ),
    Option(
        "deadline",
        "seconds one call of the candidate may take before the law fails (default 10)",
        {"type": positive_float, "metavar": "SECONDS", "default": 10.0},
    ),
    Option(
        "laws",
        "run only these law ids, comma-separated (see `rnnspec laws`)",
        {"metavar": "ID,ID"},
    ),
)


def add_options(add: Callable[..., Any], prefix: str = "") -> None:
    """Register every option with ``add`` (argparse's or pytest's ``addoption``)."""
    for option in OPTIONS:
        add(
            f"--{prefix}{option.name}",
            dest=f"{prefix.replace('-', '_')}{option.dest}",
            help=option.help,
            **option.kwargs,
        )


def load_object(spec: str, what: str) -> Any:
    """Import ``MODULE:NAME`` (NAME may be dotted); a UsageError names what went wrong."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{what} must look like MODULE:NAME, got {spec!r}")
    if os.getcwd() not in sys.path:  # like `python -m`, find modules of the current project
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import module {module_name!r} for {what}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {module_name!r} has no attribute {attr!r} ({what})")
        obj = getattr(obj, part)
    return obj


def parse_laws(text: str | None) -> list[str] | None:
    return None if not text else [part.strip() for part in text.split(",") if part.strip()]
