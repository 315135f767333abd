"""Argument shapes and parameter cells of the worksheet functions (:mod:`kpi_xl.functions`).

Ranges that go row by row together must have the same rows (or be one cell); a per-agent
range is one column; rule ranges are condition | result or whole tiers per cell; an Excel
error in a rule or parameter cell passes through with its code; blank parameters say so in
words, never with a Python type. Each case as the pure function (the recalc's path) and, where
the input differs, as classic xlwings sends it.
"""

from __future__ import annotations

import numpy as np
import pytest

from kpi_xl import functions, udfs
from kpi_xl.core.errors import KpiError
from kpi_xl.core.money import to_decimal
from kpi_xl.core.scoring import common_rows

RULE = "≥50%:100; [45%,50%):80; [40%,45%):60; <40%:0"
REF = KpiError("引用无效", "invalid reference", code="#REF!")  # what the recalc passes


def _codes(grid: np.ndarray) -> list[object]:
    return [cell.code if isinstance(cell, KpiError) else cell for cell in grid.ravel()]


def _messages(grid: np.ndarray) -> set[str]:
    return {str(cell) for cell in grid.ravel() if isinstance(cell, KpiError)}


# -- ranges that go row by row together ------------------------------------------------------
def test_the_row_check_names_both_counts() -> None:
    with pytest.raises(KpiError, match="加减分有 3 行, 得分有 2 行, 行数应相同"):
        common_rows((("得分", "score"), 2), (("加减分", "adjustment"), 3), single_ok=False)
    assert common_rows((("基数", "base"), 1), (("得分", "score"), 4)) == 4


MISMATCHED = {
    "KPI_RATE": (lambda: functions.kpi_rate([[None], [None], [None]], [[1], [2]], [[3], [4]]),
                 "分子有 2 行, 比率有 3 行"),
    "KPI_POOL": (lambda: functions.kpi_pool(3000, [[95], [90], [85]], [[1], [2]]),
                 "同分比较列有 2 行, 得分有 3 行"),
    "KPI_SHARE groups": (lambda: functions.kpi_share(1000, [[1], [2], [3]], [["a"], ["b"]]),
                         "分组有 2 行, 权重有 3 行"),
    "KPI_SHARE totals": (lambda: functions.kpi_share([[1], [2]], [[1], [2], [3]]),
                         "总额有 2 行, 权重有 3 行"),
    "KPI_PAY": (lambda: functions.kpi_pay("80/20", [[5000]] * 3, [[0.9], [0.8]]),
                "得分有 2 行, 基数有 3 行"),
    "KPI_PAY conversion": (
        lambda: functions.kpi_pay("提成", 120000, [[92]] * 3, "≥60%:6‰; <60%:4‰", [[0.5]] * 2),
        "转化率有 2 行"),
    "KPI_SCORE": (lambda: functions.kpi_score([[80, 90]] * 2, [[0.5, 0.5]], [[1]] * 3),
                  "加减分有 3 行, 得分有 2 行"),
}


@pytest.mark.parametrize("label", list(MISMATCHED))
def test_ranges_of_different_lengths_give_value_naming_the_row_counts(label: str) -> None:
    call, message = MISMATCHED[label]
    grid = call()
    assert set(_codes(grid)) == {"#VALUE!"}, _codes(grid)
    assert len(_messages(grid)) == 1 and message in next(iter(_messages(grid)))


def test_kpi_rate_does_not_cross_a_row_with_a_column() -> None:
    # numpy would broadcast 1×2 against 2×1 into a 2×2 table of plausible rates
    grid = functions.kpi_rate(None, [[1, 2]], [[3], [4]])
    assert set(_codes(grid)) == {"#VALUE!"}
    rows = functions.kpi_rate(None, [[1, 2]], [[4, 4]])
    assert _codes(rows) == [0.25, 0.5]


