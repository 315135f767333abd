"""The refresh checks what HR typed against the template's data (no per-template code): input
kinds and their bounds, dropdown values, formulas typed over, shared pools fed by a bad row,
roster pay bases; adapters only say which cells hold formulas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kpi_xl import xlbook
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.tiers import evaluate
from kpi_xl.payroll import compute_payroll, detect_template
from kpi_xl.payroll.compute import input_problem
from kpi_xl.payroll.grid import month_text_of
from kpi_xl.templates import new_month
from kpi_xl.templates.layout import FIRST_ROW, HEADER_ROW
from kpi_xl.templates.model import Input
from kpi_xl.workbook.headless import compute_book
from kpi_xl.workbook.refresh import refresh_file
from tests.payroll_util import SheetsByName, by_agent


# ----------------------------------------------------------------------------- input kinds
@pytest.mark.parametrize(("spec", "value", "fragment"), [
    (Input("r", "回复率", "rate"), 47, "单位疑误: 47 看似百分数, 请输入 47% 或 0.47"),
    (Input("r", "回复率", "rate"), 1.2, "120%, 比率应在 0%–100% 之间"),
    (Input("r", "回复率", "rate"), "120%", "120%, 比率应在 0%–100% 之间"),
    (Input("r", "回复率", "rate"), -0.1, "不能为负数"),
    (Input("c", "差评数", "count"), -1, "次数/人数不能为负数"),
    (Input("c", "差评数", "count"), 2.5, "应为整数"),
    (Input("m", "实际销售额", "money"), -5000, "金额不能为负数"),
    (Input("m", "实际销售额", "money"), 1e12, "超出合理范围"),
    (Input("s", "平均响应时间(秒)", "seconds"), -3, "秒数不能为负数"),
    (Input("h", "在线时长", "hours"), 1000, "超出合理范围"),
    (Input("y", "全勤(是/否)", "yesno"), "Y", "应为 是/否 之一"),
    (Input("e", "执行力", "choice", ("非常满意", "一般")), "很满意", "应为 非常满意/一般 之一"),
    (Input("m", "实际销售额", "money"), "abc", "应为数字"),
    (Input("y", "全勤(是/否)", "yesno"), " 是 ", "含空格, 公式读不出"),
    (Input("g", "团队", "team"), "售前一组 ", "含空格, 公式 (SUMIF) 按原文比较"),
    # classic xlwings sends a time-formatted cell (1:01 typed) as a datetime on Excel's epoch
    (Input("s", "平均响应时间(秒)", "seconds"), dt.datetime(1899, 12, 30, 0, 1, 1),
     "时间不是数字: 单元格是时间 00:01:01"),
    (Input("m", "实际销售额", "money"), dt.datetime(2026, 11, 5), "日期不是数字"),
])
def test_each_kind_flags_what_it_cannot_be(spec: Input, value: object, fragment: str) -> None:
    message = input_problem(spec, value)
    assert message is not None and fragment in message, message
    assert message.startswith(f"“{spec.header}”")


@pytest.mark.parametrize(("spec", "value"), [
    (Input("r", "回复率", "rate"), 1), (Input("r", "回复率", "rate"), "98.5%"),
    (Input("r", "回复率", "rate"), 0), (Input("c", "差评数", "count"), 0),
    (Input("c", "差评数", "count"), "1,280"), (Input("m", "实际销售额", "money"), 999_999_999),
    (Input("t", "备注", "text"), "任何文字"), (Input("g", "团队", "team"), "售前一组"),
])
def test_values_a_kind_allows_pass(spec: Input, value: object) -> None:
    assert input_problem(spec, value) is None


def test_an_input_may_override_its_kinds_bounds() -> None:
    from kpi_xl.templates.model import Bounds

    spec = Input("p", "调整", "money", bounds=Bounds(-1000, 1000))
    assert input_problem(spec, -500) is None
    assert "不能小于 -1000" in (input_problem(spec, -5000) or "")


# ----------------------------------------------------------------------------- months
@pytest.mark.parametrize(("value", "month"), [
    (46327.0, "2026-11"), (46266, "2026-09"), (dt.date(2026, 9, 1), "2026-09"),
    (dt.datetime(2026, 11, 1, 0, 0), "2026-11"), ("2026-11-01", "2026-11"),
    (202611.0, 202611.0), ("11月", "11月"),
])
def test_month_cells_read_dates_and_serials(value: object, month: object) -> None:
    assert month_text_of(value) == month


# ----------------------------------------------------------------------------- rules
def test_a_huge_ratio_is_out_of_range_not_a_unit_slip() -> None:
    rule = parse_rule("X≥100%:100; 90%≤X<100%:85; X<90%:0")
    huge, slip, read = evaluate(rule, [5714285.7, 95, 0.95]).errors
    assert "远超规则" in str(huge) and "看似百分数" not in str(huge)
    assert "单位疑误: 95 看似百分数" in str(slip)
    assert read is None


# ----------------------------------------------------------------------------- workbooks
def _sample(tmp: Path, template: str, agents: int = 8) -> Path:
    return new_month(template, tmp / f"{template}.xlsx", sample=True, agents=agents)


def _edit(path: Path, sheet: str, header: str, row: int, value: object,
          occurrence: int = 0) -> str:
    """Set the ``occurrence``-th column headed ``header`` on ``row``; returns the cell."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    cols = [c.column for c in ws[HEADER_ROW] if c.value == header]
    cell = ws.cell(row, cols[occurrence])
    cell.value = value
    wb.save(path)
    return cell.coordinate


