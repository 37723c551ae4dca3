"""Silencing exactly the warnings and log lines a known code path emits, for one block."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["silenced"]


@contextmanager
def silenced(
    filters: Iterable[tuple[type[Warning], str]], logger_names: Iterable[str] = ()
) -> Iterator[None]:
    """Ignore the warnings of ``filters`` ((category, message regex) pairs) and hold the
    loggers ``logger_names`` at CRITICAL inside the block; everything else is untouched."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for category, message in filters:
            warnings.filterwarnings("ignore", message, category)
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
