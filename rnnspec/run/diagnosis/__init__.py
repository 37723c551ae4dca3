"""Name the bug: which known wrong implementation a failing candidate matches.

When a forward law fails, :func:`diagnose` replays the shrunk example, and two more of
the same shape with other weights and inputs (one with an initial state), through the
candidate and through every known variant of :data:`~rnnspec.run.diagnosis.variants.VARIANTS`,
and names each variant whose results equal the candidate's within the tolerance table on
all of them while torch's differ.  A correct implementation equals torch, so it is never
diagnosed.  A factory that raises leaves nothing to diagnose: :func:`diagnose` returns
None for it, and no diagnosis line is printed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from rnnspec.config import Example
from rnnspec.deadline import call_with_deadline, contained
from rnnspec.laws import LAWS, Subject
from rnnspec.run.diagnosis.variants import SYMPTOMS, VARIANTS, Symptom, Variant
from rnnspec.state import flat_result, state_tensors
from rnnspec.tolerance import tolerance, within

if TYPE_CHECKING:
    from rnnspec.laws._failure import LawFailure

__all__ = [
    "DIAGNOSED_LAWS",
    "NO_MATCH",
    "SYMPTOMS",
    "VARIANTS",
    "Symptom",
    "Variant",
    "describe",
    "diagnose",
    "diagnose_failure",
    "explain",
]

DIAGNOSED_LAWS: tuple[str, ...] = tuple(law.id for law in LAWS.values() if law.diagnosed)
"""The laws whose failures are diagnosed (declared ``law(..., diagnosed=True)``): they
compare the forward result with torch's."""

NO_MATCH = "no known bug matches"
CONFIRMATIONS = (7919, 104729)
"""Seed offsets of the further examples a match must hold on (other weights and inputs);
the last one also passes an initial state where the scope allows."""

_SENTENCES = {v.id: v.sentence for v in VARIANTS} | {s.id: s.sentence for s in SYMPTOMS}

Results = tuple[Tensor, ...]  # (output, *states)


class _FactoryRaised(Exception):
    """The factory itself raised: there is no candidate to diagnose."""


def diagnose_failure(subject: Subject, failure: LawFailure) -> tuple[str, ...] | None:
    """:func:`diagnose` on a failure's example; None (no diagnosis at all) when the
    failure is the factory's own error, or has no example."""
    if failure.example is None or failure.problem.startswith("the factory raised"):
        return None
    return diagnose(subject, failure.example)


def diagnose(subject: Subject, example: Example) -> tuple[str, ...] | None:
    """The ids of the known bugs whose results the candidate reproduces on ``example``.

    Empty when none matches, or when the candidate cannot be run on the examples; None
    when the factory raises on ``example`` (a failure of its own, not a known bug).
    Each candidate call is bounded by ``subject.deadline``.
    """
    try:
        return _diagnose(subject, example)
    except _FactoryRaised:
        return None


def _diagnose(subject: Subject, example: Example) -> tuple[str, ...]:
    # other weights and inputs; the last with an initial state where the scope has one,
    # so that a tiny example's zero state cannot hide half of a bug
    examples = [example] + [example.replace(seed=example.seed + k) for k in CONFIRMATIONS]
    if subject.scope.initial_state:
        examples[-1] = examples[-1].replace(with_hx=True)
    alive: list[Variant] = [v for v in VARIANTS if subject.kind in v.kinds and v.applies(example)]
    # a symptom seen once is conclusive (a correct implementation never shows it), but a
    # tiny example may not show it (a clamp to [-1, 1] of inputs already inside)
    symptoms: list[Symptom] = []
    for index, case in enumerate(examples):
        observed = _observe(subject, case, first=index == 0)
        if observed is None:
            return ()
        results, before, after = observed
        symptoms += [s for s in SYMPTOMS if s not in symptoms and s.seen(before, after)]
        expected = _variant_results(None, case) if index == 0 else None
        if expected is not None and _close(results, expected, subject, case.seq_len):
            alive = []  # the candidate computes what torch computes here: no bug to name
        kept = []
        for variant in alive:
            wrong = _variant_results(variant, case)
            if wrong is None or not _matches(variant, results, wrong, subject, case.seq_len):
                continue
            if expected is not None and _close(expected, wrong, subject, case.seq_len, results):
                continue  # computes what torch computes here: it names nothing
            kept.append(variant)
        alive = kept
        if not alive and len(symptoms) == len(SYMPTOMS):
            break
    if len(alive) > 1:
        alive = _tie_break(alive, subject, example)
    return tuple(v.id for v in alive) + tuple(s.id for s in symptoms)


