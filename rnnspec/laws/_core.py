"""What a law is, what it is checked against, and how a check reports a failure.

A :class:`Law` is data: a stable id, the sentence it states, the kinds it applies
to, a check, and everything else rnnspec needs to know about it, declared once with
the law (what puts it out of scope, whether it compares with torch, whether its
failures are diagnosed).  A check receives a :class:`~rnnspec.laws.trial.Trial`,
which draws examples from Hypothesis, builds the torch reference and the candidate
from the :class:`Subject`'s factory, calls them and compares their results, raising
a :class:`~rnnspec.laws._failure.LawFailure`: the failure as data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from rnnspec.config import KINDS, Example, RNNConfig, dtype_name
from rnnspec.laws._capabilities import Capability
from rnnspec.scope import Scope
from rnnspec.strategies import examples, rnn_configs

if TYPE_CHECKING:
    from rnnspec.laws._failure import LawFailure
    from rnnspec.laws.trial import Trial

__all__ = ["LAWS", "Law", "Subject", "law"]

Factory = Callable[[Any], Callable[..., Any]]


@dataclass(frozen=True)
class Subject:
    """What the laws are checked against: a kind, a factory and the scope it supports.

    ``factory(reference) -> candidate`` builds the candidate from a torch module of
    ``kind``.  ``constructor`` (optional) is a class called like the torch module,
    for the laws about construction itself.
    """

    kind: str
    factory: Factory
    scope: Scope = field(default_factory=Scope)
    name: str = "candidate"
    constructor: Callable[..., Any] | None = None
    deadline: float | None = None  # seconds a candidate call may take; None: no limit

    def configs(self, **overrides: Any) -> st.SearchStrategy[RNNConfig]:
        """Configs within the scope; ``overrides`` narrow the bounds (e.g. ``min_layers=2``)."""
        return _configs(self, tuple(sorted(overrides.items())))

    def examples(
        self, configs: dict[str, Any] | None = None, **overrides: Any
    ) -> st.SearchStrategy[Example]:
        """Examples within the scope; ``configs`` narrows the configs, ``overrides`` the rest."""
        key = tuple(sorted((configs or {}).items())), tuple(sorted(overrides.items()))
        return _examples(self, *key)


@functools.lru_cache(maxsize=256)
def _configs(
    subject: Subject, overrides: tuple[tuple[str, Any], ...]
) -> st.SearchStrategy[RNNConfig]:
    s = subject.scope
    bounds: dict[str, Any] = {
        "kinds": (subject.kind,),
        "max_input": s.max_input,
        "max_hidden": s.max_hidden,
        "max_layers": s.max_layers,
        "batch_first": s.batch_first,
        "bidirectional": s.bidirectional,
        "bias": s.bias,
        "nonlinearities": s.nonlinearities,
        "proj_size": s.proj_size,
    }
    return rnn_configs(**_narrowed(bounds, overrides))


@functools.lru_cache(maxsize=256)
def _examples(
    subject: Subject,
    configs: tuple[tuple[str, Any], ...],
    overrides: tuple[tuple[str, Any], ...],
) -> st.SearchStrategy[Example]:
    """Strategies are built once per (subject, bounds): building them is not free."""
    s = subject.scope
    bounds: dict[str, Any] = {
        "max_batch": s.max_batch,
        "max_len": s.max_len,
        "unbatched": s.unbatched,
        "initial_state": s.initial_state,
        "dtypes": (dtype_name(s.widest_dtype),),
    }
    return examples(_configs(subject, configs), **_narrowed(bounds, overrides))


def _narrowed(bounds: dict[str, Any], overrides: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """``bounds`` with ``overrides``, which only narrow: an override ``max_*`` above the
    scope's bound keeps the scope's (a law asking for at most 3 steps of a scope of 1)."""
    out = dict(bounds)
    for key, value in overrides:
        out[key] = min(value, bounds[key]) if key.startswith("max_") and key in bounds else value
    return out


@dataclass(frozen=True)
class Law:
    """One sentence of the specification, with the kinds it applies to and its check.

    ``capabilities``: what the law needs beyond the forward, each with the Scope field
    that declares it absent (the first one names the failure's hint); ``needs``: any
    other reason it cannot run for a subject.  ``compares_with_torch``: its check
    compares the candidate's results with torch's (a failure probably shares the cause
    of ``equivalence``'s, ``rnnspec.run.causes``); ``diagnosed``: its failures are
    matched against the known bugs (``rnnspec.run.diagnosis``).
    """

    id: str
    sentence: str
    kinds: tuple[str, ...]
    check: Callable[[Trial], None]
    module: str
    needs: Callable[[Subject], str | None] = field(default=lambda subject: None)
    expensive: bool = False  # an example costs far more than other laws': scouted last
    # the law's own repro: lines run after the common preamble (rnnspec.laws._repro);
    # None: the generic repro, which replays the law's check on the failing draws
    repro: Callable[[LawFailure], list[str]] | None = None
    capabilities: tuple[Capability, ...] = ()
    compares_with_torch: bool = False
    diagnosed: bool = False

    @property
    def capability(self) -> Capability | None:
        """The capability a failure's hint names (the first declared), or None."""
        return self.capabilities[0] if self.capabilities else None

    def skip_reason(self, subject: Subject) -> str | None:
        """Why this law cannot run for ``subject`` (out of scope), or None."""
        if subject.kind not in self.kinds:
            return f"applies to {', '.join(self.kinds)}, not {subject.kind}"
        reason = self.needs(subject)
        for capability in self.capabilities:
            reason = reason or capability.missing(subject.scope)
        return reason

    def scope_hint(self) -> str | None:
        """The line that names the Scope field declaring this law out of scope, or None."""
        return self.capability.hint() if self.capability else None


LAWS: dict[str, Law] = {}
"""Every law, by id: ``rnnspec.laws`` orders them by module (in the order it imports
them) once every module has registered its laws; within a module, in registration order."""


def law(
    id: str,
    sentence: str,
    kinds: tuple[str, ...] = KINDS,
    needs: Callable[[Subject], str | None] | None = None,
    expensive: bool = False,
    repro: Callable[[LawFailure], list[str]] | None = None,
    *,
    capability: Capability | tuple[Capability, ...] = (),
    compares_with_torch: bool = False,
    diagnosed: bool = False,
) -> Callable[[Callable[[Trial], None]], Callable[[Trial], None]]:
    """Register the decorated check as the law ``id`` (see :class:`Law` for the rest)."""
    capabilities = capability if isinstance(capability, tuple) else (capability,)

    def register(check: Callable[[Trial], None]) -> Callable[[Trial], None]:
        if id in LAWS:
            raise ValueError(f"law id {id!r} registered twice")
        LAWS[id] = Law(
            id,
            sentence,
            kinds,
            check,
            check.__module__,
            needs or (lambda s: None),
            expensive,
            repro,
            capabilities,
            compares_with_torch,
            diagnosed,
        )
        return check

    return register
