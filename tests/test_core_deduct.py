"""Count-based deductions: the S3 rules, parse errors, count errors, and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kpi_xl.core.deduct import DeductionRule, deduct, parse_deduction
from kpi_xl.core.errors import RuleError


def values(counts: list[object], rule: str) -> list[float]:
    result = deduct(counts, rule)
    assert result.first_error() is None
    return result.values.tolist()


def test_s3_lateness_escalation() -> None:
    # S3: 迟到/早退 within 15 min −1 each; a cumulative 3 in a month counts 15 each
    # 0 → 0; 1 → −1; 2 → −2; 3 → 3×15 = −45; 4 → 4×15 = −60
    assert values([0, 1, 2, 3, 4], "每次-1; 满3次每次-15") == [0, -1, -2, -45, -60]


def test_s3_team_cooperation_free_allowance() -> None:
    # S3 handing own work to others: 2 a month free, then −3 each
    # 2 → 0; 3 → (3−2)×3 = −3; 5 → (5−2)×3 = −9
    assert values([0, 1, 2, 3, 5], "免2次; 每次-3") == [0, 0, 0, -3, -9]
    # un-handed-over items causing a complaint: 2 free, then −2 each; 4 → (4−2)×2 = −4
    assert values([4], "免2次；每次-2") == [-4]


def test_cap() -> None:
    # 免2次; 每次-3; 封顶-20: 9 → 7×3 = 21 → capped 20; 8 → 6×3 = 18 (under the cap)
    assert values([8, 9, 100], "免2次; 每次-3; 封顶-20") == [-18, -20, -20]


def test_from_nth_occurrence() -> None:
    # 第3次起每次-15 alone: 1st and 2nd free; 3 → −15; 4 → −30
    assert values([2, 3, 4], "第3次起每次-15") == [0, -15, -30]
    # with a base rate: 4 → 1 + 1 + 15 + 15 = −32
    assert values([2, 4], "每次-1; 第3次起每次-15") == [-2, -32]
    # allowance beyond the tier start: 免3次; 第2次起每次-5 → 4 → only the 4th costs 5
    assert values([3, 4], "免3次; 第2次起每次-5") == [0, -5]


def test_full_with_allowance_counts_charged_occurrences() -> None:
    # 免1次; 每次-1; 满3次每次-15: 2 → −1; 3 → (3−1)×15 = −30 (the free one stays free)
    assert values([1, 2, 3], "免1次; 每次-1; 满3次每次-15") == [0, -1, -30]


def test_english_and_mixed_forms() -> None:
    chinese = parse_deduction("免2次; 每次-3; 第5次起每次-5; 满8次每次-10; 封顶-40")
    english = parse_deduction("free 2; each -3; from 5th each -5; at 8 each -10; cap -40")
    assert chinese == english
    assert parse_deduction("每次扣3分") == parse_deduction("each 3") == parse_deduction("每次-3")
    assert parse_deduction("ＦＲＥＥ ２；EACH －３") == parse_deduction("免2次; 每次-3")


def test_format_round_trip() -> None:
    rule = parse_deduction("cap -20; each -3; free 2")
    assert rule.format() == "免2次; 每次-3; 封顶-20"
    assert parse_deduction(rule.format()) == rule
    assert rule == DeductionRule(allowance=2, each=3.0, cap=20.0)


def test_rule_object_and_cache() -> None:
    rule = parse_deduction("每次-1")
    assert parse_deduction("每次-1") is rule
    assert deduct([2], rule).values.tolist() == [-2.0]


def test_parse_error_names_token_and_position() -> None:
    with pytest.raises(RuleError) as info:
        parse_deduction("免2次; 每次扣三分")
    message = str(info.value)
    assert "第2段(第6个字符起) \"每次扣三分\" 无法识别" in message
    assert "token 2 (from character 6)" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "为空"),
        (" ; ", "为空"),
        ("免2次; 封顶-20", "没有扣分项"),
        ("每次-1; 每次-2", "重复"),
        ("免1次; free 2; 每次-1", "重复"),
        ("每次+3", "只能扣分"),
        ("第0次起每次-3", "从 1 起"),
        ("每次-5; 满3次每次-1", "少于"),  # 2 → −10 but 3 → −3: rejected (not monotone)
    ],
)
def test_rule_errors(text: str, fragment: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_deduction(text)
    assert fragment in info.value.zh


def test_count_errors_are_per_cell() -> None:
    result = deduct([3, 1.5, -1, "三次", None, "#N/A", "4次"], "每次-2")
    assert result.values[0] == -6.0
    assert result.values[6] == -8.0  # "4次" reads as 4
    assert "非负整数" in result.errors[1].zh and "1.5" in result.errors[1].zh
    assert "非负整数" in result.errors[2].zh and "-1" in result.errors[2].zh
    assert "应为数字" in result.errors[3].zh
    assert "为空" in result.errors[4].zh
    assert result.errors[5].code == "#N/A"
    assert all(math.isnan(v) for v in result.values[1:6])


def test_no_negative_zero() -> None:
    result = deduct([0], "免2次; 每次-3")
    assert math.copysign(1.0, result.values[0]) == 1.0


def test_vectorised_large_column() -> None:
    counts = np.arange(10_000, dtype=np.float64) % 7
    result = deduct(counts, "免2次; 每次-3; 封顶-10")
    expected = -np.minimum(np.maximum(counts - 2, 0) * 3, 10) + 0.0
    assert np.array_equal(result.values, expected)


amounts = st.integers(min_value=0, max_value=30).map(float)


@st.composite
def rules(draw: st.DrawFn) -> str:
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(f"免{draw(st.integers(0, 5))}次")
    if draw(st.booleans()):
        parts.append(f"每次-{draw(amounts):g}")
    for level in draw(st.sets(st.integers(1, 12), max_size=2)):
        parts.append(f"第{level}次起每次-{draw(amounts):g}")
    for level in draw(st.sets(st.integers(1, 12), max_size=2)):
        parts.append(f"满{level}次每次-{draw(amounts):g}")
    if draw(st.booleans()):
        parts.append(f"封顶-{draw(amounts):g}")
    order = draw(st.permutations(parts))
    return "; ".join(order)


@given(text=rules())
def test_properties(text: str) -> None:
    try:
        rule = parse_deduction(text)
    except RuleError:
        assume(False)
        return
    counts = np.arange(0, 40, dtype=np.float64)
    result = deduct(counts, rule).values
    assert np.all(result <= 0)
    assert np.all(np.diff(result) <= 0)  # monotone non-increasing in the count
    if rule.cap is not None:
        assert np.all(result >= -rule.cap)  # never beyond the cap
    assert np.all(result[: rule.allowance + 1] == 0)  # 0 within the allowance
    assert parse_deduction(rule.format()) == rule