def _tie_break(alive: list[Variant], subject: Subject, example: Example) -> list[Variant]:
    """Of several matches, those that still match on a wider, longer example, if any do.

    A tiny example can make two bugs compute the same thing (one hidden unit, as many
    samples as steps); the wider one tells them apart where the candidate's bug shows.
    """
    scope = subject.scope
    config = example.config
    wider = example.replace(
        config=config.replace(hidden_size=min(config.hidden_size + 2, scope.max_hidden)),
        seq_len=min(example.seq_len + 1, scope.max_len),
    )
    observed = _observe(subject, wider)
    if observed is None:
        return alive
    survivors = []
    for variant in alive:
        wrong = _variant_results(variant, wider)
        if wrong is not None and _matches(variant, observed[0], wrong, subject, wider.seq_len):
            survivors.append(variant)
    return survivors or alive


def explain(ids: Sequence[str]) -> list[str]:
    """One line per diagnosed id, or the single line saying that none matched."""
    if not ids:
        return [f"diagnosis: {NO_MATCH} (rnnspec knows {len(_SENTENCES)})"]
    return [f"diagnosis [{i}]: {_SENTENCES[i]}" for i in ids]


def describe(id: str) -> str:
    """The sentence of a known bug's id."""
    return _SENTENCES[id]


def _observe(
    subject: Subject, example: Example, first: bool = False
) -> tuple[Results, Results, Results] | None:
    """The candidate's results on ``example``, with its arguments before and after the call.

    A factory that raises on the ``first`` example raises :class:`_FactoryRaised`.
    """
    x, hx = example.inputs()
    args = (x,) if hx is None else (x, hx)
    before = (x, *state_tensors(hx))
    copies = tuple(t.clone() for t in before)

    def call(fn: Any, *arguments: Any) -> Any:  # as the laws call it: bounded, contained
        if subject.deadline is None:
            return contained(fn, arguments)
        return call_with_deadline(contained, (fn, arguments), subject.deadline)

    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            try:
                candidate = call(subject.factory, example.reference())
            except Exception as exc:  # noqa: BLE001 - the factory's own failure
                if first:
                    raise _FactoryRaised from exc
                raise
            result = call(candidate, *args)
    except _FactoryRaised:
        raise
    except Exception:  # noqa: BLE001 - a candidate that fails or hangs names nothing
        return None
    results = _results(result)
    return None if results is None else (results, copies, before)


def _variant_results(variant: Variant | None, example: Example) -> Results | None:
    """What ``variant`` (None: torch) returns on ``example``, computed in float64."""
    reference = example.reference(torch.float64)
    x, hx = example.inputs(torch.float64)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            fn: Any = reference if variant is None else variant.build(reference)
            result = fn(x) if hx is None else fn(x, hx)
    except Exception:  # noqa: BLE001 - a variant that cannot run here matches nothing
        return None
    return _results(result)


def _results(result: Any) -> Results | None:
    if not isinstance(result, tuple | list) or len(result) != 2:
        return None
    tensors = tuple(flat_result(result))
    return tensors if all(isinstance(t, Tensor) for t in tensors) else None


def _matches(
    variant: Variant, actual: Results, wrong: Results, subject: Subject, steps: int
) -> bool:
    """The candidate's results equal the variant's, at the tolerance the variant asks for."""
    return _close(actual, wrong, subject, steps, dtype=variant.compare_as)


def _close(
    actual: Results,
    expected: Results,
    subject: Subject,
    steps: int,
    like: Results | None = None,
    dtype: torch.dtype | None = None,
) -> bool:
    """Every tensor of ``actual`` equals ``expected``'s within the tolerance of ``like``'s
    dtype (or of ``dtype``, when given)."""
    like = like or actual
    if len(actual) != len(expected) or len(like) != len(actual):
        return False
    for a, b, dtype_of in zip(actual, expected, like, strict=True):
        if a.shape != b.shape or not dtype_of.is_floating_point():
            return False
        tol = tolerance(dtype or dtype_of.dtype, steps, subject.scope.tolerances)
        if not bool(within(a, b, tol).all()):
            return False
    return True
