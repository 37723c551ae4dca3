"""Options shared by the ``rnnspec check`` command and the pytest plugin, defined once.

The CLI spells them ``--kind``, the plugin ``--rnnspec-kind``; both take the same
types, defaults and help.  This module imports no torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rnnspec.config import DEADLINE, KINDS, MAX_EXAMPLES
from rnnspec.errors import UsageError  # its home; imported from here too

__all__ = [
    "DEFAULT_RUN_EXAMPLES",
    "OPTIONS",
    "Option",
    "UsageError",
    "load_object",
    "positive_int",
]

DEFAULT_RUN_EXAMPLES = 25
"""Examples per law of `rnnspec check` without a target: the whole default run in minutes."""


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


def byte_size(text: str) -> int:
    from rnnspec.bytesize import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        f"Hypothesis examples per law (default: {MAX_EXAMPLES} for the CLI, "
        f"{DEFAULT_RUN_EXAMPLES} for its default run without a target, the Hypothesis "
        "profile's max_examples for the plugin)",
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
        f"seconds one call of the candidate may take before the law fails (default {DEADLINE:g})",
        {"type": positive_float, "metavar": "SECONDS", "default": DEADLINE},
    ),
    Option(
        "laws",
        "run only these law ids, comma-separated (see `rnnspec laws`)",
        {"metavar": "ID,ID"},
    ),
    Option(
        "isolate",
        "run the laws in a worker process: a candidate that crashes, exits, hangs holding "
        "the GIL or runs out of memory fails its law, and the run goes on",
        {"action": "store_true"},
    ),
    Option(
        "max-memory",
        "cap each worker process's memory (address space), e.g. 4G or 512M; a candidate "
        "that needs more fails its law (implies isolation)",
        {"type": byte_size, "metavar": "BYTES"},
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
    """Import ``MODULE:NAME`` (NAME may be dotted); a UsageError names what went wrong.

    An error while the module itself runs (a syntax error, an exception at import, a
    misspelled keyword) is a usage error too, in one line naming the file and line.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{what} must look like MODULE:NAME, got {spec!r}")
    if os.getcwd() not in sys.path:  # like `python -m`, find modules of the current project
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise UsageError(f"cannot import module {module_name!r} for {what}: {exc}") from None
        raise UsageError(_import_failure(module_name, what, exc)) from None
    except ImportError as exc:
        raise UsageError(f"cannot import module {module_name!r} for {what}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed while it ran
        raise UsageError(_import_failure(module_name, what, exc)) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {module_name!r} has no attribute {attr!r} ({what})")
        obj = getattr(obj, part)
    return obj


def _import_failure(module_name: str, what: str, exc: BaseException) -> str:
    """One line: where importing the user's module failed, and with what."""
    text = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename:
        place = f"{exc.filename}, line {exc.lineno}"
        detail = f"{type(exc).__name__}: {exc.msg}"
    else:
        place = _user_frame(exc)
    return f"importing {module_name!r} for {what} failed at {place}: {detail}"


def _user_frame(exc: BaseException) -> str:
    """The deepest frame of ``exc``'s traceback in the user's code.

    The user's code is any file outside the standard library, the installed packages
    and rnnspec itself: an exception raised inside torch or rnnspec (a Scope that refuses
    a value) is reported at the user's line that called it.
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    library = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    library.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # rnnspec/
    roots = tuple(os.path.join(os.path.abspath(p), "") for p in library if p)
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(roots)]
    chosen = own or frames
    if not chosen:
        return "an unknown place"
    return f"{chosen[-1].filename}, line {chosen[-1].lineno}"


def parse_laws(text: str | None) -> list[str] | None:
    return None if not text else [part.strip() for part in text.split(",") if part.strip()]
