"""The specification: every law, registered by id in ``LAWS``.

Importing this package registers the laws of each module below, then orders ``LAWS`` by
module as ``_ORDER`` lists them (registration order within a module).
"""

from rnnspec.laws import (  # noqa: F401 - imported for registration
    batch,
    dropout,
    equivalence,
    errors,
    hygiene,
    packed,
    parity,
    seed,
    selfgrad,
    shapes,
    structure,
)
from rnnspec.laws._core import LAWS, Law, Outcome, Subject, Trial, law
from rnnspec.laws._failure import LawFailure, LawSkipped

_ORDER = (
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
_laws = sorted(LAWS.values(), key=lambda item: _ORDER.index(item.module.rsplit(".", 1)[-1]))
LAWS.clear()
LAWS.update((law.id, law) for law in _laws)

__all__ = ["LAWS", "Law", "LawFailure", "LawSkipped", "Outcome", "Subject", "Trial", "law"]