def _agents(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path)["考核"]
    return [str(ws.cell(r, 1).value) for r in range(FIRST_ROW, ws.max_row + 1)
            if ws.cell(r, 1).value]


def test_whole_sheet_pool_is_held_when_a_row_feeding_it_is_bad(tmp_path: Path) -> None:
    """S3 绩效奖金: KPI_POOL ranks every agent's score; one agent's impossible count changes
    the ranking, so nobody is paid from the pool — the reason in 备注."""
    path = _sample(tmp_path, "presales-detail")
    agents = _agents(path)
    cell = _edit(path, "考核", "点名表扬次数", FIRST_ROW + 2, -4)
    result = refresh_file(path)
    assert any(row[1] == cell and "不能为负数" in row[3] for row in result.issue_rows)
    records = by_agent(result.records())
    for agent in agents:
        assert records[agent]["应发工资"] is None
        assert str(records[agent]["备注"]).startswith("待核")
    assert "全员共用奖金池" in str(records[agents[0]]["备注"])
    assert agents[2] in str(records[agents[0]]["备注"])


def test_a_bad_row_that_does_not_feed_the_pool_holds_only_its_agent(tmp_path: Path) -> None:
    """扣款 is not in the pool's formula: only that agent is 待核."""
    path = _sample(tmp_path, "presales-detail")
    agents = _agents(path)
    _edit(path, "考核", "扣款(赔偿损失)", FIRST_ROW + 2, -150)
    records = by_agent(refresh_file(path).records())
    assert records[agents[2]]["应发工资"] is None
    assert all(records[a]["应发工资"] is not None for a in agents if a != agents[2])


def test_template_headers_that_repeat_map_in_order(tmp_path: Path) -> None:
    """S6 has an input and a formula both headed 客户投诉扣分: no ambiguity, and a number typed
    over the formula (the second one) is caught, not the input."""
    path = _sample(tmp_path, "score-130")
    clean = refresh_file(path)
    assert clean.issues == 0 and clean.on_hold == 0
    agents = _agents(path)
    cell = _edit(path, "考核", "客户投诉扣分", FIRST_ROW, 0, occurrence=1)
    result = refresh_file(path)
    assert [row[1] for row in result.issue_rows] == [cell]
    assert "公式被改为数值" in result.issue_rows[0][3]
    assert by_agent(result.records())[agents[0]]["应发工资"] is None


def test_the_formula_check_needs_the_formula_cells(tmp_path: Path) -> None:
    """An adapter that cannot read formulas (xlwings Lite) passes ``formulas=None``: the
    check is skipped; the headless refresh passes them and catches the typed number."""
    path = _sample(tmp_path, "taobao-cs")
    _edit(path, "考核", "成交额完成度得分", FIRST_ROW, 100)
    computed = compute_book(path)
    sheets = {name: computed.values(name) for name in computed.book.sheets}
    template = detect_template(sheets)
    skipped = compute_payroll(template, sheets)
    assert not any("公式" in row[3] for row in skipped.issue_rows)
    formulas = {name: computed.formula_cells(name) for name in computed.book.sheets}
    checked = compute_payroll(template, sheets, formulas=formulas)
    assert [row[1] for row in checked.issue_rows if "公式被改为数值" in row[3]] == ["X5"]


def test_roster_pay_bases_are_checked(tmp_path: Path) -> None:
    """S7's 目标工资 lives on 员工: blank or negative holds the agent, listed on 员工."""
    path = _sample(tmp_path, "salary-80-20", agents=6)
    agents = _agents(path)
    first = _edit(path, "员工", "目标工资", FIRST_ROW, None)
    second = _edit(path, "员工", "目标工资", FIRST_ROW + 1, -4000)
    result = refresh_file(path)
    listed = {(row[0], row[1]) for row in result.issue_rows}
    assert {("员工", first), ("员工", second)} <= listed
    records = by_agent(result.records())
    assert records[agents[0]]["应发工资"] is None and records[agents[1]]["应发工资"] is None
    assert all(records[a]["应发工资"] is not None for a in agents[2:])


# ----------------------------------------------------------------------------- xlwings
class _Range:
    def __init__(self, formulas: object, row: int = 1, column: int = 1) -> None:
        self._formulas, self.row, self.column = formulas, row, column

    @property
    def formula(self) -> object:
        if isinstance(self._formulas, Exception):
            raise self._formulas
        return self._formulas


class _Sheet:
    def __init__(self, name: str, used: _Range) -> None:
        self.name, self.used_range = name, used


class _Book:
    def __init__(self, *sheets: _Sheet) -> None:
        self.sheets = SheetsByName(sheets)


def test_classic_xlwings_reads_formula_cells_and_lite_skips() -> None:
    classic = _Book(_Sheet("考核", _Range((("工号", "=A1"), ("KF001", "100")), row=4, column=1)))
    assert xlbook.read_formula_cells(classic) == {"考核": {(4, 2)}}
    lite = _Book(_Sheet("考核", _Range(NotImplementedError("Lite: values only"))))
    assert xlbook.read_formula_cells(lite) is None
    assert xlbook.read_formula_cells(_Book(_Sheet("考核", _Range("=1+1", 3, 7)))) == {
        "考核": {(3, 7)}}
    assert xlbook.read_formula_cells(_Book()) is None  # no 考核: nothing to check
