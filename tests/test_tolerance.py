"""rnnspec.tolerance: one table by dtype, growing linearly with the number of steps."""

from __future__ import annotations

import math

import pytest
import torch

from rnnspec.laws import LAWS, Subject, Trial
from rnnspec.tolerance import BASE, GROWTH_STEPS, Tolerance, tolerance


@pytest.mark.parametrize("dtype", list(BASE))
def test_the_base_at_zero_steps_and_one_base_more_every_growth_steps(dtype: torch.dtype) -> None:
    base = BASE[dtype]
    assert tolerance(dtype, 0) == base
    for k in (1, 2, 5):
        grown = tolerance(dtype, k * GROWTH_STEPS)
        assert grown.rtol == pytest.approx((1 + k) * base.rtol)
        assert grown.atol == pytest.approx((1 + k) * base.atol)


def test_growth_is_linear_not_doubling() -> None:
    """At 16 steps twice the base, at 32 three times (not four), at 48 four (not eight)."""
    base = BASE[torch.float32].rtol
    assert [tolerance(torch.float32, s).rtol / base for s in (16, 32, 48)] == pytest.approx(
        [2, 3, 4]
    )


def test_overrides_replace_a_dtypes_base_and_grow_the_same_way() -> None:
    mine = {torch.float32: Tolerance(1e-3, 1e-4)}
    assert tolerance(torch.float32, 0, mine) == Tolerance(1e-3, 1e-4)
    assert tolerance(torch.float32, GROWTH_STEPS, mine).rtol == pytest.approx(2e-3)
    assert tolerance(torch.float64, 0, mine) == BASE[torch.float64]  # the others unchanged


def test_an_unknown_dtype_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"no tolerance for dtype torch.int32; known: \["):
        tolerance(torch.int32, 0)


def test_the_table_is_ordered_by_precision_and_printed_in_messages() -> None:
    assert BASE[torch.float64].rtol < BASE[torch.float32].rtol < BASE[torch.float16].rtol
    assert BASE[torch.float16].rtol < BASE[torch.bfloat16].rtol
    assert str(Tolerance(2e-5, 1e-10)) == "rtol=2.0e-05 atol=1.0e-10"
    assert Tolerance(1.0, 2.0).scaled(3) == Tolerance(3.0, 6.0)


@pytest.mark.parametrize(
    ("values", "agrees"),
    [
        ([0.5, -0.25, 1.0], True),
        ([0.5, math.inf, 1.0], False),  # inf vs inf is no agreement
        ([0.5, -math.inf, 1.0], False),
        ([math.inf, -math.inf], False),  # their sum is NaN
        ([0.5, math.nan, 1.0], False),
        ([60000.0, 60000.0], True),  # equal, finite, and the float16 sum overflows
        ([], True),
    ],
)
def test_a_comparison_passes_equal_finite_values_only(values: list[float], agrees: bool) -> None:
    """Trial.mismatch's quick path for equal tensors lets no inf or NaN through."""
    law = LAWS["equivalence"]
    trial = Trial(law, Subject("rnn", lambda reference: reference), draw=lambda *a, **k: None)
    for dtype in (torch.float64, torch.float16):
        actual = torch.tensor(values, dtype=dtype)
        problem = trial.mismatch(actual, actual.clone(), "output", Tolerance(1e-3, 1e-3))
        assert (problem is None) is agrees, (dtype, problem)