def test_a_single_cell_still_repeats_down_the_rows() -> None:
    assert _codes(functions.kpi_rate(None, [[1], [2]], 4)) == [0.25, 0.5]
    assert _codes(functions.kpi_pay("80/20", 5000, [[0.9], [1]])) == [4900, 5000]
    assert _codes(functions.kpi_share(100, [[1], [3]], "team")) == [25, 75]
    assert _codes(functions.kpi_pool(1000, [[90], [80]], 5, "1:60%; 2:40%")) == [600, 400]


@pytest.mark.parametrize(("call", "what"), [
    (lambda: functions.kpi_pool(3000, [[95, 1], [90, 2]]), "得分应为一列, 收到 2 行 2 列"),
    (lambda: functions.kpi_share(100, [[1, 2], [3, 4]]), "权重应为一列"),
    (lambda: functions.kpi_pay("80/20", [[5000, 1], [5000, 2]], 0.9), "基数应为一列"),
])
def test_a_block_where_one_column_belongs_is_an_error_not_flattened(call, what: str) -> None:
    grid = call()  # before: 4 results for 2 rows, each a plausible amount
    assert set(_codes(grid)) == {"#VALUE!"} and grid.shape == (2, 1)
    assert what in next(iter(_messages(grid)))


def test_classic_xlwings_gets_an_error_code_per_cell_for_mismatched_ranges() -> None:
    assert udfs.KPI_SHARE([[1000]], [[1], [2], [3]], [["a"], ["b"]]) == [["#VALUE!"]] * 3
    with pytest.raises(KpiError, match="同分比较列有 2 行, 得分有 1 行"):
        udfs.KPI_POOL([[3000]], [[95]], [[1], [2]])


# -- rule ranges -----------------------------------------------------------------------------
@pytest.mark.parametrize("rule", [
    [["≥50%:100", "<50%:0"]],  # a rule typed across a row
    [["≥50%:100", "<50%:0"], [None, None]],
    [["≥50%:100", None], ["<50%:0", None]],
    [["≥50%：100", "<50%：0", None]],  # full-width colons, a trailing blank cell
    [["≥50%", 100], ["<50%", 0]],  # condition | result
    [["≥50%:100"], ["<50%:0"]],  # one tier per cell down a column
])
def test_rule_ranges_hr_writes_read_as_meant(rule: list) -> None:
    assert _codes(functions.kpi_tier([[0.6], [0.3]], rule)) == [100, 0]


def test_a_rule_range_wider_than_two_columns_says_so() -> None:
    grid = functions.kpi_tier(0.6, [["≥50%", 100, "备注"], ["<50%", 0, ""]])
    assert _codes(grid) == ["#VALUE!"]
    assert "规则区域应为两列 (条件 | 结果), 收到 3 列" in str(grid[0, 0])


def test_a_tier_in_a_condition_cell_is_an_error_not_a_text_result() -> None:
    # before: KPI_TIER showed the text "100:x" for 60%
    grid = functions.kpi_tier(0.6, [["≥50%:100", "x"], ["<50%", 0]])
    assert _codes(grid) == ["#VALUE!"] and '一档只能有一个 ":"' in str(grid[0, 0])
    assert _codes(functions.kpi_tier(0.6, "≥50%:100:<50%:0")) == ["#VALUE!"]


# -- an Excel error in a rule or parameter cell ----------------------------------------------
ERROR_ARGUMENTS = {
    "KPI_TIER": lambda e: functions.kpi_tier(0.47, e),
    "KPI_EXPLAIN": lambda e: functions.kpi_explain(0.47, e),
    "KPI_GRADE": lambda e: functions.kpi_grade(85, e),
    "KPI_DEDUCT": lambda e: functions.kpi_deduct(5, e),
    "KPI_PAY scheme": lambda e: functions.kpi_pay(e, 5000, 0.9),
    "KPI_PAY share": lambda e: functions.kpi_pay("80/20", 5000, 0.9, e),
    "KPI_PAY coefficients": lambda e: functions.kpi_pay("等级系数", 3000, "A", e),
    "KPI_PAY commission": lambda e: functions.kpi_pay("提成", 120000, 92, e, 0.58),
    "KPI_PAY threshold": lambda e: functions.kpi_pay("按分", 2600, 117, 130, e),
    "KPI_POOL pool": lambda e: functions.kpi_pool(e, [[95], [90]]),
    "KPI_POOL split": lambda e: functions.kpi_pool(3000, [[95], [90]], None, e),
}


