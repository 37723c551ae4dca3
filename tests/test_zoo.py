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
from rnnspec.reference import LoopGRU, LoopLSTM, LoopRNN

LOOPS = {"rnn": LoopRNN, "lstm": LoopLSTM, "gru": LoopGRU}
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


def _first_difference(reference: Any, candidate: Any, calls: list[tuple]) -> str | None:
    """How ``candidate`` departs from ``reference`` over successive ``calls``, or None."""
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
    difference = _first_difference(reference, mutant.factory(reference), mutant.trigger.arguments())
    assert difference is not None, f"{mutant.name} ({mutant.bug}) matched torch on its trigger"


@pytest.mark.parametrize("mutant", MUTANTS, ids=IDS)
def test_correct_loop_matches_torch_on_the_trigger(mutant: Mutant) -> None:
    reference = mutant.trigger.reference()
    loop = LOOPS[mutant.kind].from_module(reference)
    difference = _first_difference(reference, loop, mutant.trigger.arguments())
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
