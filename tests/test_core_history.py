"""Multi-month rules: S1 elimination, S3 promotion, 电销 three D months, S5 quarters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_xl.core.errors import KpiError
from kpi_xl.core.history import (
    Flag,
    Flags,
    History,
    QuarterPrizes,
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
Row = tuple[object, object, object, object]


def by_agent(result: Flags) -> dict[str, Flag]:
    return {verdict.agent: verdict for verdict in result}


S1_ROWS: list[Row] = [
    ("2024-01", "A", 65, "不合格"),
    ("2024-02", "A", 80, "中级客服"),
    ("2024-03", "A", 68, "不合格"),
    ("2024-01", "B", 70, "初级客服"),  # exactly 70 is not below 70
    ("2024-02", "B", 90, "高级客服"),
    ("2024-03", "B", 91, "高级客服"),
    ("2024-02", "C", 69.5, "不合格"),
    ("2024-03", "C", 95, "高级客服"),
]
S1 = History.from_rows(S1_ROWS)


def test_s1_two_months_below_70() -> None:
    result = by_agent(elimination_flags(S1, "2024-03"))
    assert result["A"].flag == "淘汰"  # 65 in 01 and 68 in 03 (need not be consecutive)
    assert result["A"].basis == "2024-01 65分; 2024-03 68分"
    assert result["B"].flag == ""  # 70 is not below 70
    assert result["C"].flag == "淘汰预警"  # one month below 70 so far
    assert result["C"].basis == "2024-02 69.5分"


def test_s1_state_as_of_each_month() -> None:
    assert by_agent(elimination_flags(S1, "2024-01"))["A"].flag == "淘汰预警"
    assert by_agent(elimination_flags(S1, "2024-02"))["A"].flag == "淘汰预警"  # warning stays
    assert elimination_flags(S1, "2024-01").agents == ("A", "B")  # C has no January row


def test_s1_window() -> None:
    # window 2 at 2024-03 = 02..03: A has only 68 (03) → 淘汰预警
    result = by_agent(elimination_flags(S1, "2024-03", window=2))
    assert result["A"].flag == "淘汰预警"
    assert result["C"].flag == "淘汰预警"
    result = by_agent(elimination_flags(S1, "2024-03", window=1))
    assert result["C"].flag == ""


def test_s1_later_months_are_not_seen() -> None:
    later = History.from_rows([*S1_ROWS, ("2024-04", "B", 50, "不合格")])
    assert by_agent(elimination_flags(later, "2024-03"))["B"].flag == ""
    assert by_agent(elimination_flags(later, "2024-04"))["B"].flag == "淘汰预警"


def test_s3_promotion_three_consecutive_months() -> None:
    rows = History.from_rows([
        ("2024-01", "A", 85, "中级客服"),
        ("2024-02", "A", 92, "高级客服"),  # 中级 or 高级 both count
        ("2024-03", "A", 88, "中级客服"),
        ("2024-01", "B", 85, "中级客服"),
        ("2024-03", "B", 85, "中级客服"),  # February missing: the gap breaks the run
        ("2024-04", "B", 85, "中级客服"),
        ("2024-05", "B", 85, "中级客服"),
        ("2024-03", "C", 75, "初级客服"),
    ])
    march = by_agent(promotion_flags(rows, "2024-03"))
    assert march["A"].flag == "晋升"
    assert march["A"].basis == "2024-01–2024-03"
    assert march["B"].flag == ""
    assert march["C"].flag == ""
    assert by_agent(promotion_flags(rows, "2024-04"))["B"].flag == ""  # 02 missing
    assert by_agent(promotion_flags(rows, "2024-05"))["B"].flag == "晋升"  # 03, 04, 05


def test_telesales_three_d_months() -> None:
    rows = History.from_rows([
        ("2023-11", "T1", 50, "D"),
        ("2023-12", "T1", 55, "d"),  # grades compare case-insensitively
        ("2024-01", "T1", 58, "D"),  # across the year boundary: 11, 12, 01 consecutive
        ("2023-11", "T2", 50, "D"),
        ("2023-12", "T2", 65, "C"),
        ("2024-01", "T2", 50, "D"),
    ])
    result = by_agent(telesales_elimination_flags(rows, "2024-01"))
    assert result["T1"].flag == "淘汰"
    assert result["T2"].flag == ""


def test_run_flags_custom() -> None:
    rows = History.from_rows([("2024-01", "A", 0, "金牌"), ("2024-02", "A", 0, "金牌")])
    assert by_agent(run_flags(rows, "2024-02", grades=["金牌"], months=2, flag="表彰"))["A"].flag \
        == "表彰"


def test_bad_rows_give_errors_not_silence() -> None:
    rows = History.from_rows([
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
    result = by_agent(elimination_flags(rows, "2024-02"))
    assert isinstance(result["A"].flag, KpiError)
    assert "缺考" in result["A"].flag.zh
    assert result["B"].flag == ""  # B's blank grade does not matter for scores
    assert isinstance(result["C"].flag, KpiError) and "多行记录" in result["C"].flag.zh
    assert isinstance(result["D"].flag, KpiError) and "YYYY-MM" in result["D"].flag.zh
    promoted = by_agent(promotion_flags(rows, "2024-02", months=1))
    assert isinstance(promoted["B"].flag, KpiError) and "为空" in promoted["B"].flag.zh
    assert promoted["A"].flag == "晋升"  # A's bad score does not matter for grades


def test_blank_rows_and_nan() -> None:
    rows = History(months=["2024-01", " ", float("nan"), "2024-01"],
                   agents=["A", None, None, "B"], scores=[80, "", None, float("nan")],
                   grades=["中级", "中级", None, "中级"])
    assert elimination_flags(rows, "2024-01").agents == ("A", "B")  # rows 2, 3: blank
    assert "为空" in by_agent(elimination_flags(rows, "2024-01"))["B"].flag.zh  # NaN: blank
    with pytest.raises(KpiError, match="第2行的工号"):  # row 2 has a grade: not blank for grades
        promotion_flags(rows, "2024-01")


def test_table_problems() -> None:
    with pytest.raises(KpiError, match="缺少列"):
        elimination_flags(History(months=[], agents=[]), "2024-01")
    with pytest.raises(KpiError, match="没有 2025-01"):
        elimination_flags(S1, "2025-01")
    with pytest.raises(KpiError, match="工号"):
        elimination_flags(History.from_rows([("2024-01", None, 80, "A")]), "2024-01")
    with pytest.raises(ValueError, match="differ in length"):
        History(months=["2024-01"], agents=[], scores=[80])


@pytest.mark.parametrize(
    "text", ["2024-03", "2024-3", "2024/03", "2024.3", "2024年3月", "202403", "２０２４－０３",
             dt.date(2024, 3, 15), dt.datetime(2024, 3, 1, 8, 30)])
def test_month_forms(text: object) -> None:
    assert month_number(text) == 2024 * 12 + 2
    assert month_text(month_number(text)) == "2024-03"


def test_month_of_a_pandas_timestamp() -> None:
    pd = pytest.importorskip("pandas")  # a Timestamp is a datetime
    assert month_number(pd.Timestamp("2024-03-01")) == 2024 * 12 + 2


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


S5_ROWS: list[Row] = [
    ("2024-01", "A", 90, ""), ("2024-02", "A", 85, ""), ("2024-03", "A", 95, ""),  # 270
    ("2024-01", "B", 80, ""), ("2024-02", "B", 85, ""), ("2024-03", "B", 90, ""),  # 255
    ("2024-01", "C", 88, ""), ("2024-02", "C", 92, ""), ("2024-03", "C", 80, ""),  # 260
    ("2024-01", "D", 70, ""), ("2024-02", "D", 75, ""), ("2024-03", "D", 70, ""),  # 215
    ("2024-02", "E", 99, ""),  # 99, one month on record
    ("2024-04", "A", 100, ""),  # next quarter: not counted
]
S5 = History.from_rows(S5_ROWS)


def test_s5_quarter_sums_and_prizes() -> None:
    sums = quarter_sums(S5, "2024Q1")
    assert sums.agents == ("A", "B", "C", "D", "E")
    assert sums.scores == (270, 255, 260, 215, 99)
    assert sums.months == (3, 3, 3, 3, 1)
    prizes = quarter_prizes(S5, "2024年第一季度")
    # A 270 → 800; C 260 → 600; B 255 → 300; D and E → 0
    assert prizes.prizes == (D("800"), D("300"), D("600"), D("0"), D("0"))
    assert prizes.ranks == (1, 3, 2, 4, 5)
    assert quarter_sums(S5, "2024-02") == sums  # a month names its quarter


def prize_of(prizes: QuarterPrizes, agent: str) -> tuple[int | KpiError, Decimal | KpiError]:
    index = prizes.agents.index(agent)
    return prizes.ranks[index], prizes.prizes[index]


def test_s5_quarter_error_excluded() -> None:
    rows = History.from_rows([*S5_ROWS, ("2024-03", "E", "#N/A", "")])
    prizes = quarter_prizes(rows, "2024Q1")
    rank, prize = prize_of(prizes, "E")
    assert isinstance(prize, KpiError) and prize.code == "#N/A"
    assert isinstance(rank, KpiError) and rank.code == "#N/A"
    assert prize_of(prizes, "A")[1] == D("800")
    with pytest.raises(KpiError, match="没有 2023Q1"):
        quarter_sums(S5, "2023Q1")


def test_s5_ties_share_the_prizes() -> None:
    rows = History.from_rows([("2024-01", "A", 90, ""), ("2024-01", "B", 95, ""),
                              ("2024-01", "C", 95, ""), ("2024-02", "A", 5, "")])
    prizes = quarter_prizes(rows, "2024Q1")
    assert prizes.ranks == (1, 1, 1)  # 95 each
    assert prizes.prizes == (D("566.67"), D("566.67"), D("566.66"))  # (800+600+300) / 3


# ------------------------------------------------------- vectorised = row by row, for any table

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
rows_strategy = st.lists(
    st.tuples(st.sampled_from([*MONTHS, "2024-13"]), st.sampled_from(["A", "B", "C", "D"]),
              st.sampled_from([50, 65, 69.5, 70, 85, "缺考"]),
              st.sampled_from(["中级", "高级", "初级", None])),
    min_size=1, max_size=30)


def considered_rows(rows: list[Row], agent: str, first: int, target: int) -> list[Row]:
    return [row for row in rows if row[1] == agent and (
        row[0] == "2024-13" or first <= month_number(row[0]) <= target)]


def judged_agents(rows: list[Row], target: int) -> list[str]:
    agents = [str(row[1]) for row in rows if row[0] != "2024-13"
              and month_number(row[0]) == target]
    return list(dict.fromkeys(agents))


def problem(mine: list[Row], everyone: list[Row], column: int) -> bool:
    """Among ``mine``: a bad month, a bad score (column 2) or grade (3), or a month that
    another row of the agent has too."""
    def bad(row: Row) -> bool:
        value = row[column]
        return row[0] == "2024-13" or (
            value is None if column == 3 else not isinstance(value, int | float))

    def shared(row: Row) -> bool:
        return sum(other[:2] == row[:2] for other in everyone) > 1

    return any(bad(row) or shared(row) for row in mine)


@given(rows=rows_strategy, target=st.sampled_from(MONTHS),
       window=st.sampled_from([None, 1, 2, 3]), strikes=st.sampled_from([1, 2, 3]))
def test_elimination_is_the_per_agent_rule(rows: list[Row], target: str, window: int | None,
                                           strikes: int) -> None:
    number = month_number(target)
    agents = judged_agents(rows, number)
    if not agents:
        with pytest.raises(KpiError, match="没有"):
            elimination_flags(History.from_rows(rows), target, window=window, strikes=strikes)
        return
    result = elimination_flags(History.from_rows(rows), target, window=window, strikes=strikes)
    assert result.agents == tuple(agents)
    first = 0 if window is None else number - window + 1
    for verdict in result:
        mine = considered_rows(rows, verdict.agent, first, number)
        if problem(mine, rows, 2):
            assert isinstance(verdict.flag, KpiError) and verdict.basis == ""
            continue
        below = sorted((month_number(m), s) for m, _, s, _ in mine
                       if isinstance(s, int | float) and s < 70)
        expected = "" if not below else "淘汰" if len(below) >= strikes else "淘汰预警"
        assert verdict.flag == expected
        assert verdict.basis == "; ".join(f"{month_text(m)} {s}分" for m, s in below)


@given(rows=rows_strategy, target=st.sampled_from(MONTHS), months=st.sampled_from([1, 2, 3]))
def test_runs_are_the_per_agent_rule(rows: list[Row], target: str, months: int) -> None:
    number = month_number(target)
    if not judged_agents(rows, number):
        return
    result = promotion_flags(History.from_rows(rows), target, months=months)
    for verdict in result:
        mine = considered_rows(rows, verdict.agent, number - months + 1, number)
        if problem(mine, rows, 3):
            assert isinstance(verdict.flag, KpiError)
            continue
        run = {month_number(row[0]) for row in mine if row[3] in ("中级", "高级")}
        assert verdict.flag == ("晋升" if len(run) == months else "")


@given(rows=rows_strategy)
def test_quarter_sums_are_the_per_agent_sums(rows: list[Row]) -> None:
    inside = [row for row in rows if row[0] in MONTHS[:3]]
    if not inside:
        return
    sums = quarter_sums(History.from_rows(rows), "2024Q1")
    assert sums.agents == tuple(dict.fromkeys(str(row[1]) for row in inside))
    for agent, score, count in zip(sums.agents, sums.scores, sums.months, strict=True):
        mine = [row for row in inside if row[1] == agent]
        bad_month = [row for row in rows if row[1] == agent and row[0] == "2024-13"]
        valid = [row for row in mine if not problem([row], rows, 2)]
        assert count == len(valid)
        if problem(mine + bad_month, rows, 2):
            assert isinstance(score, KpiError)
        else:
            assert score == pytest.approx(sum(row[2] for row in mine
                                              if isinstance(row[2], int | float)))
