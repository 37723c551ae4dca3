"""The specification: every law, registered by id in ``LAWS``.

Importing this package imports the modules of :data:`MODULES`, each of which registers
its laws, then orders ``LAWS`` by module in that order (registration order within a
module).  Everything else about a law is declared with it (``law(...)``); the tables
below are derived from the registry.
"""

import importlib

from rnnspec.laws._capabilities import Capability
from rnnspec.laws._core import LAWS, Law, Subject, law
from rnnspec.laws._failure import LawFailure, LawSkipped
from rnnspec.laws.trial import Outcome, Trial

MODULES = (
    "equivalence",
    "selfgrad",
    "shapes",
    "structure",
    "batch",
    "packed",
    "dropout",
    "parity",
    "errors",
    "hygiene",
    "seed",
)
"""The law modules, in the order their laws are listed (and run)."""

for _name in MODULES:
    importlib.import_module(f"rnnspec.laws.{_name}")
_laws = sorted(LAWS.values(), key=lambda item: MODULES.index(item.module.rsplit(".", 1)[-1]))
LAWS.clear()
LAWS.update((law.id, law) for law in _laws)

CAPABILITIES: dict[str, Capability] = {
    law.id: law.capability for law in LAWS.values() if law.capability is not None
}
"""Law id -> the capability its failure's hint names (``law(..., capability=...)``)."""

__all__ = [
    "CAPABILITIES",
    "LAWS",
    "MODULES",
    "Law",
    "LawFailure",
    "LawSkipped",
    "Outcome",
    "Subject",
    "Trial",
    "law",
]
