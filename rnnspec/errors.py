"""The exceptions and warnings rnnspec raises to its users, under two common bases.

``except rnnspec.errors.RnnspecError`` catches every error rnnspec itself raises about
how it was used or what it needs (a bad command-line value, matplotlib missing), and
``warnings.filterwarnings("error", category=rnnspec.errors.RnnspecWarning)`` turns
every rnnspec warning into an error.  Each class also derives from the builtin class
it was before it moved here (``UsageError`` is a ``ValueError``, ...), and its old
import path keeps working.  Bad arguments to :func:`rnnspec.check` raise the builtin
``ValueError`` and ``TypeError``; a failed law is :class:`rnnspec.LawFailure`.

Imports nothing at run time: the pytest plugin loads this at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnspec.run.report import Report

__all__ = [
    "MisspelledScopeWarning",
    "MissingMatplotlib",
    "RnnspecError",
    "RnnspecWarning",
    "RunInterrupted",
    "UsageError",
]


class RnnspecError(Exception):
    """The base of the errors rnnspec raises to its users."""


class RnnspecWarning(Warning):
    """The base of the warnings rnnspec issues."""


class UsageError(RnnspecError, ValueError):
    """A bad command-line or plugin value (an import path, a kind, a law id); one line."""


class MissingMatplotlib(RnnspecError, RuntimeError):
    """The claims' figures need matplotlib, which is not installed (``rnnspec[plot]``)."""


class MisspelledScopeWarning(RnnspecWarning, UserWarning):
    """The factory has no ``scope`` but an attribute whose name is close to it (``scopes``,
    ``Scope``): the default ``Scope()`` is used, not what was meant."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; ``report`` holds what ran (``report.interrupted`` is True,
    the law that was running is marked "interrupted").

    A KeyboardInterrupt, not an :class:`RnnspecError`, so that a script which does not
    look for it still stops as Ctrl-C stops it.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__("the run was interrupted")
