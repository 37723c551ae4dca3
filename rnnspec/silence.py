"""Silencing exactly the warnings and log lines a known code path emits, for one block.

Both context managers here change the process-wide warning filters, as
``warnings.catch_warnings`` does, but put the previous filters back on exit only while
the filters in force are still the ones the block installed.  A block on a worker
thread that rnnspec abandoned past its deadline ends when the hung call returns,
perhaps long after the caller moved on; a plain ``catch_warnings`` would then put back
the filters of a block long gone, under whatever runs at that moment (a later test of
a pytest run saw its ``ignore`` filters vanish, and its warnings turned into errors).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["ignored", "silenced"]


@contextmanager
def _own_filters() -> Iterator[None]:
    """``catch_warnings()``, whose exit restores only filters that are still this block's."""
    catcher = warnings.catch_warnings()
    catcher.__enter__()
    own = warnings.filters  # a fresh list: the block's filters go into it
    try:
        yield
    finally:
        if warnings.filters is own:  # else another block has replaced them since: leave them
            catcher.__exit__(None, None, None)


@contextmanager
def ignored() -> Iterator[None]:
    """Ignore every warning inside the block (a candidate's warnings are no failure)."""
    with _own_filters():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def silenced(
    filters: Iterable[tuple[type[Warning], str]], logger_names: Iterable[str] = ()
) -> Iterator[None]:
    """Ignore the warnings of ``filters`` ((category, message regex) pairs) and hold the
    loggers ``logger_names`` at CRITICAL inside the block; everything else is untouched."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    with _own_filters():
        for category, message in filters:
            warnings.filterwarnings("ignore", message, category)
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
