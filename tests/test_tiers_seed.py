"""Every S1 tier table of the seed, at and on both sides of every boundary (hand-worked)."""

import math

import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.functions import kpi_explain, kpi_grade, kpi_tier
from tests import seed_rules as R


def tier(value: object, rule: str) -> object:
    cell = kpi_tier(value, rule)[0, 0]
    if isinstance(cell, KpiError):
        raise cell
    return cell


@pytest.mark.parametrize(
    ("rule", "value", "points"),
    [
        # 成交额完成度 X: ≥100%:100; [90,100):85; … [40,50):10; <40%:0
        (R.S1_SALES_COMPLETION, 1.5, 100),
        (R.S1_SALES_COMPLETION, 1.0, 100),
        (R.S1_SALES_COMPLETION, 0.9999, 85),
        (R.S1_SALES_COMPLETION, 0.9, 85),
        (R.S1_SALES_COMPLETION, 0.8999, 70),
        (R.S1_SALES_COMPLETION, 0.8, 70),
        (R.S1_SALES_COMPLETION, 0.7999, 55),
        (R.S1_SALES_COMPLETION, 0.7, 55),
        (R.S1_SALES_COMPLETION, 0.6999, 40),
        (R.S1_SALES_COMPLETION, 0.6, 40),
        (R.S1_SALES_COMPLETION, 0.5999, 25),
        (R.S1_SALES_COMPLETION, 0.5, 25),
        (R.S1_SALES_COMPLETION, 0.4999, 10),
        (R.S1_SALES_COMPLETION, 0.4, 10),
        (R.S1_SALES_COMPLETION, 0.3999, 0),
        (R.S1_SALES_COMPLETION, 0.0, 0),
        # 询单转化率 Y
        (R.S1_CONVERSION, 0.5, 100),
        (R.S1_CONVERSION, 0.4999, 80),
        (R.S1_CONVERSION, 0.45, 80),
        (R.S1_CONVERSION, 0.4499, 60),
        (R.S1_CONVERSION, 0.4, 60),
        (R.S1_CONVERSION, 0.3999, 0),
        # 客单价 M (元)
        (R.S1_TICKET, 250, 100),
        (R.S1_TICKET, 249.99, 80),
        (R.S1_TICKET, 230, 80),
        (R.S1_TICKET, 229.99, 60),
        (R.S1_TICKET, 210, 60),
        (R.S1_TICKET, 209.99, 0),
        # 旺旺回复率 Z
        (R.S1_REPLY_RATE, 1.0, 100),
        (R.S1_REPLY_RATE, 0.98, 100),
        (R.S1_REPLY_RATE, 0.9799, 80),
        (R.S1_REPLY_RATE, 0.95, 80),
        (R.S1_REPLY_RATE, 0.9499, 60),
        (R.S1_REPLY_RATE, 0.92, 60),
        (R.S1_REPLY_RATE, 0.9199, 0),
        # 旺旺响应时间 N ↓ (lower is better; the upper bound is inclusive)
        (R.S1_RESPONSE_TIME, 0, 100),
        (R.S1_RESPONSE_TIME, 30, 100),
        (R.S1_RESPONSE_TIME, 30.01, 80),
        (R.S1_RESPONSE_TIME, 45, 80),
        (R.S1_RESPONSE_TIME, 45.01, 60),
        (R.S1_RESPONSE_TIME, 55, 60),
        (R.S1_RESPONSE_TIME, 55.01, 0),
        # 协助跟进服务 P (4W = 40,000 元)
        (R.S1_FOLLOW_UP, 40000, 100),
        (R.S1_FOLLOW_UP, 39999.99, 80),
        (R.S1_FOLLOW_UP, 30000, 80),
        (R.S1_FOLLOW_UP, 29999.99, 60),
        (R.S1_FOLLOW_UP, 20000, 60),
        (R.S1_FOLLOW_UP, 19999.99, 0),
        # 执行力 Q: supervisor's word
        (R.S1_EXECUTION, "非常满意", 100),
        (R.S1_EXECUTION, "比较满意", 90),
        (R.S1_EXECUTION, "一般", 60),
        (R.S1_EXECUTION, "不满意", 0),
        # 满意度 W (the catalogue's editable default)
        (R.S1_SATISFACTION, 0.95, 100),
        (R.S1_SATISFACTION, 0.9499, 80),
        (R.S1_SATISFACTION, 0.9, 80),
        (R.S1_SATISFACTION, 0.8999, 60),
        (R.S1_SATISFACTION, 0.85, 60),
        (R.S1_SATISFACTION, 0.8499, 0),
        # S5 提点比例 by 咨询转化率 (‰)
        (R.S5_COMMISSION, 0.6, 0.006),
        (R.S5_COMMISSION, 0.5999, 0.004),
        (R.S5_COMMISSION, 0.55, 0.004),
        (R.S5_COMMISSION, 0.5, 0.003),
        (R.S5_COMMISSION, 0.4999, 0.002),
        (R.S5_COMMISSION, 0.4, 0.002),
        (R.S5_COMMISSION, 0.3999, 0.001),
        # S2 grade coefficients
        (R.S2_COEFFICIENTS, "A", 1.2),
        (R.S2_COEFFICIENTS, "C", 0.8),
        (R.S2_COEFFICIENTS, "E", 0),
    ],
)
def test_seed_tiers(rule: str, value: object, points: float) -> None:
    assert math.isclose(tier(value, rule), points, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "高级客服"),
        (90, "高级客服"),
        (89.99, "中级客服"),
        (80, "中级客服"),
        (79.99, "初级客服"),
        (70, "初级客服"),
        (69.99, "不合格"),
        (0, "不合格"),
    ],
)
def test_s1_grades(score: float, grade: str) -> None:
    assert kpi_grade(score, R.S1_GRADES)[0, 0] == grade


def test_grade_above_the_top_band_is_an_error_not_a_grade() -> None:
    cell = kpi_grade(100.5, R.S1_GRADES)[0, 0]
    assert isinstance(cell, KpiError) and cell.code == "#N/A"
    assert "100.5" in str(cell)


def test_range_in_range_out_keeps_shape() -> None:
    values = [[0.5], [0.47], [0.41], [0.2]]
    grid = kpi_tier(values, R.S1_CONVERSION)
    assert grid.shape == (4, 1)
    assert grid.ravel().tolist() == [100, 80, 60, 0]


def test_explain_names_value_tier_and_result() -> None:
    rule = "≥50%:100; [45%,50%):80; <45%:0"
    assert kpi_explain(0.47, rule)[0, 0] == "47% ∈ [45%,50%) → 80"
    assert kpi_explain(0.5, rule)[0, 0] == "50% ≥ 50% → 100"
    assert kpi_explain(30, R.S1_RESPONSE_TIME)[0, 0] == "30 ≤ 30s → 100"
    assert kpi_explain("一般", R.S1_EXECUTION)[0, 0] == "一般 = 一般 → 60"


def test_rule_as_two_column_range_ends_at_blank_row() -> None:
    rows = [["≥50%", 100], ["[45%,50%)", 80], ["<45%", 0], [None, None], ["junk", "x"]]
    assert kpi_tier([[0.47], [0.46], [0.1]], rows).ravel().tolist() == [80, 80, 0]