@pytest.mark.parametrize("label", list(ERROR_ARGUMENTS))
@pytest.mark.parametrize("error", ["#REF!", [["#N/A"]], REF], ids=["text", "range", "recalc"])
def test_an_error_value_in_a_rule_or_parameter_cell_passes_through(label: str, error) -> None:
    expected = error.code if isinstance(error, KpiError) else np.ravel(error)[0]
    codes = set(_codes(ERROR_ARGUMENTS[label](error)))
    assert codes == {expected}, codes


def test_an_error_inside_a_rule_range_keeps_its_code() -> None:
    grid = functions.kpi_tier(0.6, [["≥50%", "#DIV/0!"], ["<50%", 0]])
    assert _codes(grid) == ["#DIV/0!"] and "规则区域含错误值 #DIV/0!" in str(grid[0, 0])
    assert _codes(functions.kpi_tier(0.6, [["≥50%", REF], ["<50%", 0]])) == ["#REF!"]


def test_kpi_pay_takes_its_rule_parameters_as_ranges_too() -> None:
    # README: the coefficient and 提点 rules are rules, so a two-column range works (before:
    # "此参数应为单个单元格")
    assert _codes(functions.kpi_pay("等级系数", 3000, "A", [["A", 1.2], ["B", 1]])) == [3600]
    commission = functions.kpi_pay("提成", 120000, 92, [["≥60%", "6‰"], ["<60%", "4‰"]], 0.58)
    assert _codes(commission) == [441.6]
    assert _codes(functions.kpi_pay("提成", 120000, 92, "4‰")) == [441.6]


# -- blank parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "words"), [
    (lambda: functions.kpi_pool(None, [[95], [90]]), "奖金池未填写"),
    (lambda: functions.kpi_pool([[""]], [[95], [90]]), "奖金池未填写"),
    (lambda: functions.kpi_pay(None, 5000, 0.9), "方案未填写"),
    (lambda: functions.kpi_pay([[None]], 5000, 0.9), "方案未填写"),
    (lambda: functions.kpi_deduct(5, [[None]]), "扣分规则未填写"),
    (lambda: functions.kpi_pay("提成", 120000, 92, [[None]], 0.58), "提成方案需要提点规则"),
])
def test_a_blank_parameter_says_it_is_blank(call, words: str) -> None:
    (message,) = _messages(call())
    assert words in message
    assert "None" not in message


def test_an_amount_that_is_not_there_names_no_python_type() -> None:
    with pytest.raises(KpiError) as raised:
        to_decimal(None)  # type: ignore[arg-type]
    assert "NoneType" not in str(raised.value) and "未填写" in str(raised.value)


def test_blank_optional_parameters_take_the_documented_defaults() -> None:
    default = functions.kpi_pool(3000, [[95], [90], [85]])
    assert _codes(functions.kpi_pool(3000, [[95], [90], [85]], None, [[None]])) == \
        _codes(default)
    assert _codes(functions.kpi_pay("80/20", 5000, 0.9, [[None]])) == [4900]
    assert _codes(functions.kpi_pay("等级系数", 3000, "A", [[""]])) == \
        _codes(functions.kpi_pay("等级系数", 3000, "A"))


# -- KPI_RATE's ready value ------------------------------------------------------------------
def test_a_negative_ready_value_is_an_error_but_any_size_is_kept() -> None:
    grid = functions.kpi_rate([[0.47], [-0.1], [1.2], [260]])
    codes = _codes(grid)
    assert codes[0] == 0.47 and codes[1] == "#VALUE!"
    assert "比率不能为负数: -0.1" in str(grid[1, 0])
    assert codes[2:] == [1.2, 260]  # 120% completion; a ready 客单价 of 260 元 (templates)
