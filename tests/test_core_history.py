"""Multi-month rules: S1 elimination, S3 promotion, 电销 three D months, S5 quarters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.core.history import (
    BASIS,
    FLAG,
    MONTHS_ON_RECORD,
    PRIZE,
    QUARTER_SCORE,
    RANK,
    elimination_flags,
    month_number,
    month_text,
    promotion_flags,
    quarter_due,
    quarter_of,
    quarter_prizes,
    quarter_sums,
    run_flags,
    telesales_elimination_flags,
)

D = Decimal


def history(rows: list[tuple[str, str, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["月份", "工号", "得分", "等级"])


S1 = history([
    ("2024-01", "A", 65, "不合格"),
    ("2024-02", "A", 80, "中级客服"),
    ("2024-03", "A", 68, "不合格"),
    ("2024-01", "B", 70, "初级客服"),  # exactly 70 is not below 70
    ("2024-02", "B", 90, "高级客服"),
    ("2024-03", "B", 91, "高级客服"),
    ("2024-02", "C", 69.5, "不合格"),
    ("2024-03", "C", 95, "高级客服"),
])


def test_s1_two_months_below_70() -> None:
    result = elimination_flags(S1, "2024-03")
    assert result.loc["A", FLAG] == "淘汰"  # 65 in 01 and 68 in 03 (need not be consecutive)
    assert result.loc["A", BASIS] == "2024-01 65分; 2024-03 68分"
    assert result.loc["B", FLAG] == ""  # 70 is not below 70
    assert result.loc["C", FLAG] == "淘汰预警"  # one month below 70 so far
    assert result.loc["C", BASIS] == "2024-02 69.5分"


def test_s1_state_as_of_each_month() -> None:
    assert elimination_flags(S1, "2024-01").loc["A", FLAG] == "淘汰预警"
    assert elimination_flags(S1, "2024-02").loc["A", FLAG] == "淘汰预警"  # warning stays
    assert list(elimination_flags(S1, "2024-01").index) == ["A", "B"]  # C has no January row


def test_s1_window() -> None:
    # window 2 at 2024-03 = 02..03: A has only 68 (03) → 淘汰预警
    result = elimination_flags(S1, "2024-03", window=2)
    assert result.loc["A", FLAG] == "淘汰预警"
    assert result.loc["C", FLAG] == "淘汰预警"
    result = elimination_flags(S1, "2024-03", window=1)
    assert result.loc["C", FLAG] == ""


def test_s1_later_months_are_not_seen() -> None:
    later = pd.concat([S1, history([("2024-04", "B", 50, "不合格")])])
    assert elimination_flags(later, "2024-03").loc["B", FLAG] == ""
    assert elimination_flags(later, "2024-04").loc["B", FLAG] == "淘汰预警"


def test_s3_promotion_three_consecutive_months() -> None:
    rows = history([
        ("2024-01", "A", 85, "中级客服"),
        ("2024-02", "A", 92, "高级客服"),  # 中级 or 高级 both count
        ("2024-03", "A", 88, "中级客服"),
        ("2024-01", "B", 85, "中级客服"),
        ("2024-03", "B", 85, "中级客服"),  # February missing: the gap breaks the run
        ("2024-04", "B", 85, "中级客服"),
        ("2024-05", "B", 85, "中级客服"),
        ("2024-03", "C", 75, "初级客服"),
    ])
    march = promotion_flags(rows, "2024-03")
    assert march.loc["A", FLAG] == "晋升"
    assert march.loc["A", BASIS] == "2024-01–2024-03"
    assert march.loc["B", FLAG] == ""
    assert march.loc["C", FLAG] == ""
    assert promotion_flags(rows, "2024-04").loc["B", FLAG] == ""  # 02 missing
    assert promotion_flags(rows, "2024-05").loc["B", FLAG] == "晋升"  # 03, 04, 05


def test_telesales_three_d_months() -> None:
    rows = history([
        ("2023-11", "T1", 50, "D"),
        ("2023-12", "T1", 55, "d"),  # grades compare case-insensitively
        ("2024-01", "T1", 58, "D"),  # across the year boundary: 11, 12, 01 consecutive
        ("2023-11", "T2", 50, "D"),
        ("2023-12", "T2", 65, "C"),
        ("2024-01", "T2", 50, "D"),
    ])
    result = telesales_elimination_flags(rows, "2024-01")
    assert result.loc["T1", FLAG] == "淘汰"
    assert result.loc["T2", FLAG] == ""


def test_run_flags_custom() -> None:
    rows = history([("2024-01", "A", 0, "金牌"), ("2024-02", "A", 0, "金牌")])
    assert run_flags(rows, "2024-02", grades=["金牌"], months=2, flag="表彰").loc["A", FLAG] \
        == "表彰"


def test_bad_rows_give_errors_not_silence() -> None:
    rows = history([
        ("2024-01", "A", "缺考", "中级"),
        ("2024-02", "A", 80, "中级"),
        ("2024-02", "B", 80, None),
        ("2024-01", "C", 60, "初级"),
        ("2024-01", "C", 65, "初级"),  # duplicate month
        ("2024-02", "C", 80, "中级"),
        ("2024-13", "D", 80, "中级"),  # bad month
        ("2024-02", "D", 80, "中级"),
        (None, None, None, None),  # a blank row at the end of the table is ignored
    ])
    result = elimination_flags(rows, "2024-02")
    assert isinstance(result.loc["A", FLAG], KpiError)
    assert "缺考" in result.loc["A", FLAG].zh
    assert result.loc["B", FLAG] == ""  # B's blank grade does not matter for scores
    assert "多行记录" in result.loc["C", FLAG].zh
    assert "YYYY-MM" in result.loc["D", FLAG].zh
    promoted = promotion_flags(rows, "2024-02", months=1)
    assert "为空" in promoted.loc["B", FLAG].zh
    assert promoted.loc["A", FLAG] == "晋升"  # A's bad score does not matter for grades


def test_table_problems() -> None:
    with pytest.raises(KpiError, match="缺少列"):
        elimination_flags(pd.DataFrame({"月份": [], "工号": []}), "2024-01")
    with pytest.raises(KpiError, match="没有 2025-01"):
        elimination_flags(S1, "2025-01")
    with pytest.raises(KpiError, match="工号"):
        elimination_flags(history([("2024-01", None, 80, "A")]), "2024-01")


@pytest.mark.parametrize(
    "text", ["2024-03", "2024-3", "2024/03", "2024.3", "2024年3月", "202403", "２０２４－０３",
             dt.date(2024, 3, 15), pd.Timestamp("2024-03-01")])
def test_month_forms(text: object) -> None:
    assert month_number(text) == 2024 * 12 + 2
    assert month_text(month_number(text)) == "2024-03"


@pytest.mark.parametrize("text", ["2024-13", "March", "", None, "24-03"])
def test_bad_months(text: object) -> None:
    with pytest.raises(KpiError, match="YYYY-MM"):
        month_number(text)


def test_quarters() -> None:
    assert quarter_of("2024-05") == "2024Q2"
    assert quarter_of("2024-12") == "2024Q4"
    assert quarter_due("2024-04") == "2024Q1"  # paid in the first month of the next quarter
    assert quarter_due("2024-01") == "2023Q4"
    assert quarter_due("2024-05") is None


S5 = history([
    ("2024-01", "A", 90, ""), ("2024-02", "A", 85, ""), ("2024-03", "A", 95, ""),  # 270
    ("2024-01", "B", 80, ""), ("2024-02", "B", 85, ""), ("2024-03", "B", 90, ""),  # 255
    ("2024-01", "C", 88, ""), ("2024-02", "C", 92, ""), ("2024-03", "C", 80, ""),  # 260
    ("2024-01", "D", 70, ""), ("2024-02", "D", 75, ""), ("2024-03", "D", 70, ""),  # 215
    ("2024-02", "E", 99, ""),  # 99, one month on record
    ("2024-04", "A", 100, ""),  # next quarter: not counted
])


def test_s5_quarter_sums_and_prizes() -> None:
    sums = quarter_sums(S5, "2024Q1")
    assert sums[QUARTER_SCORE].tolist() == [270, 255, 260, 215, 99]
    assert sums[MONTHS_ON_RECORD].tolist() == [3, 3, 3, 3, 1]
    prizes = quarter_prizes(S5, "2024年第一季度")
    # A 270 → 800; C 260 → 600; B 255 → 300; D and E → 0
    assert prizes[PRIZE].tolist() == [D("800"), D("300"), D("600"), D("0"), D("0")]
    assert prizes[RANK].tolist() == [1, 3, 2, 4, 5]
    assert quarter_sums(S5, "2024-02").equals(sums)  # a month names its quarter


def test_s5_quarter_error_excluded() -> None:
    rows = pd.concat([S5, history([("2024-03", "E", "#N/A", "")])])
    prizes = quarter_prizes(rows, "2024Q1")
    assert prizes.loc["E", PRIZE].code == "#N/A"
    assert prizes.loc["E", RANK].code == "#N/A"
    assert prizes.loc["A", PRIZE] == D("800")
    with pytest.raises(KpiError, match="没有 2023Q1"):
        quarter_sums(S5, "2023Q1")
