"""S3 rank pool, S5 top-N prizes, KPI_SHARE splits: hand-worked numbers and properties."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_xl.core.errors import RuleError
from kpi_xl.core.pool import (
    DEFAULT_SPLIT,
    QUARTERLY_PRIZES,
    parse_split,
    rank_pool,
    share_column,
    top_n_prizes,
)

D = Decimal


def test_s3_default_split() -> None:
    # pool = 6‰ × 静默下单销售额 500000 = 3000
    # 1st: 40% × 3000 = 1200 + 200 = 1400; 2nd: 30% × 3000 = 900 + 100 = 1000;
    # the remaining 30% = 900 split equally among the other 3 → 300 each
    result = rank_pool(D("0.006") * 500000, [80, 95, 70, 88, 75])
    assert result.amount.cells() == [D("300.00"), D("1400.00"), D("300.00"), D("1000.00"),
                                     D("300.00")]
    assert result.share.total() == D("3000.00")
    assert result.prize.total() == D("300.00")
    assert result.rank.values.tolist() == [3, 1, 5, 2, 4]


def test_tie_broken_by_sales() -> None:
    # equal scores, the higher personal sales ranks first: 1000×40%+200 = 600, 30%+100 = 400
    result = rank_pool(1000, [90, 90, 80], tiebreak=[1000, 2000, 500])
    assert result.amount.cells() == [D("400.00"), D("600.00"), D("300.00")]
    assert result.rank.values.tolist() == [2, 1, 3]


def test_still_tied_share_their_positions() -> None:
    # positions 1 and 2 shared: (400 + 300)/2 = 350 each + (200 + 100)/2 = 150 → 500 each;
    # 3rd is the only "rest": the whole 30% = 300
    result = rank_pool(1000, [90, 90, 80], tiebreak=[5, 5, 1])
    assert result.amount.cells() == [D("500.00"), D("500.00"), D("300.00")]
    assert result.rank.values.tolist() == [1, 1, 3]


def test_tie_fen_exact() -> None:
    # pool 10.00, three tied at the top share 40%+30%+(30%÷1 rest position… here 3 agents
    # hold positions 1, 2, 3): all 10.00/3 = 3.333… → 3.34, 3.33, 3.33; prizes 300/3 = 100
    result = rank_pool(10, [5, 5, 5])
    assert result.share.cells() == [D("3.34"), D("3.33"), D("3.33")]
    assert result.prize.cells() == [D("100.00")] * 3
    assert result.share.total() == D("10.00")


def test_rest_split_to_the_fen() -> None:
    # pool 10.00, 9 agents: 4.00, 3.00, and 3.00 over 7 = 0.428571… → 294 fen + 6 left →
    # the first 6 of the 7 (by row) get 0.43, the last 0.42
    scores = [100, 90, 80, 70, 60, 50, 40, 30, 20]
    result = rank_pool(10, scores)
    shares = result.share.cells()
    assert shares[:2] == [D("4.00"), D("3.00")]
    assert shares[2:] == [D("0.43")] * 6 + [D("0.42")]
    assert result.share.total() == D("10.00")


def test_fewer_agents_than_positions() -> None:
    # 2 agents hold positions 1 and 2; the unheld 30% rest goes proportionally 40:30 →
    # 1000 × 4/7 = 571.428… → 571.43 (+200); 1000 × 3/7 = 428.571… → 428.57 (+100)
    result = rank_pool(1000, [70, 90])
    assert result.amount.cells() == [D("528.57"), D("771.43")]
    # a single agent takes the whole pool and the first prize: 1000 + 200
    assert rank_pool(1000, [70]).amount.cells() == [D("1200.00")]


def test_positions_beyond_a_split_without_rest_get_nothing() -> None:
    result = rank_pool(1000, [9, 8, 7, 6, 5], split="1:50%; 2:30%; 3:20%")
    assert result.amount.cells() == [D("500.00"), D("300.00"), D("200.00"), D("0.00"),
                                     D("0.00")]


def test_error_scores_excluded_and_flagged() -> None:
    # "#N/A" and a blank are excluded with their errors; the 3 others share all 1000:
    # 400+200, 300+100, 300
    result = rank_pool(1000, [90, "#N/A", 80, None, 70])
    assert result.amount.cells()[0] == D("600.00")
    assert result.amount.cells()[2] == D("400.00")
    assert result.amount.cells()[4] == D("300.00")
    assert result.amount.errors[1].code == "#N/A"
    assert "为空" in result.amount.errors[3].zh
    assert math.isnan(result.rank.values[1])
    assert result.share.total() == D("1000.00")


def test_no_valid_agent_pays_nothing() -> None:
    result = rank_pool(1000, ["#N/A"])
    assert result.amount.errors[0].code == "#N/A"
    assert result.share.total() == D("0.00")


def test_float_noise_does_not_break_ties() -> None:
    result = rank_pool(1000, [0.1 + 0.2, 0.3, 0.1])
    assert result.rank.values.tolist() == [1, 1, 3]


def test_parse_split() -> None:
    rule = parse_split(DEFAULT_SPLIT)
    assert rule.format() == "1:40%+200; 2:30%+100; 其余:30%"
    assert parse_split("第1名：40%+200元；第2名：30%+100元；rest: 30%") == rule
    assert parse_split("1:0.4+200; 2:0.3+100; 其余:0.3") == rule


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1:40%+200; 2:30%+100; 其余:20%", "合计 90%"),
        ("1:40%; 3:60%", "连续"),
        ("1:40%; 1:60%", "重复"),
        ("1:40%; 其余:30%; rest:30%", "重复"),
        ("冠军:100%", "无法识别"),
        ("1:40", "百分比"),
        ("1:100%+abc", "奖金"),
        ("", "为空"),
    ],
)
def test_split_errors(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_split(text)
    assert fragment in info.value.zh


def test_negative_pool() -> None:
    with pytest.raises(Exception, match="负数"):
        rank_pool(-1, [1])


def test_s5_monthly_top3() -> None:
    # sales 8W, 12W, 5W, 12W, 3W: two tied at the top share (300+200)/2 = 250; next 100
    result = top_n_prizes(["8W", "12W", "5W", 120000, "3W"])
    assert result.amount.cells() == [D("100.00"), D("250.00"), D("0.00"), D("250.00"),
                                     D("0.00")]
    assert result.share.total() == D("0.00")
    # a small team: one prize of 200
    assert top_n_prizes([1, 3, 2], prizes=(200,)).amount.cells() == [D("0"), D("200"), D("0")]


def test_top_n_tie_across_the_cut() -> None:
    # 9, then three tied at 5 for positions 2–4: (200 + 100 + 0)/3 = 100 each
    assert top_n_prizes([9, 5, 5, 5]).amount.cells() == [D("300"), D("100"), D("100"),
                                                         D("100")]
    # three tied for positions 3–5: 100/3 → 33.34, 33.33, 33.33 (fen-exact, by row)
    result = top_n_prizes([9, 8, 1, 1, 1])
    assert result.amount.cells() == [D("300"), D("200"), D("33.34"), D("33.33"), D("33.33")]


def test_quarterly_prizes_with_tiebreak() -> None:
    result = top_n_prizes([250, 270, 250], prizes=QUARTERLY_PRIZES, tiebreak=[10, 0, 20])
    assert result.amount.cells() == [D("300.00"), D("800.00"), D("600.00")]


def test_share_column() -> None:
    # KPI_SHARE: 100 by 1:2:3 → 16.67, 33.33, 50.00 (see the money tests)
    assert share_column(100, [1, 2, 3]).cells() == [D("16.67"), D("33.33"), D("50.00")]
    # per group, totals on every row
    result = share_column([100, 100, 50], [1, 2, 3], ["a", "a", "b"])
    assert result.cells() == [D("33.33"), D("66.67"), D("50.00")]


def test_share_column_errors() -> None:
    result = share_column(100, [1, 2, None, 3], ["a", "a", "b", "b"])
    assert result.cells()[:2] == [D("33.33"), D("66.67")]
    assert "为空" in result.errors[2].zh
    assert "第3行" in result.errors[3].zh  # the group cannot be split without row 3
    different = share_column([100, 90], [1, 1], ["a", "a"])
    assert "不一致" in different.errors[0].zh
    negative = share_column(100, [1, -1])
    assert "负数" in negative.errors[1].zh and "第2行" in negative.errors[0].zh


@given(
    cents=st.integers(min_value=0, max_value=10**8),
    scores=st.lists(st.one_of(st.integers(0, 5), st.just("#N/A")), min_size=1, max_size=25),
    sales=st.lists(st.integers(0, 3), min_size=25, max_size=25),
    split=st.sampled_from([DEFAULT_SPLIT, "1:50%+300; 2:30%; 3:20%", "其余:100%",
                           "1:33.3%+1; 2:33.3%+2; 其余:33.4%+0.01"]),
)
def test_pool_sums_for_random_inputs(cents: int, scores: list[object], sales: list[int],
                                     split: str) -> None:
    pool = D(cents).scaleb(-2)
    result = rank_pool(pool, scores, tiebreak=sales[: len(scores)], split=split)
    valid = [s for s in scores if s != "#N/A"]
    assert result.share.total() == (pool if valid else D("0.00"))
    for amount, share, prize in zip(result.amount.amounts, result.share.amounts,
                                    result.prize.amounts, strict=True):
        if amount is not None:
            assert amount == share + prize
            assert share >= 0 and prize >= 0
    if split.startswith("1:33.3%"):
        return  # that rule gives the rest (33.4%) more than rank 2 (33.3%) on purpose
    # better rank never gets a smaller share of the pool (tie blocks are equal to the fen)
    ranked = sorted((r, s) for r, s, e in zip(result.rank.values, result.share.amounts,
                                              result.rank.errors, strict=True) if e is None)
    for (rank_a, share_a), (rank_b, share_b) in itertools.pairwise(ranked):
        if rank_a < rank_b:
            assert share_a >= share_b - D("0.01")
