"""How worker processes start on this platform, and what that lets isolation do.

Forked workers (where the platform can fork) start as copies of this process: any
factory works, a closure included, and each starts with this process's address space, so
a memory cap must sit above it.  Spawned workers (elsewhere) start fresh interpreters
that import the factory by its name, so the factory must survive pickling.
:func:`check_isolation` refuses, in one line, a run this platform cannot isolate.
"""

from __future__ import annotations

import multiprocessing
import pickle
from typing import TYPE_CHECKING

from rnnspec.bytesize import format_bytes

if TYPE_CHECKING:
    from rnnspec.laws import Subject
    from rnnspec.run.plan import Isolation

__all__ = ["START_METHOD", "check_isolation"]

START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""How workers start: forked (a copy of this process: any factory works) where the platform
allows, else spawned (a fresh interpreter that imports the factory by its name)."""


def check_isolation(subject: Subject, isolation: Isolation) -> None:
    """Raise ValueError (one line) when this platform cannot run ``subject`` so isolated."""
    if isolation.max_memory is not None:
        try:
            import resource  # noqa: F401 - POSIX only
        except ImportError:
            raise ValueError(
                "max_memory needs resource.setrlimit, which this platform lacks"
            ) from None
        own = _address_space()
        if START_METHOD == "fork" and own is not None and isolation.max_memory <= own:
            raise ValueError(
                f"max_memory {format_bytes(isolation.max_memory)} is below this process's own "
                f"address space ({format_bytes(own)}), which each forked worker starts with"
            )
    if START_METHOD != "fork":
        try:
            pickle.dumps(subject)
        except Exception as exc:  # noqa: BLE001 - any reason it cannot travel
            raise ValueError(
                f"isolation needs a factory this platform can send to a worker process (it "
                f"cannot fork here): name an importable one as MODULE:FACTORY ({exc})"
            ) from None


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
