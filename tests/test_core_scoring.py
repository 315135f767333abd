"""Weighted totals, adjustments, floors/caps and vetoes (S1 weights, S8 caps and vetoes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kpi_xl.core.column import Column
from kpi_xl.core.errors import InputErrorValue, KpiError, RuleError
from kpi_xl.core.scoring import (
    apply_veto,
    broadcast,
    cap_points,
    flags_of,
    labels_of,
    numbers_of,
    read_weights,
    weighted_total,
)

# S1 weights: X 30%, Y 20%, M 10%, Z 10%, N 5%, P 5%, Q 10%, W 10%
S1_WEIGHTS = [0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.1, 0.1]
S1_POINTS = [
    [100, 80, 60, 100, 80, 60, 90, 80],  # 30+16+6+10+4+3+9+8 = 86 (中级客服)
    [85, 100, 100, 80, 100, 100, 100, 100],  # 25.5+20+10+8+5+5+10+10 = 93.5 (高级客服)
    [40, 0, 0, 60, 60, 0, 60, 60],  # 12+0+0+6+3+0+6+6 = 33 (不合格)
]


def test_s1_weighted_total() -> None:
    result = weighted_total(S1_POINTS, S1_WEIGHTS)
    assert result.values.tolist() == pytest.approx([86.0, 93.5, 33.0])
    assert result.first_error() is None


def test_weights_as_percent_points_and_text() -> None:
    points = [[100, 80, 60, 100, 80, 60, 90, 80]]
    as_points = weighted_total(points, [30, 20, 10, 10, 5, 5, 10, 10])
    as_text = weighted_total(points, ["30%", "20%", "10%", "10%", "5%", "5%", "10%", "10%"])
    assert as_points.values[0] == pytest.approx(86.0)
    assert as_text.values[0] == pytest.approx(86.0)


def test_bad_reviews_after_weighting_floor_at_zero() -> None:
    # S1 差评: −50 each, added after weighting; 86 − 50 = 36; 93.5 − 100 = −6.5 → floor 0;
    # a blank adjustment cell is no adjustment: 33 + 0 = 33
    adjustments = [[-50], [-100], [None]]
    result = weighted_total(S1_POINTS, S1_WEIGHTS, adjustments)
    assert result.values.tolist() == pytest.approx([36.0, 0.0, 33.0])


def test_several_adjustment_columns_and_cap() -> None:
    # S6-style: 80 points (one column, weight 100%) − 5 (低质评价) + 2 (表扬) + 5 (outstanding)
    result = weighted_total([[80], [99]], [1], [[-5, 2, 5], [0, 2, 5]], maximum=100)
    assert result.values.tolist() == [82.0, 100.0]  # 80−5+2+5 = 82; 99+7 = 106 → capped 100


def test_no_floor() -> None:
    result = weighted_total([[10]], [1], [[-50]], floor=None)
    assert result.values.tolist() == [-40.0]


@pytest.mark.parametrize("weights", [[0.3, 0.2, 0.45], [30, 20, 45]])
def test_weights_must_total_100_percent(weights: list[float]) -> None:
    with pytest.raises(RuleError) as info:
        weighted_total([[1, 2, 3]], weights)
    assert str(info.value) == "权重合计 95%, 应为 100% (weights total 95%, must be 100%)"


def test_weight_tolerance() -> None:
    assert read_weights([0.1] * 10).sum() == pytest.approx(1.0)  # 0.1×10 binary noise is fine
    with pytest.raises(RuleError):
        read_weights([0.5, 0.5 + 1e-6])


def test_weight_problems() -> None:
    with pytest.raises(RuleError, match="负数"):
        read_weights([1.2, -0.2])
    with pytest.raises(RuleError, match="应为数字"):
        read_weights([0.5, "half"])
    with pytest.raises(RuleError, match="应为数字"):
        read_weights([0.5, None])
    with pytest.raises(InputErrorValue):
        read_weights([0.5, "#REF!"])
    with pytest.raises(RuleError, match="一一对应"):
        weighted_total([[1, 2, 3]], [0.5, 0.5])


def test_error_cells_propagate_per_row() -> None:
    points = [[100, 80], ["#DIV/0!", 80], [None, 80], ["abc", 80], [90, 90]]
    result = weighted_total(points, [0.5, 0.5], [[0], [0], [0], [0], ["oops"]])
    assert result.values[0] == 90.0
    assert all(math.isnan(v) for v in result.values[1:])
    assert result.errors[0] is None
    assert result.errors[1].code == "#DIV/0!"  # Excel error passes with its code
    assert "为空" in result.errors[2].zh
    assert "应为数字" in result.errors[3].zh and "abc" in result.errors[3].zh
    assert "加减分" in result.errors[4].zh  # a text adjustment is not a silent 0


def test_first_error_left_to_right() -> None:
    result = weighted_total([["#N/A", "#DIV/0!"]], [0.5, 0.5])
    assert result.errors[0].code == "#N/A"


def test_veto_zeroes_and_gives_reason() -> None:
    # 抖音: 人工不服务率 > 0 → that agent 0 (单项否决); blank veto cell = no veto
    total = Column.numeric(np.array([88.0, 95.0, 70.0, math.nan]),
                           np.array([None, None, None, KpiError("坏", "bad")]))
    vetoed = ["是", None, 1, True]
    result, reasons = apply_veto(total, vetoed)
    assert result.values[:3].tolist() == [0.0, 95.0, 0.0]
    assert reasons.tolist() == ["单项否决", None, "单项否决", None]  # an error row stays error
    assert result.errors[3] == KpiError("坏", "bad")


def test_veto_bad_mark_is_error() -> None:
    result, reasons = apply_veto([80.0], ["maybe"])
    assert "否决标记" in result.errors[0].zh
    assert reasons.tolist() == [None]


def test_cap_points() -> None:
    # S8 4S(5A) band 12 on an item worth 10 → 10; per-row maxima too
    assert cap_points([12.0, 8.0], 10).values.tolist() == [10.0, 8.0]
    assert cap_points([12.0, 8.0], np.array([15.0, 5.0])).values.tolist() == [12.0, 5.0]
    assert cap_points(["#N/A"], 10).errors[0].code == "#N/A"


def test_readers() -> None:
    numbers = numbers_of(["47%", 3, None], "得分", blank=0.0)
    assert numbers.values.tolist() == [0.47, 3.0, 0.0]
    labels = labels_of(["高级客服", 1, None], "等级")
    assert labels.values[:2].tolist() == ["高级客服", "1"]
    assert "为空" in labels.errors[2].zh
    flags = flags_of(["是", "否", 0, 1, "全勤", 2], "全勤")
    assert flags.values[:5].tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert "是/否" in flags.errors[5].zh
    assert len(broadcast(numbers_of(5, "x"), 3, "x")) == 3
    with pytest.raises(KpiError, match="应为 1 行或 3 行"):
        broadcast(numbers_of([1, 2], "x"), 3, "x")


def test_numbers_of_float_column_blank_is_error() -> None:
    column = numbers_of(Column.numeric(np.array([1.0, math.nan])), ("得分", "score"))
    assert "为空" in column.errors[1].zh and "score" in column.errors[1].en
