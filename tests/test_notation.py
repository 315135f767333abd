"""The rule notation as the spec writes it, and the errors HR sees."""

import pytest

from kpi_xl.core.errors import KpiError, RuleError
from kpi_xl.core.notation import TierKind, parse_rule, parse_rule_text
from kpi_xl.functions import kpi_tier


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("X≥100%:100", "≥100%:100"),
        (">=45%:80", "≥45%:80"),
        ("≥４５％：８０", "≥45%:80"),  # full-width folded
        ("90%≤X<100%:85", "[90%,100%):85"),
        ("30s<N≤45s:80", "(30s,45s]:80"),
        ("3W≤P<4W:80", "[3W,4W):80"),
        ("45<=Y<50:80", "[45,50):80"),
        ("[0.2,0.4]:1", "[0.2,0.4]:1"),
        ("=100%:15", "=100%:15"),
        ("100%:15", "=100%:15"),
        ("40%>Y:0", "<40%:0"),
        ("≥60%:6‰", "≥60%:6‰"),
        ("非常满意:100", "非常满意:100"),
        ("A级:10", "A级:10"),
        ("空:0", "空:0"),
        ("其余:0", "其他:0"),
        ("else:不合格", "其他:不合格"),
        ("≥1,280元:1", "≥1,280元:1"),
    ],
)
def test_each_condition_form(written: str, canonical: str) -> None:
    assert parse_rule(written).format() == canonical
    assert parse_rule(canonical) == parse_rule(written)


def test_separators_semicolons_fullwidth_and_newlines() -> None:
    rule = parse_rule("≥50%:100；[45%,50%):80\n<45%:0;")
    assert [t.result for t in rule.tiers] == [100, 80, 0]


def test_parsing_is_cached_per_text() -> None:
    parse_rule_text.cache_clear()
    parse_rule("≥50%:100; <50%:0")
    parse_rule("≥50%:100; <50%:0")
    assert parse_rule_text.cache_info().hits == 1


def test_results_read_with_number_suffixes() -> None:
    rule = parse_rule("≥60%:6‰; <60%:4W")
    assert [t.result for t in rule.tiers] == [0.006, 40000.0]
    assert parse_rule("a:高级客服").tiers[0].kind is TierKind.LABEL


def test_an_exponent_beyond_any_float_is_a_rule_error_not_a_crash() -> None:
    """Found by the fuzzer: ``2e400`` overflowed inside the number reader (OverflowError)."""
    from kpi_xl.core.pool import parse_split
    from kpi_xl.core.values import read_number

    assert read_number("2e400") is None
    assert read_number("2e-400").value == 0.0
    with pytest.raises(KpiError):
        parse_split("1:40%+2e400; 2:30%+100; 其余:30%")
    with pytest.raises(KpiError):
        parse_rule("≥2e400:100; 其他:0")


@pytest.mark.parametrize(
    ("rule", "tier_no", "character"),
    [
        ("≥50%:100; ≥5O%:80", 2, '第 3 个字符 "O"'),
        ("≥50%:100; [45%;50%):80", 2, None),
        ("≥50%:100; <>5:1", 2, '第 2 个字符 ">"'),
        ("≥50%", 1, "结尾"),
        ("≥50%:", 1, "结尾"),
    ],
)
def test_unreadable_rules_name_the_tier_and_character(
    rule: str, tier_no: int, character: str | None
) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    message = str(caught.value)
    assert f"第 {tier_no} 档" in message
    if character:
        assert character in message
    assert "(" in message and "tier" in message  # bilingual: Chinese first, English after


def test_empty_interval_is_refused() -> None:
    with pytest.raises(RuleError, match="空区间"):
        parse_rule("[50%,40%):1")


def test_rule_error_shows_in_every_cell_of_the_range() -> None:
    grid = kpi_tier([[0.1], [0.2]], "≥5O%:100")
    assert all(isinstance(cell, RuleError) for cell in grid.ravel())


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        (None, "#VALUE!", "为空"),
        ("", "#VALUE!", "为空"),
        ("abc", "#VALUE!", "不是数字"),
        ("#DIV/0!", "#DIV/0!", "#DIV/0!"),
        ("#N/A", "#N/A", "#N/A"),
        (47, "#VALUE!", "请输入 47% 或 0.47"),
        (0.3, "#N/A", "无匹配档位: 30%"),
    ],
)
def test_bad_values_are_errors_never_zero(value: object, code: str, says: str) -> None:
    cell = kpi_tier(value, "≥50%:100; [40%,50%):80")[0, 0]
    assert isinstance(cell, KpiError)
    assert cell.code == code
    assert says in str(cell)


def test_numeric_text_is_a_number() -> None:
    rule = "≥50%:100; [45%,50%):80; <45%:0"
    assert kpi_tier([["47%"], [" 47 % "], ["４７％"], ["0.47"]], rule).ravel().tolist() == [80] * 4


def test_blank_matches_only_a_blank_tier() -> None:
    assert kpi_tier(None, "空:0; ≥0:1")[0, 0] == 0
    assert isinstance(kpi_tier(None, "其他:0")[0, 0], KpiError)


def test_label_outside_the_options_lists_them() -> None:
    cell = kpi_tier("很满意", "非常满意:100; 比较满意:90; 一般:60; 不满意:0")[0, 0]
    assert isinstance(cell, KpiError)
    assert "非常满意、比较满意、一般、不满意" in str(cell)
