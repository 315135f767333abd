"""The template workbooks: committed files are exactly what the builder makes, and each one is
a complete, usable HR workbook (sheets, rules that parse, weights, validations, print setup)."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from kpi_xl.templates import TEMPLATE_DIR, TEMPLATES, build_template
from kpi_xl.templates.builder import (
    FIRST_ROW,
    HEADER_ROW,
    SHEETS,
    assumptions,
    build_workbook,
    pay_headers,
)

IDS = list(TEMPLATES)
ALLOWED = {"IF", "IFERROR", "ROUND", "SUM", "MIN", "MAX", "AVERAGE", "COUNT", "COUNTIF", "SUMIF",
           "SUMPRODUCT", "RANK", "INDEX", "MATCH", "_XLFN.IFS"}


@pytest.fixture(scope="module", params=IDS)
def built(request):
    template = TEMPLATES[request.param]
    data = build_template(template.id)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    _, layout = build_workbook(template)
    return template, data, wb, layout


def test_catalogue_has_the_seven_templates():
    assert IDS == ["taobao-cs", "after-sales", "presales-detail", "medal", "commission",
                   "score-130", "salary-80-20"]


@pytest.mark.parametrize("template_id", IDS)
def test_committed_file_is_exactly_the_build(template_id):
    path = TEMPLATE_DIR / f"{template_id}.xlsx"
    assert path.exists(), f"{path} missing: run python -m kpi_xl.templates"
    committed = path.read_bytes()
    fresh = build_template(template_id)
    if committed != fresh:  # name the differing parts before failing
        with zipfile.ZipFile(io.BytesIO(committed)) as a, zipfile.ZipFile(io.BytesIO(fresh)) as b:
            names = a.namelist()
            assert names == b.namelist()
            changed = [n for n in names if a.read(n) != b.read(n)]
        pytest.fail(f"{path.name} differs from the build in {changed or 'compression only'}; "
                    "run python -m kpi_xl.templates")


@pytest.mark.parametrize("template_id", IDS[:2])
def test_build_is_deterministic(template_id):
    assert build_template(template_id) == build_template(template_id)


def test_document_timestamps_are_fixed(built):
    _, data, _, _ = built
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        core = zf.read("docProps/core.xml").decode()
        assert all(info.date_time == (2026, 1, 1, 0, 0, 0) for info in zf.infolist())
    assert "2026-01-01T00:00:00Z" in core


def test_eight_sheets_in_order(built):
    _, _, wb, _ = built
    assert tuple(wb.sheetnames) == SHEETS


def test_rules_parse(built):
    notation = pytest.importorskip("kpi_xl.core.notation", reason="parse_rule not written yet")
    deduct = pytest.importorskip("kpi_xl.core.deduct", reason="parse_deduction not written yet")
    template, _, wb, layout = built
    rules = wb["规则"]
    for item in template.items:
        text = rules.cell(layout.rule_rows[item.key], 3).value
        if item.rule:
            assert text == item.rule
            notation.parse_rule(text)
    notation.parse_rule(rules.cell(layout.param_rows["grades"], 3).value)
    for param in template.params:
        text = rules.cell(layout.param_rows[param.key], 3).value
        if param.notation == "tier":
            notation.parse_rule(text)
        elif param.notation == "deduct":
            deduct.parse_deduction(text)


def test_item_rules_are_text_not_formulas(built):
    template, _, wb, layout = built
    for item in template.items:
        cell = wb["规则"].cell(layout.rule_rows[item.key], 3)
        assert cell.data_type == "s", (item.key, cell.value)


def test_weights_total_100_percent(built):
    template, _, wb, layout = built
    if not template.weighted:
        assert all(item.weight is None for item in template.items)
        return
    weights = [wb["规则"].cell(layout.rule_rows[i.key], 4).value for i in template.items]
    assert sum(weights) == pytest.approx(1.0)
    assert all(wb["规则"].cell(layout.rule_rows[i.key], 4).number_format == "0%"
               for i in template.items)
    assert "权重" in wb.defined_names


def test_pay_and_fixed_sheet_headers(built):
    template, _, wb, _ = built
    pay = [c.value for c in wb["工资"][HEADER_ROW] if c.value]
    assert pay[:5] == ["工号", "姓名", "团队", "KPI得分", "等级"]
    assert pay[-3:] == ["扣款", "应发工资", "备注"]
    assert tuple(pay) == pay_headers(template)
    assert [c.value for c in wb["历史"][HEADER_ROW] if c.value] == [
        "月份", "工号", "姓名", "团队", "KPI得分", "等级", "应发工资"]
    assert [c.value for c in wb["异常"][HEADER_ROW] if c.value] == ["工作表", "单元格", "工号", "问"
                                                                                      "题"]
    assert [c.value for c in wb["员工"][HEADER_ROW] if c.value][:5] == [
        "工号", "姓名", "团队", "岗位", "旺旺昵称"]
    assert "刷新按钮位置" in wb["工资"]["H2"].value


def test_assessment_inputs_headed_with_seed_names(built):
    template, _, wb, _ = built
    ws = wb["考核"]
    headers = [c.value for c in ws[HEADER_ROW] if c.value]
    assert headers[:3] == ["工号", "姓名", "团队"]
    assert [s.header for s in template.inputs] == headers[: len(template.inputs)]
    assert "KPI得分" in headers or "绩效得分" in headers or "得分" in headers
    assert "等级" in headers


def test_formulas_column_uniform_and_allowed(built):
    template, _, wb, layout = built
    ws = wb["考核"]
    last = FIRST_ROW + template.capacity - 1
    for key, letter in layout.columns.items():
        if layout.roles[key] == "input":
            continue
        first = ws[f"{letter}{FIRST_ROW}"].value
        text = first.text if hasattr(first, "text") else first
        assert isinstance(text, str) and text.startswith("="), (key, text)
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_.]*)\(", text):
            assert name.upper() in ALLOWED or name.startswith("KPI_"), (key, name)
        assert "XLOOKUP" not in text
        if hasattr(first, "ref"):  # array formula over the column
            assert first.ref == f"{letter}{FIRST_ROW}:{letter}{last}"
            continue
        for row in (FIRST_ROW + 1, last):
            got = ws[f"{letter}{row}"].value
            assert _relative(got, row) == _relative(text, FIRST_ROW), (key, row)
        assert text.startswith('=IF($A5="",""'), key


def _relative(formula: str, row: int) -> str:
    """The formula with relative row numbers written as offsets from ``row`` (R1C1-like)."""
    return re.sub(r"(\$?[A-Z]{1,3})(\d+)(?![\d(])",
                  lambda m: f"{m.group(1)}[{int(m.group(2)) - row}]", formula)


def test_kpi_functions_used_as_specified(built):
    template, _, wb, layout = built
    first_row = [wb["考核"][f"{letter}{FIRST_ROW}"].value for letter in layout.columns.values()]
    text = " ".join(getattr(v, "text", v) or "" for v in first_row if v)
    assert "KPI_TIER(" in text and "KPI_GRADE(" in text
    expected = {"taobao-cs": ["KPI_RATE(", "KPI_SCORE("], "after-sales": ['KPI_PAY("等级系数"'],
                "presales-detail": ["KPI_POOL(", "KPI_DEDUCT("], "medal": ["KPI_SCORE("],
                "commission": ['KPI_PAY("提成"'], "score-130": ['KPI_PAY("按分"', "KPI_DEDUCT("],
                "salary-80-20": ['KPI_PAY("80/20"']}[template.id]
    for fragment in expected:
        assert fragment in text


def test_real_spreadsheet_finish(built):
    template, _, wb, layout = built
    ws = wb["考核"]
    assert ws.freeze_panes == "D5"
    assert ws.protection.sheet and not ws.protection.password
    assert ws["A5"].protection.locked is False
    formula_letter = next(L for k, L in layout.columns.items() if layout.roles[k] != "input")
    assert ws[f"{formula_letter}5"].protection.locked is True
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert "decimal" in kinds or "whole" in kinds
    prompts = [dv.prompt for dv in ws.data_validations.dataValidation if dv.type == "decimal"]
    rate_inputs = [s for s in template.inputs if s.kind == "rate"]
    if rate_inputs:
        assert any(p and "47%" in p for p in prompts)
    choices = [s for s in template.inputs if s.kind in ("choice", "yesno")]
    if choices:
        assert "list" in kinds
    for name in SHEETS:
        sheet = wb[name]
        assert sheet.page_setup.orientation == "landscape", name
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0, name
    assert wb._fonts[0].name == "等线"
    assert wb["考核"]["A4"].font.name == "等线"


def test_guide_lists_every_assumption_with_its_cell(built):
    template, _, wb, layout = built
    guide = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    found = assumptions(layout)
    if template.id == "taobao-cs":
        assert any("满意度" in text and ref == "规则!C12" for text, ref in found)
    for text, ref in found:
        assert f"见 {ref}" in guide
        sheet, cell = ref.split("!")
        target = wb[sheet][cell].value
        assert target is not None or "表" in text, ref
    assert "每月怎么填" in guide


def test_overview_has_blocks_and_three_charts(built):
    template, _, wb, _ = built
    ws = wb["概览"]
    assert [ws.cell(4, c).value for c in (1, 2, 4, 5, 7, 8)] == [
        "等级", "人数", "分数段", "人数", "团队", "平均分"]
    assert [ws.cell(5 + i, 1).value for i in range(len(template.grades))] == [
        g.label for g in template.grades]
    assert len(ws._charts) == 3
