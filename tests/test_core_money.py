"""Decimal money: Excel ROUND semantics and largest-remainder splits exact to the fen."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_xl.core.errors import KpiError
from kpi_xl.core.money import (
    MoneyColumn,
    money_array,
    split_by_group,
    split_largest_remainder,
    to_decimal,
    to_money,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (73.195, "73.20"),  # repr "73.195" → half-up → 73.20 (Excel ROUND), not 73.19
        (-73.195, "-73.20"),  # half away from zero for negatives too
        (2.675, "2.68"),  # binary 2.67499999… but the cell shows 2.675 → 2.68
        (1.005, "1.01"),
        (0.125, "0.13"),
        (0.124999, "0.12"),
        (1280, "1280.00"),
        (np.float64(0.285), "0.29"),  # numpy scalars read like floats (repr would be np.float64)
        (np.int64(7), "7.00"),
        (D("10.005"), "10.01"),
        ("1,280元", "1280.00"),
        (-0.001, "0.00"),  # never "-0.00"
    ],
)
def test_to_money_rounds_half_up_like_excel(value: object, expected: str) -> None:
    result = to_money(value)  # type: ignore[arg-type]
    assert result == D(expected)
    assert str(result) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, True, "abc", None])
def test_to_money_rejects_non_numbers(value: object) -> None:
    with pytest.raises(KpiError) as info:
        to_money(value)  # type: ignore[arg-type]
    assert "金额" in info.value.zh


def test_to_money_nan_is_num_error() -> None:
    with pytest.raises(KpiError) as info:
        to_money(math.nan)
    assert info.value.code == "#NUM!"


def test_to_decimal_is_exact_as_shown() -> None:
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal(0.006) == D("0.006")
    assert to_decimal("6‰") == D("0.006")


def test_split_equal_thirds_tie_to_lower_index() -> None:
    # 100.00 / 3 = 33.333…: floors 3333 ×3 = 9999 fen, 1 left → index 0 (ties by index)
    assert split_largest_remainder(D("100"), [1, 1, 1]) == [D("33.34"), D("33.33"), D("33.33")]


def test_split_largest_remainder_goes_to_largest_fraction() -> None:
    # 100 × 1/6 = 16.666…, × 2/6 = 33.333…, × 3/6 = 50 → floors 1666+3333+5000 = 9999;
    # the left fen goes to the largest remainder (.666, index 0) → 16.67, 33.33, 50.00
    assert split_largest_remainder(100, [1, 2, 3]) == [D("16.67"), D("33.33"), D("50.00")]


def test_split_s1_team_bonus_by_sales_share() -> None:
    # pool 100.00 split by sales 33333 / 33333 / 33334 (of 100000): quotas 3333.3, 3333.3,
    # 3333.4 fen → floors 9999, the 1 fen to the largest remainder (.4, index 2)
    parts = split_largest_remainder(D("100.00"), [33333.0, 33333.0, 33334.0])
    assert parts == [D("33.33"), D("33.33"), D("33.34")]


def test_split_zero_weights_get_nothing() -> None:
    assert split_largest_remainder(10, [0, 1, 0, 1]) == [D("0"), D("5"), D("0"), D("5")]


def test_split_all_zero_weights_is_equal_split() -> None:
    # documented: all-zero weights → equal split among all (10.00/3 → 3.34, 3.33, 3.33)
    assert split_largest_remainder(10, [0, 0, 0]) == [D("3.34"), D("3.33"), D("3.33")]


def test_split_negative_total_mirrors() -> None:
    assert split_largest_remainder(-1, [1, 1, 1]) == [D("-0.34"), D("-0.33"), D("-0.33")]


def test_split_accepts_fractions_and_decimals() -> None:
    assert split_largest_remainder(1, [Fraction(1, 3), D("0.5"), 1 / 6]) == [
        D("0.33"), D("0.50"), D("0.17")]


def test_split_errors() -> None:
    with pytest.raises(KpiError) as info:
        split_largest_remainder(10, [1, -1])
    assert "负数" in info.value.zh
    with pytest.raises(KpiError):
        split_largest_remainder(10, [1, math.nan])
    with pytest.raises(KpiError) as info:
        split_largest_remainder(10, [])
    assert "没有可分配" in info.value.zh
    assert split_largest_remainder(0, []) == []


def test_split_by_group_mapping_and_rows() -> None:
    groups = ["A", "B", "A", "B", "B"]
    weights = [1, 1, 3, 1, 2]
    # A: 100 by 1:3 → 25, 75; B: 10 by 1:1:2 → 2.50, 2.50, 5.00
    expected = [D("25"), D("2.5"), D("75"), D("2.5"), D("5")]
    assert split_by_group({"A": 100, "B": 10}, weights, groups) == expected
    assert split_by_group([100, 10, 100, 10, 10], weights, groups) == expected


def test_split_by_group_errors() -> None:
    with pytest.raises(KpiError, match="不一致"):
        split_by_group([100, 90], [1, 1], ["A", "A"])
    with pytest.raises(KpiError, match="没有总额"):
        split_by_group({"A": 1}, [1, 1], ["A", "B"])
    with pytest.raises(KpiError):
        split_by_group([1], [1, 1], ["A", "A"])


def test_money_column_views() -> None:
    error = KpiError("坏", "bad")
    column = MoneyColumn.of([D("1.10"), D("2.00"), D("5")], np.array([None, None, error]))
    assert column.amounts[2] is None
    assert column.total() == D("3.10")
    floats = column.to_column()
    assert floats.values[:2].tolist() == [1.1, 2.0]
    assert math.isnan(floats.values[2])
    assert column.cells() == [D("1.10"), D("2.00"), error]
    assert column.failed.tolist() == [False, False, True]


def test_money_array() -> None:
    out = money_array(np.array([73.195, math.nan, 1.0]))
    assert out.tolist() == [D("73.20"), None, D("1.00")]


@given(
    cents=st.integers(min_value=-10**9, max_value=10**9),
    weights=st.lists(
        st.one_of(st.integers(min_value=0, max_value=10**6),
                  st.floats(min_value=0, max_value=1e6, allow_nan=False)),
        min_size=1, max_size=30),
)
def test_split_sums_exactly_and_is_fair(cents: int, weights: list[float]) -> None:
    total = D(cents).scaleb(-2)
    parts = split_largest_remainder(total, weights)
    assert sum(parts, D(0)) == total
    assert all(p == p.quantize(D("0.01")) for p in parts)
    fractions = [Fraction(to_decimal(w)) for w in weights]
    weight_sum = sum(fractions) or len(fractions)
    if not sum(fractions):
        fractions = [Fraction(1)] * len(fractions)
    for part, weight in zip(parts, fractions, strict=True):
        exact = Fraction(cents) * weight / weight_sum
        assert abs(Fraction(part * 100) - exact) < 1  # within one fen of the exact quota
        if cents >= 0:
            assert part >= 0
        if weight == 0 and any(fractions):
            assert part == 0


@given(cents=st.integers(min_value=0, max_value=10**7),
       size=st.integers(min_value=1, max_value=12))
def test_split_is_deterministic(cents: int, size: int) -> None:
    total = D(cents).scaleb(-2)
    assert split_largest_remainder(total, [1] * size) == split_largest_remainder(total, [1] * size)
    parts = split_largest_remainder(total, [1] * size)
    assert parts == sorted(parts, reverse=True)  # equal weights: the extra fen go first
