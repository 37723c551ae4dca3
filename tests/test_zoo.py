"""The zoo of wrong implementations is well formed, and every mutant is really wrong.

Each mutant's trigger is replayed against the torch module: the mutant must differ
(values, shape, dtype, NaN, an exception, or a changed input), while the correct
loop reference replayed on the same trigger must not, so no trigger relies on noise.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence

from mutants.baselines import (
    baseline_detection,
    constant_weight_case,
    detection_table,
    fixed_random_case,
)
from mutants.zoo import MUTANTS, Mutant, Trigger, packed_calls
from rnnspec.config import KINDS, Example, RNNConfig
from rnnspec.reference import LOOPS

IDS = [m.name for m in MUTANTS]
# float64 loop against float64 torch: well below any mutant's effect
ATOL, RTOL = 1e-9, 1e-7


def _clone(value: Any) -> Any:
    if isinstance(value, PackedSequence):
        return value._replace(data=value.data.clone())
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple | list):
        return type(value)(_clone(v) for v in value)
    return value


def _call(module: Any, args: tuple) -> Any:
    try:
        with torch.no_grad():
            return module(*args)
    except Exception as exc:  # the exception is the result to compare
        return exc


def _gradients(module: Any, args: tuple) -> tuple[torch.Tensor, ...]:
    """Gradients of a fixed weighted sum of every result: the arguments', then the total
    norm of the parameters' (name-free, so modules that name their weights apart compare)."""
    leaves = [a.clone().requires_grad_(True) for a in _flat(args)]
    rebuilt = (leaves[0], *([] if len(args) == 1 else [_unflat(args[1], leaves[1:])]))
    generator = torch.Generator().manual_seed(0)
    outputs = _flat(module(*rebuilt))
    loss = sum(
        (torch.randn(t.shape, generator=generator, dtype=t.dtype) * t).sum() for t in outputs
    )
    params = [p for p in module.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, leaves + params, allow_unused=True)
    norms = [g.pow(2).sum() for g in grads[len(leaves) :] if g is not None]
    return (*grads[: len(leaves)], torch.stack(norms).sum().sqrt())


def _flat(value: Any) -> list[torch.Tensor]:
    if isinstance(value, tuple | list):
        return [t for v in value for t in _flat(v)]
    return [value]


def _unflat(like: Any, leaves: list[torch.Tensor]) -> Any:
    return tuple(leaves) if isinstance(like, tuple) else leaves[0]


def _first_difference(
    reference: Any, candidate: Any, calls: list[tuple], backward: bool = False
) -> str | None:
    """How ``candidate`` departs from ``reference`` over successive ``calls``, or None.

    ``backward``: compare the gradients of each call as well (see ``_gradients``).
    """
    for index, args in enumerate(calls):
        expected = _call(reference, _clone(args))
        given = _clone(args)
        actual = _call(candidate, given)
        where = f"call {index}"
        try:
            torch.testing.assert_close(given, args, rtol=0, atol=0)
        except AssertionError:
            return f"{where}: the candidate changed its input in place"
        if isinstance(expected, Exception) or isinstance(actual, Exception):
            if type(expected) is not type(actual):
                return f"{where}: torch gave {expected!r}, the candidate {actual!r}"
            continue
        try:
            torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL)
        except AssertionError as exc:
            return f"{where}: {exc}"
        if backward:
            try:
                torch.testing.assert_close(
                    _gradients(candidate, args), _gradients(reference, args), atol=ATOL, rtol=RTOL
                )
            except AssertionError as exc:
                return f"{where}, gradients (inputs', then the parameters' norm): {exc}"
    return None


def test_registry_is_well_formed() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)), f"duplicate mutant names in {names}"
    assert len(MUTANTS) >= 20, f"only {len(MUTANTS)} mutants"
    assert {m.kind for m in MUTANTS} == set(KINDS)
    for m in MUTANTS:
        cls = m.factory.__self__  # type: ignore[attr-defined]
        assert (cls.__doc__ or "").startswith("Bug: "), f"{m.name}: no 'Bug: ...' docstring"
        assert m.bug, f"{m.name}: no bug description"
        assert cls.kind == m.kind == m.trigger.example.config.kind, m.name


@pytest.mark.parametrize("mutant", MUTANTS, ids=IDS)
def test_mutant_is_wrong_on_its_trigger(mutant: Mutant) -> None:
    reference = mutant.trigger.reference()
    candidate = mutant.factory(reference)
    trigger = mutant.trigger
    difference = _first_difference(reference, candidate, trigger.arguments(), trigger.backward)
    assert difference is not None, f"{mutant.name} ({mutant.bug}) matched torch on its trigger"


@pytest.mark.parametrize("mutant", MUTANTS, ids=IDS)
def test_correct_loop_matches_torch_on_the_trigger(mutant: Mutant) -> None:
    reference = mutant.trigger.reference()
    loop = LOOPS[mutant.kind].from_module(reference)
    trigger = mutant.trigger
    difference = _first_difference(reference, loop, trigger.arguments(), trigger.backward)
    assert difference is None, f"trigger of {mutant.name}: {difference}"


def _sweep(kind: str) -> list[Trigger]:
    """Varied cases of ``kind``: layouts, directions, layers, hx, bias, packed input."""
    extra = {"rnn": {"nonlinearity": "relu"}, "lstm": {"proj_size": 2}, "gru": {}}[kind]

    def ex(batch: int | None, seq: int, hx: bool = False, **config: Any) -> Example:
        return Example(RNNConfig(kind, 3, 4, **config), batch, seq, seed=7, with_hx=hx)

    return [
        Trigger(ex(2, 3)),
        Trigger(ex(1, 1, hx=True)),
        Trigger(ex(None, 3, hx=True, bidirectional=True)),
        Trigger(ex(3, 4, hx=True, num_layers=3, batch_first=True, bidirectional=True)),
        Trigger(ex(2, 3, num_layers=2, bidirectional=True, bias=False)),
        Trigger(ex(2, 52, num_layers=2, **extra)),
        Trigger(
            ex(3, 4, hx=True, num_layers=2, bidirectional=True, batch_first=True), packed_calls
        ),
    ]


@pytest.mark.parametrize("mutant", MUTANTS, ids=IDS)
def test_mutant_raises_only_where_raising_is_its_bug(mutant: Mutant) -> None:
    for case in _sweep(mutant.kind):
        candidate = mutant.factory(case.reference())
        for args in case.arguments():
            result = _call(candidate, args)
            if isinstance(result, Exception):
                allowed = mutant.raises or ()
                assert isinstance(result, allowed), f"{mutant.name} raised {result!r} on {case}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("baseline", [constant_weight_case, fixed_random_case])
def test_baselines_pass_correct_implementations(kind: str, baseline: Any) -> None:
    for factory in (LOOPS[kind].from_module, lambda module: module):
        caught, detail = baseline(factory, kind)
        assert not caught, f"{baseline.__name__} flags a correct {kind}: {detail}"


def test_baseline_detection_table_shape() -> None:
    chosen = MUTANTS[:2] + MUTANTS[-2:]
    detection = baseline_detection(chosen)
    assert list(detection) == [m.name for m in chosen]
    for pair in detection.values():
        assert [type(flag) for flag in pair] == [bool, bool]
    table = detection_table(detection)
    assert len(table.splitlines()) == len(chosen) + 3
