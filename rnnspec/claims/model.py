"""The seed's claims as data, each with a check that computes its verdict.

A :class:`Claim` quotes the seed exactly and names what kind of sentence it is.  Its check
runs against a :class:`Context`, which measures on demand and caches what claims share (one
timing per group and size, one set of gradient curves).  Verdicts:

- ``holds`` / ``refuted``: a fact about torch's maths, the same on every machine;
- ``holds here`` / ``refuted here``: a speed, measured on this machine, this torch;
- ``advice``: a recommendation no measurement can settle; listed, not judged;
- ``error``: the check itself failed (a bug in rnnspec, or an unusual torch build).

The ledger is :mod:`rnnspec.claims.ledger`; its checks are in :mod:`rnnspec.claims.structural`
(shapes, structure) and :mod:`rnnspec.claims.measured` (speed, gradients).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from rnnspec.bench import timing as bench
from rnnspec.bench.gradients import GradientCurve, gradient_curves
from rnnspec.seed.methods import SEED_SIZES, MethodRow, Sizes, measure_methods

__all__ = [
    "ADVICE",
    "ERROR",
    "FULL",
    "HOLDS",
    "HOLDS_HERE",
    "CLAIM_KINDS",
    "QUICK",
    "REFUTED",
    "REFUTED_HERE",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "Context",
    "Outcome",
    "Settings",
    "fact",
]

HOLDS, REFUTED = "holds", "refuted"
HOLDS_HERE, REFUTED_HERE = "holds here", "refuted here"
ADVICE, ERROR = "advice", "error"
VERDICTS = (HOLDS, REFUTED, HOLDS_HERE, REFUTED_HERE, ADVICE, ERROR)
CLAIM_KINDS = ("shape", "parameters", "structure", "speed", "gradient", "advice")


@dataclass(frozen=True)
class Outcome:
    """What a check found: its verdict, a short measurement, the evidence, and raw numbers."""

    verdict: str
    measured: str
    evidence: str
    data: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def fact(ok: bool, measured: str, evidence: str, **data: object) -> Outcome:
    """The verdict on a fact about torch's maths: holds if ``ok``, else refuted."""
    return Outcome(HOLDS if ok else REFUTED, measured, evidence, dict(data))


@dataclass(frozen=True)
class Settings:
    """How hard to measure: timing repeats, block length, the size sweep, gradient lengths."""

    repeats: int
    min_block_s: float
    sweep_seq_lens: tuple[int, ...]
    sweep_batch_sizes: tuple[int, ...]
    sweep_hidden_sizes: tuple[int, ...]
    gradient_lengths: tuple[int, ...]
    gradient_seeds: int
    train_seq_lens: tuple[int, ...] = ()  # the training-step comparison's lengths beyond the seed's


FULL = Settings(
    21, 0.05, (20, 50, 100, 200, 500, 1000), (1, 256), (32, 512), (10, 25, 50, 100, 200, 500), 5,
    (100, 1000),
)  # fmt: skip
QUICK = Settings(7, 0.02, (20, 100, 500, 1000), (), (), (10, 50, 100, 200), 3, (100, 1000))


@dataclass
class Context:
    """Where and how hard the checks measure; caches what several claims share."""

    quick: bool = False
    sizes: Sizes = SEED_SIZES
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    progress: Callable[[str], None] = lambda message: None
    settings: Settings | None = None
    clock: str = "wall"
    _timings: dict[tuple[str, Sizes], bench.Timings] = field(default_factory=dict, repr=False)
    _curves: dict[str, GradientCurve] | None = field(default=None, repr=False)
    _methods: dict[str, MethodRow] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.settings is None:
            self.settings = QUICK if self.quick else FULL

    @property
    def plan(self) -> Settings:
        assert self.settings is not None
        return self.settings

    def timings(self, group: str, sizes: Sizes | None = None) -> bench.Timings:
        key = (group, sizes or self.sizes)
        if key not in self._timings:
            self._timings[key] = bench.measure(
                bench.GROUPS[group],
                key[1],
                self.device,
                repeats=self.plan.repeats,
                min_block_s=self.plan.min_block_s,
                clock=self.clock,
                progress=self.progress,
            )
        return self._timings[key]

    def sweep(self) -> tuple[Sizes, ...]:
        """The sizes the manual-vs-nn.RNN comparison is repeated at, one size changed at a time."""
        s, p = self.sizes, self.plan
        return (
            *(replace(s, seq_len=t) for t in p.sweep_seq_lens if t != s.seq_len),
            *(replace(s, batch_size=b) for b in p.sweep_batch_sizes if b != s.batch_size),
            *(replace(s, hidden_size=h) for h in p.sweep_hidden_sizes if h != s.hidden_size),
        )

    def train_sweep(self) -> tuple[Sizes, ...]:
        """The sizes the training-step comparison is repeated at: longer sequences."""
        return tuple(replace(self.sizes, seq_len=t) for t in self.plan.train_seq_lens
                     if t != self.sizes.seq_len)  # fmt: skip

    def gradients(self) -> dict[str, GradientCurve]:
        if self._curves is None:
            self._curves = gradient_curves(
                self.plan.gradient_lengths,
                self.plan.gradient_seeds,
                input_size=self.sizes.input_size,
                hidden_size=self.sizes.hidden_size,
                progress=self.progress,
            )
        return self._curves

    def methods(self) -> dict[str, MethodRow]:
        """The seed's methods built and run at the seed's sizes (shapes, parameter counts)."""
        if self._methods is None:
            self._methods = {row.label: row for row in measure_methods(SEED_SIZES)}
        return self._methods

    def describe(self) -> dict[str, object]:
        return {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "device": bench.describe_device(self.device),
            "sizes": vars(self.sizes),
            "quick": self.quick,
            "clock": self.clock,
            "settings": vars(self.plan),
        }


@dataclass(frozen=True)
class Claim:
    """One sentence of the seed, quoted exactly, with how rnnspec reads and checks it.

    ``check`` is ``None`` for advice.  ``law`` names the law in :mod:`rnnspec.laws` that
    states the same property for all sizes; ``erratum`` the :data:`rnnspec.seed.errata.ERRATA`
    entry the claim is.
    """

    id: str
    section: str
    quote: str
    kind: str
    reading: str
    check: Callable[[Context], Outcome] | None = None
    law: str | None = None
    erratum: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"{self.id}: kind must be one of {CLAIM_KINDS}, got {self.kind!r}")
        if (self.kind == "advice") != (self.check is None):
            raise ValueError(f"{self.id}: advice, and only advice, has no check")


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    outcome: Outcome

    @property
    def verdict(self) -> str:
        return self.outcome.verdict

    def as_dict(self) -> dict[str, object]:
        c, o = self.claim, self.outcome
        return {
            "id": c.id,
            "section": c.section,
            "quote": c.quote,
            "kind": c.kind,
            "reading": c.reading,
            "law": c.law,
            "erratum": c.erratum,
            "verdict": o.verdict,
            "measured": o.measured,
            "evidence": o.evidence,
            "data": o.data,
        }
