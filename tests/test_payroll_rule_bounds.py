"""规则 parameters checked against their kind's bounds, rate rules without %, choice cells a
formula compares as typed, and a time of day in a seconds column (tests/test_hr_mistakes.py
has the end-to-end reproducers)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kpi_xl.payroll.checks import input_problem, suspect_cells
from kpi_xl.payroll.grid import Sheet
from kpi_xl.payroll.rules import RuleBook
from kpi_xl.templates.model import Input, Template, item_label
from kpi_xl.templates.specs import TEMPLATES
from kpi_xl.templates.specs.common import MIN_WAGE

TAOBAO = TEMPLATES["taobao-cs"]
ATTENDANCE = next(spec for spec in TAOBAO.inputs if spec.kind == "yesno")
EXECUTION = next(spec for spec in TAOBAO.inputs if spec.key == "execution")
RESPONSE = next(spec for spec in TAOBAO.inputs if spec.kind == "seconds")
LEVEL = TEMPLATES["after-sales"].roster[0]


def rules_sheet(template: Template, **changed: object) -> Sheet:
    """A 规则 sheet as the builder lays it out (label in B, value in C), every parameter and
    item rule at its template value, the keys in ``changed`` replaced."""
    cells: dict[tuple[int, int], object] = {}
    rows = [(p.key, p.label, p.value if p.value is not None else p.sample_value)
            for p in template.params]
    rows += [(item.key, item_label(item), item.rule) for item in template.items]
    for row, (key, label, value) in enumerate(rows, start=5):
        cells[(row, 2)] = label
        cells[(row, 3)] = changed.get(key, value)
    return Sheet(cells)


def checked(template: Template, **changed: object) -> RuleBook:
    book = RuleBook(template, rules_sheet(template, **changed))
    book.check_rule_params()
    return book


def cell_of(template: Template, key: str) -> str:
    keys = [p.key for p in template.params] + [item.key for item in template.items]
    return f"C{keys.index(key) + 5}"


def screened_like_checked(spec: Input, values: list[object]) -> None:
    """The column-wide screen clears only cells the per-cell check finds nothing in."""
    suspect = suspect_cells(spec, values, blank_ok=True)
    for value, flagged in zip(values, suspect.tolist(), strict=True):
        if not flagged:
            assert value is None or input_problem(spec, value) is None, value


# ----------------------------------------------------------------------------- 1. choices
def test_yes_with_a_stray_space_is_an_input_problem() -> None:
    message = input_problem(ATTENDANCE, "是 ")
    assert message == ('“全勤(是/否)”为 "是 ": 含空格, 公式读不出; 请改为 "是" '
                       "(the formula compares the text as typed)")
    assert input_problem(ATTENDANCE, "是") is None
    assert "含空格" in str(input_problem(ATTENDANCE, "\u3000否"))  # a full-width space
    assert input_problem(ATTENDANCE, "Y") is not None  # still: not one of the choices


def test_space_check_is_in_the_column_screen() -> None:
    values: list[object] = ["是", "否", "是 ", " 否", None, "是"]
    suspect = suspect_cells(ATTENDANCE, values, blank_ok=True)
    assert np.flatnonzero(suspect).tolist() == [2, 3]
    screened_like_checked(ATTENDANCE, values)


def test_choice_read_by_kpi_tier_may_carry_spaces() -> None:
    """KPI_TIER folds the text: 执行力 "非常满意 " scores as 非常满意, nothing to flag."""
    assert input_problem(EXECUTION, "非常满意 ") is None
    assert not suspect_cells(EXECUTION, ["非常满意 "], blank_ok=True).any()


def test_roster_level_matched_by_match_must_be_exact() -> None:
    assert "含空格" in str(input_problem(LEVEL, "一级 "))
    assert input_problem(LEVEL, "一级") is None
    screened_like_checked(LEVEL, ["一级", "二级 ", "三级"])


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=list(TEMPLATES))
def test_choice_columns_not_exact_are_only_read_by_kpi_tier(template: Template) -> None:
    """A choice column left folding (not :attr:`Input.exact_text`) must be read by nothing but
    KPI_TIER's first argument: a formula comparing it with = or MATCH needs ``exact=True``."""
    formulas = [calc.formula for _, calc in template.sheet_calcs()]
    for spec in (*template.inputs, *template.roster):
        if not spec.allowed or spec.exact_text:
            continue
        for formula in formulas:
            for ref in (f"{{c:{spec.key}}}", f"{{emp:{spec.key}}}"):
                other = formula.replace(f"KPI_TIER({ref},", "")
                assert ref not in other, f"{template.id}: {spec.header} read as typed: {formula}"


# ----------------------------------------------------------------------------- 5. seconds
def test_a_time_of_day_in_a_seconds_column_is_an_input_problem() -> None:
    one_oh_one = 61 / 86_400
    assert input_problem(RESPONSE, one_oh_one) == (
        "“平均响应时间(秒)”为 0.0007 秒, 像是时间格式 (1:01)? 请填秒数, 如 61 "
        "(a time of day, not seconds)")
    assert "(1:01:05)? 请填秒数, 如 3665" in str(input_problem(RESPONSE, 3665 / 86_400))
    for fine in (0.0, 1.0, 12.5, 30):
        assert input_problem(RESPONSE, fine) is None
    values: list[object] = [12.0, one_oh_one, 0.0, 0.5, 1.0, None]
    assert np.flatnonzero(suspect_cells(RESPONSE, values, blank_ok=True)).tolist() == [1, 3]
    screened_like_checked(RESPONSE, values)


