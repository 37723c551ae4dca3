"""rnnspec.bench.timing's Ratio: median and interquartile range of per-repeat ratios."""

from __future__ import annotations

import pytest

from rnnspec.bench.timing import Ratio


def test_one_repeat_is_its_own_median_and_range() -> None:
    assert Ratio.of([2.5]) == Ratio(2.5, 2.5, 2.5, 1)


def test_the_median_and_the_inclusive_quartiles() -> None:
    ratio = Ratio.of([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (ratio.median, ratio.low, ratio.high, ratio.repeats) == (3.0, 2.0, 4.0, 5)
    assert Ratio.of([5.0, 1.0, 4.0, 2.0, 3.0]) == ratio  # order does not matter


def test_an_outlier_moves_neither_the_median_nor_the_quartiles_much() -> None:
    ratio = Ratio.of([10.0, 10.0, 10.0, 10.0, 1000.0])
    assert ratio.median == 10.0
    assert ratio.high == 10.0


def test_printed_and_as_dict() -> None:
    ratio = Ratio.of([1.0, 2.0, 3.0, 4.0, 5.0])
    assert str(ratio) == "3.00x (IQR 2.00-4.00, 5 repeats)"
    assert ratio.as_dict() == {"median": 3.0, "q1": 2.0, "q3": 4.0, "repeats": 5}
    assert Ratio.of([1.0, 3.0]).median == pytest.approx(2.0)
