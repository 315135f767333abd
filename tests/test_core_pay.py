"""Pay schemes with hand-worked numbers from the seed catalogue (S1, S2, S5, S6, S7, §16)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from kpi_xl.core.errors import KpiError, NoTierMatch, RuleError
from kpi_xl.core.money import MoneyColumn
from kpi_xl.core.pay import (
    FLAG_MINIMUM_WAGE,
    FLAG_OVER_20,
    apply_wage_law,
    pay_commission,
    pay_grade_coefficient,
    pay_pro_rata,
    pay_split,
    taobao_pay,
)

D = Decimal


def amounts(column: MoneyColumn) -> list[object]:
    return column.cells()


# ---------------------------------------------------------------- S7 80/20

def test_s7_split() -> None:
    result = pay_split([5000, 5000, 5000, 5000], [0.9, 85, 1, 0])
    assert amounts(result) == [
        D("4900.00"),  # 5000×80% + 5000×20%×0.9 = 4000 + 900
        D("4850.00"),  # score 85 → 0.85: 4000 + 1000×0.85 = 4850
        D("5000.00"),  # coefficient 1 is 1, not 1 point: 4000 + 1000
        D("4000.00"),  # 4000 + 0
    ]


def test_s7_rounds_once_half_up() -> None:
    # 4321.37×0.8 = 3457.096; 4321.37×0.2×0.777 = 671.540898; sum 4128.636898 → 4128.64
    assert amounts(pay_split(4321.37, 0.777)) == [D("4128.64")]
    # 0.5×0.8 + 0.5×0.2×0.05 = 0.4 + 0.005 = 0.405 → 0.41 (half-up, exact in decimal)
    assert amounts(pay_split(0.5, 0.05)) == [D("0.41")]


def test_s7_fixed_share_parameter() -> None:
    # 70%: 5000×0.7 + 5000×0.3×0.9 = 3500 + 1350 = 4850; "80%" and 80 mean 0.8
    assert amounts(pay_split(5000, 0.9, 0.7)) == [D("4850.00")]
    assert amounts(pay_split(5000, 0.9, "80%")) == [D("4900.00")]
    assert amounts(pay_split(5000, 0.9, 80)) == [D("4900.00")]
    with pytest.raises(RuleError):
        pay_split(5000, 0.9, 120)


def test_s7_errors() -> None:
    result = pay_split([5000, 5000, None, -1, 5000], [1.5, "#N/A", 0.9, 0.9, "abc"])
    errors = result.errors
    assert "含义不明" in errors[0].zh  # 1.5: coefficient above 1 or a score of 1.5?
    assert errors[1].code == "#N/A"
    assert "为空" in errors[2].zh
    assert "不能为负数" in errors[3].zh
    assert "应为数字" in errors[4].zh
    assert all(a is None for a in result.amounts)
    assert all(math.isnan(v) for v in result.to_column().values)


def test_length_mismatch() -> None:
    with pytest.raises(KpiError, match="行数不一致"):
        pay_split([1, 2, 3], [0.5, 0.5])


# ---------------------------------------------------------------- S2 grade × Q

def test_s2_grade_coefficient() -> None:
    result = pay_grade_coefficient(3000, ["A", "B", "C", "D", "E", "a", "Ｂ"])
    assert amounts(result) == [
        D("3600.00"),  # 3000 × 1.2
        D("3000.00"),  # 3000 × 1
        D("2400.00"),  # 3000 × 0.8
        D("1500.00"),  # 3000 × 0.5
        D("0.00"),  # 3000 × 0
        D("3600.00"),  # lower-case a = A
        D("3000.00"),  # full-width Ｂ = B
    ]


def test_s2_custom_table_and_unknown_grade() -> None:
    table = {"优秀": 1.2, "胜任": 1, "良好": 0.8}
    result = pay_grade_coefficient([2500, 2500, 2500], ["优秀", "差级", None], table)
    assert result.cells()[0] == D("3000.00")  # 2500 × 1.2
    assert isinstance(result.errors[1], NoTierMatch)
    assert result.errors[1].code == "#N/A"
    assert "差级" in result.errors[1].zh and "优秀, 胜任, 良好" in result.errors[1].zh
    assert "为空" in result.errors[2].zh


# ---------------------------------------------------------------- S5 commission

def test_s5_commission() -> None:
    result = pay_commission([100000, 250000, 80000], ["6‰", 0.004, "1‰"], [85, 92.5, 100])
    assert amounts(result) == [
        D("510.00"),  # 100000 × 0.006 × 85/100
        D("925.00"),  # 250000 × 0.004 × 92.5/100
        D("80.00"),  # 80000 × 0.001 × 100/100
    ]


def test_s5_commission_errors() -> None:
    result = pay_commission([100000, -5, 100], [6, 0.006, 0.006], [85, 85, -1])
    assert "大于 100%" in result.errors[0].zh  # 6 instead of 6‰
    assert "不能为负数" in result.errors[1].zh
    assert "不能为负数" in result.errors[2].zh


# ---------------------------------------------------------------- S6 pro rata

def test_s6_pro_rata() -> None:
    result = pay_pro_rata(2000, [91, 90.99, 130, 117, 100, 135])
    assert amounts(result) == [
        D("1400.00"),  # at the bar 70%×130 = 91: 2000 × 91/130
        D("0.00"),  # below the bar → no KPI bonus
        D("2000.00"),  # 2000 × 130/130
        D("1800.00"),  # 2000 × 117/130
        D("1538.46"),  # 2000 × 100/130 = 1538.4615…
        D("2076.92"),  # additions above 总分: 2000 × 135/130 = 2076.923… (no cap)
    ]


def test_s6_parameters() -> None:
    # threshold 60% of 100 = 60; bonus column per row
    result = pay_pro_rata([1000, 1000], [59, 60], full_score=100, threshold="60%")
    assert amounts(result) == [D("0.00"), D("600.00")]
    with pytest.raises(RuleError):
        pay_pro_rata(1000, 50, full_score=0)


# ---------------------------------------------------------------- S1 taobao

def test_s1_pay_lines() -> None:
    # one team, sales 50000/30000/20000 = 100000 vs plan 40000+30000+20000 = 90000:
    # excess 10000 × 1% = 100.00, split by sales share 50% / 30% / 20% → 50 / 30 / 20
    result = taobao_pay(
        grades=["高级客服", "中级客服", "不合格"],
        full_attendance=[True, "否", 1],
        teams=["T1", "T1", "T1"],
        sales=[50000, 30000, 20000],
        planned_sales=[40000, 30000, 20000],
    )
    assert amounts(result.salary) == [D("1280.00")] * 3
    assert amounts(result.post_bonus) == [D("400.00"), D("200.00"), D("0.00")]
    assert amounts(result.meal) == [D("150.00")] * 3
    assert amounts(result.attendance) == [D("100.00"), D("0.00"), D("100.00")]
    assert amounts(result.team_bonus) == [D("50.00"), D("30.00"), D("20.00")]
    assert amounts(result.total) == [
        D("1980.00"),  # 1280 + 400 + 150 + 100 + 50
        D("1660.00"),  # 1280 + 200 + 150 + 0 + 30
        D("1550.00"),  # 1280 + 0 + 150 + 100 + 20: below 70 → no 岗位奖金, still team share
    ]
    assert result.team_pools == {"T1": D("100.00")}


def test_s1_team_bonus_exact_to_the_fen_and_per_team() -> None:
    # T1: 33333+33333+33334 = 100000 − target 90000 = 10000 × 1% = 100.00 → quotas 33.3333,
    #     33.3333, 33.334 → 33.33 / 33.33 / 33.34 (largest remainder; sums to 100.00)
    # T2: 40000 below its target 50000 → pool 0
    result = taobao_pay(
        grades=["初级客服"] * 5,
        full_attendance=[1] * 5,
        teams=["T1", "T1", "T2", "T1", "T2"],
        sales=[33333, 33333, 20000, 33334, 20000],
        team_targets={"T1": 90000, "T2": 50000},
    )
    assert amounts(result.team_bonus) == [D("33.33"), D("33.33"), D("0.00"), D("33.34"),
                                          D("0.00")]
    assert result.team_pools == {"T1": D("100.00"), "T2": D("0.00")}
    assert result.total.cells()[0] == D("1563.33")  # 1280 + 0 + 150 + 100 + 33.33


def test_s1_parameters_edited_by_hr() -> None:
    result = taobao_pay(["高级"], ["全勤"], ["T"], [120000], [100000], salary=1500,
                        post_bonus={"高级": 500}, meal_allowance=200, attendance_bonus=50,
                        excess_rate="2%")
    # 1500 + 500 + 200 + 50 + (120000 − 100000) × 2% = 400 → 2650
    assert amounts(result.total) == [D("2650.00")]


def test_s1_errors() -> None:
    result = taobao_pay(
        grades=["高级客服", "特级", "中级客服", "初级客服"],
        full_attendance=[1, 1, None, 1],
        teams=["T1", "T1", "T2", "T2"],
        sales=[50000, 30000, "#DIV/0!", 10000],
        planned_sales=[40000, 30000, 20000, 10000],
    )
    # T1 unaffected: (50000+30000) − (40000+30000) = 10000 × 1% = 100 → 100 × 5/8 = 62.50;
    # 1280 + 400 + 150 + 100 + 62.50 = 1992.50
    assert result.total.cells()[0] == D("1992.50")
    assert isinstance(result.post_bonus.errors[1], NoTierMatch)
    assert result.total.errors[1] is result.post_bonus.errors[1]
    assert "为空" in result.attendance.errors[2].zh
    assert result.team_bonus.errors[2].code == "#DIV/0!"
    # the team mate of a bad sales cell: the team total is unknown → error naming the row
    assert "第3行" in result.team_bonus.errors[3].zh
    assert isinstance(result.team_pools["T2"], KpiError)
    with_no_target = taobao_pay(["高级客服"], [1], ["T"], [1000])
    assert "没有团队目标" in with_no_target.team_bonus.errors[0].zh


# ---------------------------------------------------------------- the law

def test_wage_law() -> None:
    gross = [3000, 3000, 2000, 1500, 5000, 3000]
    loss = [1000, 100, 500, 0, None, 600]
    net, deduction, flags = apply_wage_law(gross, loss, minimum_wage=1800)
    assert amounts(deduction) == [
        D("600.00"),  # 1000 asked, capped at 20% × 3000 = 600
        D("100.00"),  # under the cap
        D("200.00"),  # cap 400 → 1600 < 1800 minimum → deduct only 2000 − 1800 = 200
        D("0.00"),  # gross already below the minimum: no deduction
        D("0.00"),  # blank deduction = none
        D("600.00"),  # exactly 20%: not flagged
    ]
    assert amounts(net) == [D("2400.00"), D("2900.00"), D("1800.00"), D("1500.00"),
                            D("5000.00"), D("2400.00")]
    assert flags.tolist() == [
        FLAG_OVER_20, "", f"{FLAG_OVER_20}; {FLAG_MINIMUM_WAGE}", FLAG_MINIMUM_WAGE, "", ""]


def test_the_20_percent_cap_rounds_down_so_it_is_never_exceeded() -> None:
    # 20% × 4156.33 = 831.266: half-up would deduct 831.27, 0.004 元 over the legal cap
    net, deduction, flags = apply_wage_law([4156.33, 4156.35], [1000, 1000])
    assert amounts(deduction) == [D("831.26"), D("831.27")]  # 831.27 is exactly 20% there
    assert amounts(net) == [D("3325.07"), D("3325.08")]
    assert flags.tolist() == [FLAG_OVER_20, FLAG_OVER_20]


def test_wage_law_without_minimum_and_errors() -> None:
    gross = MoneyColumn.of([D("4000.00"), D("100.00")])
    net, deduction, flags = apply_wage_law(gross, [900, -1])
    assert net.cells()[0] == D("3200.00")  # cap 800
    assert flags[0] == FLAG_OVER_20
    assert "不能为负数" in net.errors[1].zh
    assert deduction.errors[1] is net.errors[1]


def test_float_views() -> None:
    column = pay_split([5000, None], [0.9, 0.9]).to_column()
    assert column.values[0] == 4900.0
    assert math.isnan(column.values[1])
    assert isinstance(column.values, np.ndarray)