# ----------------------------------------------------------------------------- 2./3. params
@pytest.mark.parametrize("template", TEMPLATES.values(), ids=list(TEMPLATES))
def test_every_number_parameter_has_a_kind_and_its_value_fits(template: Template) -> None:
    for param in template.params:
        value = param.value if param.value is not None else param.sample_value
        if param.notation is None and (isinstance(value, int | float) or param.key == "pool"):
            assert param.kind is not None, f"{template.id}: {param.label} has no kind"
        if param.kind is not None and param.notation is None and isinstance(value, int | float):
            assert input_problem(param.as_input(), value) is None, (template.id, param.label)


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=list(TEMPLATES))
def test_the_template_rules_raise_no_issue(template: Template) -> None:
    assert checked(template).issues == []


def test_team_bonus_rate_typed_5_is_flagged_and_holds() -> None:
    book = checked(TAOBAO, team_rate=5)
    [issue] = book.issues
    assert issue.cell == cell_of(TAOBAO, "team_rate")
    assert issue.message == ("“团队超额奖金比例”单位疑误: 5 看似百分数, 请输入 5% 或 0.05 "
                             "(a rate above 100%)")
    assert issue.holds
    assert book.hold_reason() == f"规则有误 (规则!{issue.cell})"
    assert checked(TAOBAO, team_rate="5%").issues == []
    [far] = checked(TAOBAO, team_rate=250).issues
    assert "为 25000%, 比率应在 0%–100% 之间" in far.message and far.holds


def test_negative_deduction_is_flagged_and_holds() -> None:
    [issue] = checked(TAOBAO, bad_review_points=-30).issues
    assert issue.cell == cell_of(TAOBAO, "bad_review_points")
    assert issue.message == ("“差评扣分 (每个差评)”为 -30: 扣分不能为负数; 扣分请填正数 (如 30), "
                             "公式会自动扣减 (must not be negative)")
    assert issue.holds


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("salary", -1280, "金额不能为负数"),
    ("meal", 1e12, "超出合理范围"),
    ("min_wage", -2000, "金额不能为负数"),
])
def test_money_parameters_are_bounded(key: str, value: object, fragment: str) -> None:
    [issue] = checked(TAOBAO, **{key: value}).issues
    assert fragment in issue.message and issue.holds


def test_history_only_parameter_is_listed_without_holding_pay() -> None:
    [issue] = checked(TAOBAO, eliminate_times=0).issues
    assert "不能小于 1" in issue.message
    assert not issue.holds
    assert checked(TAOBAO, eliminate_times=0).hold_reason() is None


def test_text_and_blank_parameters_are_left_to_their_readers() -> None:
    assert checked(TAOBAO, salary="面议").issues == []
    assert checked(TAOBAO, min_wage=None).issues == []


def test_other_templates_rates_are_bounded() -> None:
    template = TEMPLATES["salary-80-20"]
    [issue] = checked(template, fixed_share=80).issues
    assert "80 看似百分数" in issue.message and issue.holds


# ----------------------------------------------------------------------------- 4. rate rules
def test_rate_rule_without_percent_signs_is_flagged_and_holds() -> None:
    rule = "Y≥50:100; 45≤Y<50:80; 40≤Y<45:60; Y<40:0"
    [issue] = checked(TAOBAO, conversion=rule).issues
    assert issue.cell == cell_of(TAOBAO, "conversion")
    assert issue.message == ("询单转化率: 档位单位疑误: 50 看似百分数, 请输入 50% 或 0.5; 本项数值"
                             "是比率 (0.47 = 47%), 档位不写 % 时全员落在同一档 "
                             "(rate thresholds written without %)")
    assert issue.holds


@pytest.mark.parametrize(("key", "rule"), [
    ("conversion", "Y≥0.5:100; 0.45≤Y<0.5:80; 0.4≤Y<0.45:60; Y<0.4:0"),  # fractions
    ("conversion", "Y≥50%:100; 45%≤Y<50%:80; 40%≤Y<45%:60; Y<40%:0"),  # as shipped
    ("aov", "M≥250:100; 230≤M<250:80; 210≤M<230:60; M<210:0"),  # 客单价 is money
])
def test_rules_in_their_units_pass(key: str, rule: str) -> None:
    assert checked(TAOBAO, **{key: rule}).issues == []


def test_rate_tier_parameter_without_percent_signs_is_flagged() -> None:
    template = TEMPLATES["commission"]
    [issue] = checked(template, commission_rule="≥60:6‰; [55,60):4‰; <55:1‰").issues
    assert issue.cell == cell_of(template, "commission_rule")
    assert "60 看似百分数" in issue.message and issue.holds


def test_unreadable_item_rule_is_left_to_the_item_reader() -> None:
    """item_rule lists a rule that does not parse (once): the unit check adds nothing."""
    assert checked(TAOBAO, conversion="Y≥≥50").issues == []


# ----------------------------------------------------------------------------- 最低工资 note
def test_minimum_wage_note_says_what_the_refresh_does() -> None:
    assert "按此数发放" not in MIN_WAGE.note
    assert re.search(r"标记.*由 HR 决定", MIN_WAGE.note)
