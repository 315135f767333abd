"""KPI_SCORE, KPI_PAY, KPI_DEDUCT, KPI_POOL and KPI_SHARE as HR calls them (hand-worked)."""

from decimal import Decimal

import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.functions import kpi_deduct, kpi_pay, kpi_pool, kpi_rate, kpi_score, kpi_share
from tests import seed_rules as R

S1_WEIGHTS = [[0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.1, 0.1]]


def cells(grid) -> list[object]:
    return grid.ravel().tolist()


def test_s1_weighted_total_with_a_bad_review() -> None:
    # X 85×30% = 25.5, Y 80×20% = 16, M 100×10% = 10, Z 80×10% = 8, N 60×5% = 3,
    # P 100×5% = 5, Q 90×10% = 9, W 80×10% = 8 → 84.5; one 差评 −50 → 34.5
    points = [[85, 80, 100, 80, 60, 100, 90, 80]]
    assert cells(kpi_score(points, S1_WEIGHTS)) == [84.5]
    assert cells(kpi_score(points, S1_WEIGHTS, [[-50]])) == [34.5]
    # two 差评 (−100) would go below zero: the total floors at 0
    assert cells(kpi_score(points, S1_WEIGHTS, [[-100]])) == [0]


def test_weights_not_totalling_100_percent_say_what_they_total() -> None:
    cell = kpi_score([[100, 100]], [[0.5, 0.45]])[0, 0]
    assert isinstance(cell, KpiError)
    assert "权重合计 95%, 应为 100%" in str(cell)


def test_s7_split_80_20() -> None:
    # 目标工资 5000: 5000×80% + 5000×20%×0.9 = 4000 + 900 = 4900
    assert cells(kpi_pay("80/20", 5000, 0.9)) == [4900]
    # a score of 75 is read as 0.75: 4000 + 750 = 4750
    assert cells(kpi_pay("80/20", 5000, 75)) == [4750]


def test_s2_grade_coefficient_times_q() -> None:
    # Q = 3000: A 1.2 → 3600, B 1 → 3000, C 0.8 → 2400, D 0.5 → 1500, E 0 → 0
    grades = [["A"], ["B"], ["C"], ["D"], ["E"]]
    assert cells(kpi_pay("等级系数", 3000, grades, R.S2_COEFFICIENTS)) == [3600, 3000, 2400,
                                                                           1500, 0]


def test_s5_commission_by_conversion_and_score() -> None:
    # 成交 120,000 at 58% conversion → 4‰; score 92: 120000 × 0.004 × 0.92 = 441.60
    # 成交 80,000 at 35% → 1‰; score 70: 80000 × 0.001 × 0.70 = 56.00
    result = kpi_pay("提成", [[120000], [80000]], [[92], [70]], R.S5_COMMISSION,
                     [[0.58], [0.35]])
    assert cells(result) == [441.6, 56.0]


def test_s6_bonus_by_score_with_threshold() -> None:
    # 总奖金 2600, 总分 130: 117 → 2600×117/130 = 2340; 91 (= 70% of 130) → 1820; 90 → 0
    result = kpi_pay("按分", 2600, [[117], [91], [90]], 130, "70%")
    assert cells(result) == [2340, 1820, 0]


def test_unknown_scheme_is_an_error() -> None:
    cell = kpi_pay("提点", 1, 1)[0, 0]
    assert isinstance(cell, KpiError) and "80/20、等级系数、提成 或 按分" in str(cell)


def test_s3_deductions() -> None:
    # handovers: 2 a month free, then −3 each: 0,2 → 0; 3 → −3; 5 → −9
    assert cells(kpi_deduct([[0], [2], [3], [5]], "免2次; 每次-3")) == [0, 0, -3, -9]
    # late within 15 min −1 each; a cumulative 3 counts 15 each: 2 → −2; 3 → −45
    assert cells(kpi_deduct([[2], [3]], "每次-1; 满3次每次-15")) == [-2, -45]


def test_s3_pool_first_40_plus_200_second_30_plus_100_rest_split_30() -> None:
    # pool 6‰ of 500,000 = 3000: first 1200+200, second 900+100, three others 900/3 each
    scores = [[95], [90], [85], [80], [80]]
    sales = [[1], [2], [3], [5], [4]]
    amounts = [Decimal(str(v)) for v in cells(kpi_pool(3000, scores, sales))]
    assert amounts == [1400, 1000, 300, 300, 300]
    assert sum(amounts) == 3000 + 300  # the % parts are the pool; 200 + 100 fixed on top


def test_pool_tie_broken_by_sales() -> None:
    # equal scores 90/90: the one with more sales ranks first
    result = cells(kpi_pool(1000, [[90], [90], [70]], [[100], [200], [50]]))
    assert result == [400, 600, 300]  # first 40%+200=600, second 30%+100=400, rest 30%


@pytest.mark.parametrize("pool", [0.01, 1, 99.99, 3000, 12345.67])
def test_share_sums_to_the_total_to_the_fen(pool: float) -> None:
    parts = [Decimal(str(v)) for v in cells(kpi_share(pool, [[3], [3], [3], [1]]))]
    assert sum(parts) == Decimal(str(pool))


def test_rate_from_counts_when_the_ready_rate_is_one_blank_cell() -> None:
    # a blank ready-rate cell next to two rows of counts: 10/20 = 0.5, 20/20 = 1
    assert cells(kpi_rate("", [[10.0], [20.0]], [[20.0], [20.0]])) == [0.5, 1.0]
    # a ready rate wins over counts; a zero denominator is #DIV/0! with a message
    result = kpi_rate([[0.9], [None]], [[1], [3]], [[2], [0]])
    assert result[0, 0] == 0.9
    assert isinstance(result[1, 0], KpiError) and result[1, 0].code == "#DIV/0!"


def test_unused_rows_of_a_column_range_stay_blank_and_out_of_the_split() -> None:
    # a template's KPI_POOL covers 200 rows; rows without an agent score "" and get ""
    result = cells(kpi_pool(3000, [[95], [""], [90], [None], [85]], [[1], [""], [2], [None], [3]]))
    assert result == [1400, "", 1000, "", 900]  # one "rest" agent takes the whole 30%
    parts = cells(kpi_share(100, [[1], [None], [1]], [["A"], [None], ["A"]]))
    assert parts == [50, "", 50]
