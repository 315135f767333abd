"""The one builder: a :class:`~kpi_xl.templates.model.Template` in, an openpyxl workbook out.

Every template workbook has the same nine sheets (说明, 规则, 员工, 考核, 工资, 明细, 历史, 异常,
概览);
what differs between templates is data. The saved bytes are deterministic (fixed document
timestamps, fixed zip entry dates and order) so the committed files in ``workbook_templates/``
can be compared byte for byte with a fresh build.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from kpi_xl.templates.button import BUTTON_COLUMNS, BUTTON_ROW_HEIGHT, with_refresh_button
from kpi_xl.templates.layout import (
    DETAIL_HEADERS,
    FIRST_ROW,
    HEADER_ROW,
    HISTORY_HEADERS,
    ISSUE_HEADERS,
    MONTH_LABEL,
    OVERVIEW_BLOCKS,
    PAY_LEAD,
    PAY_TAIL,
    REFRESH_BUTTON_CELL,
    SHEETS,
    TEAM_ROWS,
    TEMPLATE_ID_LABEL,
)
from kpi_xl.templates.model import Calc, Input, Template, item_label

FONT_NAME = "等线"
FIXED_TIME = "2026-01-01T00:00:00Z"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

ROSTER_LEAD = (
    Input("id", "工号", "id"),
    Input("name", "姓名", "name"),
    Input("team", "团队", "team"),
    Input("post", "岗位", "text"),
    Input("wangwang", "旺旺昵称", "text", width=22),
)
GUIDE_WIDTH = 100

RULE_WIDTHS = (6, 26, 62, 8, 40, 36)
"""规则 column widths A–F."""

FMT_MONEY = "¥#,##0.00"
FMT_RATE = "0.0%"
FMT_SECONDS = '0.0"秒"'
FMT_HOURS = '0.0"小时"'
FMT_POINTS = "0.0"
FMT_SCORE = "0.00"

KIND_FORMAT = {
    "money": FMT_MONEY, "rate": FMT_RATE, "seconds": FMT_SECONDS, "hours": FMT_HOURS,
    "count": "0", "points": FMT_POINTS, "score": FMT_SCORE, "id": "@", "name": "@",
    "team": "@", "text": "@",
}
KIND_WIDTH = {
    "id": 9, "name": 9, "team": 11, "text": 14, "money": 13, "count": 10, "rate": 11,
    "seconds": 11, "hours": 11, "choice": 11, "yesno": 9, "points": 10, "score": 10,
}

FILL_INPUT = PatternFill("solid", fgColor="DDEBF7")
FILL_CALC = PatternFill("solid", fgColor="E7E6E6")
FILL_POINTS = PatternFill("solid", fgColor="FCE4D6")
FILL_RESULT = PatternFill("solid", fgColor="E2EFDA")
FILL_TITLE = PatternFill("solid", fgColor="1F4E78")
FILL_SECTION = PatternFill("solid", fgColor="BDD7EE")
FILL_NOTE = PatternFill("solid", fgColor="FFF2CC")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
UNLOCKED = Protection(locked=False)


def _font(**kw: object) -> Font:
    return Font(name=FONT_NAME, size=kw.pop("size", 11), **kw)  # type: ignore[arg-type]


@dataclass
class Layout:
    """Where everything landed: column letters on 考核, cells on 规则."""

    template: Template
    columns: dict[str, str] = field(default_factory=dict)
    """考核 column key → letter (inputs, computed, and ``pt_<item>`` points columns)."""
    headers: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    rule_rows: dict[str, int] = field(default_factory=dict)
    """Item key → row of its rule on 规则 (column C)."""
    param_rows: dict[str, int] = field(default_factory=dict)
    table_cells: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Table key → (first column index, first data row, last data row) on 规则."""
    table_title_rows: dict[str, int] = field(default_factory=dict)
    roster_columns: dict[str, str] = field(default_factory=dict)
    weights_range: str = ""

    @property
    def last_row(self) -> int:
        return FIRST_ROW + self.template.capacity - 1


# --------------------------------------------------------------------------------------------
# formula templates


_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^}:]+))?(?::(\d+))?\}")


def resolve(formula: str, layout: Layout, row: int) -> str:
    """Expand the placeholders of a formula template (see :mod:`kpi_xl.templates.model`)."""
    first, last = FIRST_ROW, layout.last_row

    def one(match: re.Match[str]) -> str:
        kind, key, num = match.group(1), match.group(2), match.group(3)
        if kind == "c":
            return f"{layout.columns[key]}{row}"
        if kind == "col":
            letter = layout.columns[key]
            return f"${letter}${first}:${letter}${last}"
        if kind == "rule":
            return f"规则!$C${layout.rule_rows[key]}"
        if kind == "p":
            return f"规则!$C${layout.param_rows[key]}"
        if kind == "t":
            col0, r1, r2 = layout.table_cells[key]
            letter = get_column_letter(col0 + int(num) - 1)
            return f"规则!${letter}${r1}:${letter}${r2}"
        if kind == "tbl":
            col0, r1, r2 = layout.table_cells[key]
            width = len(next(t for t in layout.template.tables if t.key == key).headers)
            return (f"规则!${get_column_letter(col0)}${r1}:"
                    f"${get_column_letter(col0 + width - 1)}${r2}")
        if kind == "emp":
            letter = layout.roster_columns[key]
            ids = layout.roster_columns["id"]
            return (f"INDEX(员工!${letter}${first}:${letter}${last},"
                    f"MATCH($A{row},员工!${ids}${first}:${ids}${last},0))")
        if kind == "points":
            keys = [f"pt_{item.key}" for item in layout.template.items]
            return f"{layout.columns[keys[0]]}{row}:{layout.columns[keys[-1]]}{row}"
        if kind == "weights":
            return layout.weights_range
        if kind == "adj":
            keys = [k for k, r in layout.roles.items() if r == "adjust"]
            if len(keys) == 1:
                return f"{layout.columns[keys[0]]}{row}"
            return f"{layout.columns[keys[0]]}{row}:{layout.columns[keys[-1]]}{row}"
        raise ValueError(f"unknown placeholder {match.group(0)}")

    return _PLACEHOLDER.sub(one, formula)


def assessment_calcs(template: Template) -> list[tuple[str, Calc]]:
    """The computed columns of 考核 in sheet order, as ``(role, calc)``; points included."""
    return template.sheet_calcs()


# --------------------------------------------------------------------------------------------
# the builder


def check(template: Template) -> None:
    """Refuse text that a spreadsheet would read as a formula (a rule or note starting ``=``)."""
    texts = [(item.key, item.rule) for item in template.items]
    texts += [(item.key, item.definition) for item in template.items]
    texts += [(p.key, p.note) for p in template.params]
    texts += [(p.key, p.value) for p in template.params if p.notation is not None]
    for key, text in texts:
        if isinstance(text, str) and text.lstrip().startswith(("=", "+", "-", "@")):
            raise ValueError(f"{template.id}/{key}: text starting with {text[0]!r} would be "
                             f"read as a formula: {text!r}")
    calcs = {calc.key for _, calc in template.sheet_calcs()}
    rules = {rule.key for rule in template.history_rules}
    for line in template.pay_lines:
        known = rules if line.history else calcs
        if line.source not in known:
            raise ValueError(f"{template.id}: pay line {line.header} reads {line.source!r}, "
                             f"which is not a {'history rule' if line.history else '考核 column'}")
    inputs = {spec.key for spec in template.inputs}
    params = {param.key for param in template.params}
    if template.loss_key not in inputs or template.min_wage_key not in params:
        raise ValueError(f"{template.id}: needs the input {template.loss_key!r} and the "
                         f"parameter {template.min_wage_key!r} (wage law)")


def build_workbook(template: Template, month: str | None = None) -> tuple[Workbook, Layout]:
    """Build the workbook of ``template`` (an empty month when ``month`` is given)."""
    check(template)
    wb = Workbook()
    _set_default_font(wb)
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in SHEETS}
    layout = Layout(template)
    _rules_sheet(sheets["规则"], layout, wb)
    _roster_sheet(sheets["员工"], layout)
    _assessment_sheet(sheets["考核"], layout, month)
    _pay_sheet(sheets["工资"], layout)
    _simple_sheet(sheets["明细"], f"明细 — {template.title}", DETAIL_HEADERS,
                  "由刷新程序填写: 每人每个考核项目的输入值、命中的档位 (KPI_EXPLAIN) 和得分。",
                  {"得分": FMT_POINTS}, layout, widths={"指标": 18, "命中档位": 48})
    _simple_sheet(sheets["历史"], f"历史 — {template.title}", HISTORY_HEADERS,
                  "由刷新程序在每月结账时追加本月结果; 也可粘贴以前月份的结果 (多月规则据此判断淘汰"
                  "、晋升)。",
                  {"KPI得分": FMT_SCORE, "应发工资": FMT_MONEY}, layout)
    _simple_sheet(sheets["异常"], f"异常 — {template.title}", ISSUE_HEADERS,
                  "刷新程序在此列出无法计算的单元格及原因 (例如 差评数为负、转化率填成 47 而不是 47"
                  "%)。",
                  {}, layout, widths={"问题": 80, "单元格": 10})
    _overview_sheet(sheets["概览"], layout)
    _guide_sheet(sheets["说明"], layout)
    wb.active = 0
    wb.properties.creator = "kpi_xl"
    wb.properties.lastModifiedBy = "kpi_xl"
    wb.properties.title = template.title
    wb.properties.subject = f"客服KPI考核与工资 ({template.source})"
    return wb, layout


def _set_default_font(wb: Workbook) -> None:
    """Make 等线 the workbook's default font (every cell without its own font uses it)."""
    base = _font()
    wb._fonts[0] = base
    for style in wb._named_styles:
        if style.name == "Normal":
            style.font = base


def _title(ws: Worksheet, text: str, note: str | None = None) -> None:
    ws["A1"] = text
    ws["A1"].font = _font(size=14, bold=True, color="1F4E78")
    ws.row_dimensions[1].height = 24
    if note:
        ws["A2"] = note
        ws["A2"].font = _font(size=10, color="595959")


def _header(ws: Worksheet, row: int, col: int, text: str, fill: PatternFill) -> None:
    cell = ws.cell(row, col, text)
    cell.font = _font(bold=True)
    cell.fill = fill
    cell.alignment = CENTER
    cell.border = BORDER


def _print_setup(ws: Worksheet, title_rows: str | None = None, portrait: bool = False) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait" if portrait else "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&A 第 &P 页 / 共 &N 页"


def _text_width(text: object) -> int:
    """Display width in Excel character units (a CJK character counts two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text or ""))


def _fit_height(ws: Worksheet, row: int, cells: list[tuple[float, object]],
                line: float = 15) -> None:
    """Set the row height so wrapped text shows in full (LibreOffice does not auto-size)."""
    lines = 1
    for width, text in cells:
        if text:
            lines = max(lines, -(-_text_width(text) // max(1, int(width * 0.95))))
    if lines > 1:
        ws.row_dimensions[row].height = line * lines + 2


def _width(header: str, kind: str | None = None, width: float | None = None) -> float:
    if width:
        return width
    cjk = _text_width(header)
    return max(KIND_WIDTH.get(kind or "", 10), min(cjk + 2, 24) if cjk <= 14 else 14)


# ---- 规则


def _rules_sheet(ws: Worksheet, layout: Layout, wb: Workbook) -> None:
    t = layout.template
    _title(ws, f"规则 — {t.title}",
           "每条规则是 C 列里的一段文字, 写法与原考核表相同 (见 说明)。改档位、权重、金额只需改本表"
           ", "
           "考核表的公式自动引用。")
    heads = ("序号", "考核项目", "标准 (档位规则)", "权重", "详细描述 / 计算方法", "说明")
    for i, head in enumerate(heads, start=1):
        _header(ws, HEADER_ROW, i, head, FILL_SECTION)
    row = FIRST_ROW
    for n, item in enumerate(t.items, start=1):
        name = item_label(item)
        values = (n, name, item.rule or "—", item.weight, item.definition,
                  item.assumption and f"假设: {item.assumption}")
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row, col, value if value != "" else None)
            cell.border = BORDER
            cell.alignment = WRAP
        ws.cell(row, 4).number_format = "0%"
        ws.cell(row, 4).alignment = CENTER
        ws.cell(row, 1).alignment = CENTER
        if item.assumption:
            ws.cell(row, 3).fill = FILL_NOTE
        _fit_height(ws, row, list(zip(RULE_WIDTHS[1:], values[1:], strict=True)))
        layout.rule_rows[item.key] = row
        row += 1
    if t.weighted:
        first, last = FIRST_ROW, row - 1
        layout.weights_range = f"规则!$D${first}:$D${last}"
        ws.cell(row, 2, "权重合计 (须为 100%)").font = _font(bold=True)
        total = ws.cell(row, 4, f"=SUM(D{first}:D{last})")
        total.number_format = "0%"
        total.font = _font(bold=True)
        total.alignment = CENTER
        wb.defined_names["权重"] = DefinedName("权重", attr_text=layout.weights_range)
        row += 1
    row += 1
    for i, head in enumerate(("", "参数", "值", "", "说明"), start=1):
        _header(ws, row, i, head, FILL_SECTION)
    row += 1
    grade_note = "总分落在哪个区间就是哪个等级; 区间写法同档位规则。"
    grade_params = [("grades", "等级 (按 KPI 得分)", t.grade_rule, "General", grade_note,
                     t.grade_assumption, "等级规则")]
    grade_params += [(p.key, p.label, p.value, p.fmt, p.note, p.assumption, p.defined_name)
                     for p in t.params]
    rows = {entry[0]: row + i for i, entry in enumerate(grade_params)}
    for key, label, value, fmt, note, assumption, defined in grade_params:
        if isinstance(value, str) and value.startswith("="):
            value = re.sub(r"\{(\w+)\}", lambda m: str(rows[m.group(1)]), value)
        ws.cell(row, 2, label).alignment = WRAP
        cell = ws.cell(row, 3, value)
        cell.number_format = fmt
        cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        remark = note
        if assumption:
            remark = f"假设: {assumption}" + (f" {note}" if note else "")
            cell.fill = FILL_NOTE
        if value is None:
            cell.fill = FILL_NOTE
        ws.cell(row, 5, remark or None).alignment = WRAP
        _fit_height(ws, row, [(RULE_WIDTHS[1], label), (RULE_WIDTHS[2], value),
                              (RULE_WIDTHS[4], remark)])
        for col in (2, 3, 4, 5):
            ws.cell(row, col).border = BORDER
        layout.param_rows[key] = row
        if defined:
            wb.defined_names[defined] = DefinedName(defined, attr_text=f"规则!$C${row}")
        row += 1
    for table in t.tables:
        row += 1
        ws.cell(row, 2, table.title).font = _font(bold=True, color="1F4E78")
        remark = table.note
        if table.assumption:
            remark = f"假设: {table.assumption}" + (f" {table.note}" if table.note else "")
        if remark:
            note_col = 5 if len(table.headers) < 4 else len(table.headers) + 2
            ws.cell(row, note_col, remark).alignment = WRAP
            ws.merge_cells(start_row=row, start_column=note_col, end_row=row,
                           end_column=note_col + 1)
            _fit_height(ws, row, [(RULE_WIDTHS[4] + RULE_WIDTHS[5], remark)])
        layout.table_title_rows[table.key] = row
        row += 1
        for i, head in enumerate(table.headers):
            _header(ws, row, 2 + i, head, FILL_SECTION)
        row += 1
        first = row
        for values in table.rows:
            for i, value in enumerate(values):
                cell = ws.cell(row, 2 + i, value)
                cell.border = BORDER
                cell.alignment = WRAP
                if i < len(table.formats) and table.formats[i]:
                    cell.number_format = table.formats[i]
                if value is None:
                    cell.fill = FILL_NOTE
            _fit_height(ws, row, list(zip(RULE_WIDTHS[1:], values, strict=False)))
            row += 1
        layout.table_cells[table.key] = (2, first, row - 1)
    for col, width in zip("ABCDEF", RULE_WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A5"
    _print_setup(ws, "4:4")


# ---- 员工


def roster_inputs(template: Template) -> tuple[Input, ...]:
    return (*ROSTER_LEAD, *template.roster)


def _roster_sheet(ws: Worksheet, layout: Layout) -> None:
    t = layout.template
    _title(ws, f"员工 — {t.title}", "花名册: 每人一行, 工号唯一。考核表按工号取本表的岗位与工资基数"
                                  "。")
    for col, spec in enumerate(roster_inputs(t), start=1):
        letter = get_column_letter(col)
        layout.roster_columns[spec.key] = letter
        _header(ws, HEADER_ROW, col, spec.header, FILL_INPUT)
        ws.column_dimensions[letter].width = _width(spec.header, spec.kind, spec.width)
        fmt = KIND_FORMAT.get(spec.kind)
        if fmt and spec.kind not in ("id", "name", "team", "text"):
            for row in range(FIRST_ROW, layout.last_row + 1):
                ws.cell(row, col).number_format = fmt
        _validate(ws, spec, letter, layout.last_row)
    ws.freeze_panes = "C5"
    _print_setup(ws, "4:4")


# ---- 考核


def _assessment_sheet(ws: Worksheet, layout: Layout, month: str | None) -> None:
    t = layout.template
    last = layout.last_row
    _title(ws, t.title)
    ws["A2"] = MONTH_LABEL
    ws["A2"].font = _font(bold=True)
    ws["B2"] = month
    ws["B2"].fill = FILL_INPUT
    ws["B2"].protection = UNLOCKED
    ws["D2"] = ("蓝色表头: 每月填写 (可粘贴); 灰色/橙色/绿色表头: 公式, 已锁定 "
                "(审阅 → 撤销工作表保护, 无密码)。比例填 47% 或 0.47。")
    ws["D2"].font = _font(size=10, color="595959")
    col = 1
    for spec in t.inputs:
        letter = get_column_letter(col)
        layout.columns[spec.key] = letter
        layout.headers[spec.key] = spec.header
        layout.roles[spec.key] = "input"
        col += 1
    calcs = assessment_calcs(t)
    for role, calc in calcs:
        letter = get_column_letter(col)
        layout.columns[calc.key] = letter
        layout.headers[calc.key] = calc.header
        layout.roles[calc.key] = role
        col += 1
    # group labels (row 3)
    groups = {"input": "输入 (每月填写)", "lookup": "取自员工表", "value": "计算值",
              "points": "各项得分", "adjust": "加减分", "score": "结果", "grade": "结果",
              "pay": "奖金/工资 (公式)"}
    previous = None
    for key, role in layout.roles.items():
        label = groups[role]
        if label != previous:
            cell = ws[f"{layout.columns[key]}3"]
            cell.value = label
            cell.font = _font(bold=True, size=10, color="595959")
            previous = label
    # inputs
    for spec in t.inputs:
        letter = layout.columns[spec.key]
        c = col_index(letter)
        _header(ws, HEADER_ROW, c, spec.header, FILL_INPUT)
        ws.column_dimensions[letter].width = _width(spec.header, spec.kind, spec.width)
        fmt = KIND_FORMAT.get(spec.kind, "General")
        for row in range(FIRST_ROW, last + 1):
            cell = ws.cell(row, c)
            cell.protection = UNLOCKED
            if fmt != "General":
                cell.number_format = fmt
        _validate(ws, spec, letter, last)
    # formulas
    fills = {"lookup": FILL_CALC, "value": FILL_CALC, "points": FILL_POINTS,
             "adjust": FILL_POINTS, "score": FILL_RESULT, "grade": FILL_RESULT,
             "pay": FILL_RESULT}
    for role, calc in calcs:
        letter = layout.columns[calc.key]
        c = col_index(letter)
        _header(ws, HEADER_ROW, c, calc.header, fills[role])
        ws.column_dimensions[letter].width = _width(calc.header, None, calc.width)
        if calc.array:
            text = "=" + resolve(calc.formula, layout, FIRST_ROW)
            ws.cell(FIRST_ROW, c).value = ArrayFormula(f"{letter}{FIRST_ROW}:{letter}{last}", text)
            for row in range(FIRST_ROW, last + 1):
                ws.cell(row, c).number_format = calc.fmt
            continue
        for row in range(FIRST_ROW, last + 1):
            body = resolve(calc.formula, layout, row)
            if calc.guard:
                body = f'IF($A{row}="","",{body})'
            cell = ws.cell(row, c, "=" + body)
            cell.number_format = calc.fmt
    ws.row_dimensions[HEADER_ROW].height = 45
    ws.freeze_panes = f"{get_column_letter(4)}{FIRST_ROW}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(col - 1)}{last}"
    ws.print_area = f"A1:{get_column_letter(col - 1)}{last}"
    _print_setup(ws, "3:4")
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False


def col_index(letter: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letter)


def _validate(ws: Worksheet, spec: Input, letter: str, last: int) -> None:
    """Data validation for one input column (rows FIRST_ROW..last)."""
    area = f"{letter}{FIRST_ROW}:{letter}{last}"
    dv: DataValidation | None = None
    if spec.kind in ("choice", "yesno"):
        choices = spec.allowed
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        dv.error = "请从下拉列表中选择: " + " / ".join(choices)
        dv.prompt = spec.note or "从下拉列表选择: " + " / ".join(choices)
    elif spec.kind == "rate":
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                            allow_blank=True)
        dv.error = "比例应在 0%–100% 之间: 填 47% 或 0.47, 不要填 47"
        dv.prompt = spec.note if "47%" in spec.note else (
            f"{spec.note}; 比例填 47% 或 0.47" if spec.note else "填 47% 或 0.47")
    elif spec.kind in ("money", "seconds", "hours", "points", "score"):
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
        dv.error = "请填不小于 0 的数字"
        dv.prompt = spec.note or {"money": "金额 (元), 不能为负", "seconds": "秒数, 不能为负",
                                  "hours": "小时数, 不能为负"}.get(spec.kind, "不小于 0 的数字")
    elif spec.kind == "count":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
        dv.error = "请填不小于 0 的整数 (次数/人数)"
        dv.prompt = spec.note or "不小于 0 的整数"
    elif spec.note:
        dv = DataValidation(type=None, allow_blank=True)
        dv.prompt = spec.note
    if dv is None:
        return
    dv.prompt = (dv.prompt or "")[:250]
    dv.errorTitle = "输入有误"
    dv.promptTitle = spec.header
    dv.showErrorMessage = True
    dv.showInputMessage = True
    dv.add(area)
    ws.add_data_validation(dv)


# ---- 工资, 历史, 异常


def pay_headers(template: Template) -> tuple[str, ...]:
    return (*PAY_LEAD, *template.pay_headers, *PAY_TAIL)


def _pay_sheet(ws: Worksheet, layout: Layout) -> None:
    t = layout.template
    calc_formats = {calc.key: calc.fmt for _, calc in t.sheet_calcs()}
    formats = {"KPI得分": FMT_SCORE, "扣款": FMT_MONEY, "应发工资": FMT_MONEY}
    for line in t.pay_lines:
        fmt = FMT_MONEY if line.history else calc_formats[line.source]
        formats[line.header] = FMT_MONEY if line.money and fmt == "General" else fmt
    _simple_sheet(ws, f"工资 — {t.title}", pay_headers(t),
                  "本表由刷新程序计算填写, 请勿手工修改; 规则与金额见 规则 表。", formats, layout,
                  widths={"备注": 36})
    # The 刷新工资表 button (a shape, added to the saved zip by .button) covers this cell and
    # the next one and links here; the text shows only if the button is deleted.
    link = ws[REFRESH_BUTTON_CELL]
    link.value = "刷新按钮位置"
    link.fill = FILL_NOTE
    link.font = _font(size=8)
    link.alignment = Alignment(horizontal="center", vertical="center", shrink_to_fit=True)
    ws.row_dimensions[link.row].height = BUTTON_ROW_HEIGHT
    ws["A2"].alignment = Alignment(vertical="center")
    hint = ws.cell(link.row, link.column + BUTTON_COLUMNS,
                   "← 点击按钮刷新工资 (kpi_xl 加载项 或 xlwings Lite); "
                   "没有 Excel 时: kpi-xl refresh 本文件.xlsx")
    hint.font = _font(size=10, color="595959")
    hint.alignment = Alignment(vertical="center")


def _simple_sheet(ws: Worksheet, title: str, headers: tuple[str, ...], note: str,
                  formats: dict[str, str], layout: Layout,
                  widths: dict[str, float] | None = None) -> None:
    _title(ws, title, note)
    widths = widths or {}
    for col, head in enumerate(headers, start=1):
        _header(ws, HEADER_ROW, col, head, FILL_CALC)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = widths.get(head, _width(head, None, None) + 2)
        if head in formats:
            for row in range(FIRST_ROW, layout.last_row + 1):
                ws.cell(row, col).number_format = formats[head]
    ws.freeze_panes = "A5"
    _print_setup(ws, "4:4")


# ---- 概览


def _overview_sheet(ws: Worksheet, layout: Layout) -> None:
    t = layout.template
    _title(ws, f"概览 — {t.title}", "下列数据块由刷新程序填写, 图表随之更新。")
    labels = ([g.label for g in t.grades], list(t.score_bins), [None] * TEAM_ROWS)
    titles = ("等级分布", "KPI得分分布", "各团队平均分")
    blocks = [(col, heads, rows, title) for (col, heads), rows, title
              in zip(OVERVIEW_BLOCKS, labels, titles, strict=True)]
    top = HEADER_ROW
    for col, heads, labels, chart_title in blocks:
        for i, head in enumerate(heads):
            _header(ws, top, col + i, head, FILL_SECTION)
        for r, label in enumerate(labels, start=top + 1):
            ws.cell(r, col, label).border = BORDER
            cell = ws.cell(r, col + 1)
            cell.border = BORDER
            cell.number_format = FMT_SCORE if heads[1] == "平均分" else "0"
        last = top + len(labels)
        chart = BarChart()
        chart.type = "col"
        chart.title = chart_title
        chart.style = 10
        chart.legend = None
        chart.y_axis.title = heads[1]
        chart.x_axis.title = heads[0]
        chart.add_data(Reference(ws, min_col=col + 1, min_row=top, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=col, min_row=top + 1, max_row=last))
        chart.width = 11
        chart.height = 7
        ws.add_chart(chart, f"{get_column_letter(1 + (col - 1) * 2)}{top + TEAM_ROWS + 3}")
    for letter in "ABCDEFGHIJKLMNOPQR":
        ws.column_dimensions[letter].width = 10
    for letter in "ADG":
        ws.column_dimensions[letter].width = 13
    _print_setup(ws)


# ---- 说明


def assumptions(layout: Layout) -> list[tuple[str, str]]:
    """Every assumption as ``(text, "规则!C12")``, in sheet order."""
    t = layout.template
    found: list[tuple[str, str]] = []
    for item in t.items:
        if item.assumption:
            found.append((f"{item.name}: {item.assumption}", f"规则!C{layout.rule_rows[item.key]}"))
    if t.grade_assumption:
        found.append((f"等级: {t.grade_assumption}", f"规则!C{layout.param_rows['grades']}"))
    for p in t.params:
        if p.assumption:
            found.append((f"{p.label}: {p.assumption}", f"规则!C{layout.param_rows[p.key]}"))
    for table in t.tables:
        if table.assumption:
            found.append((f"{table.title}: {table.assumption}",
                          f"规则!B{layout.table_title_rows[table.key]}"))
    return found


def _guide_sheet(ws: Worksheet, layout: Layout) -> None:
    t = layout.template
    _title(ws, f"{t.title} — 使用说明")
    ws["A2"] = f"来源: 原考核表 {t.source} (见 docs/seed-catalogue)。{TEMPLATE_ID_LABEL} {t.id}"
    ws["A2"].font = _font(size=10, color="595959")
    lines: list[tuple[str, str | None, str | None]] = []  # (text, style, link)

    def section(title: str) -> None:
        lines.append(("", None, None))
        lines.append((title, "section", None))

    section("这是什么")
    lines.append((t.purpose, None, None))
    section("各工作表")
    for name, text in (
        ("说明", "本页: 用途、每月步骤、所有假设。"),
        ("规则", "考核项目、档位规则 (文字)、权重、等级、工资参数。改规则只改这里。"),
        ("员工", "花名册: 工号、姓名、团队、岗位、旺旺昵称及工资基数。"),
        ("考核", "每人一行: 蓝色列每月填写, 其余列为公式 (已锁定, 无密码)。"),
        ("工资", "刷新后生成: 各工资项目、扣款、应发工资; 备注列出 待核、淘汰预警 等标记。"),
        ("明细", "刷新后生成: 每人每项的输入值、命中档位与得分, 可逐项核对。"),
        ("历史", "以往月份的得分与等级; 淘汰/晋升等多月规则据此判断。"),
        ("异常", "刷新时发现的问题清单 (哪个单元格、什么问题、怎么改)。"),
        ("概览", "等级分布、分数分布、团队平均分及图表。"),
    ):
        lines.append((f"{name}: {text}", None, f"#'{name}'!A1"))
    section("每月怎么填")
    steps = (
        "复制上月工作簿 (或运行 kpi-xl new 模板 新文件.xlsx --month 2026-11), 在 考核!B2 填考核月份"
        "。",
        "在 员工 表核对花名册 (新人加一行, 离职删一行)。",
        "在 考核 表每人一行填蓝色列 (可从后台导出后粘贴); 比例填 47% 或 0.47; "
        "“可直接填”的列与明细计数二选一, 填了比例就用比例。",
        *t.monthly_steps,
        "点击 工资 表上的“刷新”: 计算工资、写入 历史 与 概览, 问题列在 异常 表。",
        "核对 异常 表为空后打印或导出 PDF (每张表已设为一页宽)。",
    )
    for n, step in enumerate(steps, start=1):
        lines.append((f"{n}. {step}", None, None))
    section("规则怎么写 (规则 表 C 列)")
    for text in (
        "每条规则由若干档组成, 用分号隔开; 每档写作 条件:结果, 从左到右第一条满足的档生效。",
        "条件可写成原表的样子: X≥100%、90%≤X<100%、30s<N≤45s、P≥4W; 也可写 [90%,100%)、≥45%、非常满"
        "意、其他。",
        "数字: 47% = 0.47, 6‰ = 0.006, 4W = 4万 = 40000; 单位 秒/元/分/人/次 可写可不写。",
        "例: 成交额完成度  X≥100%:100; 90%≤X<100%:85; …; X<40%:0",
        "扣分规则 (KPI_DEDUCT) 写作: 每次-1; 满3次每次-15 或 免2次; 每次-3; 封顶-20。",
        "任何值不落在任何档内时, 公式显示错误而不是 0, 用 KPI_EXPLAIN(值, 规则) 可看原因。",
    ):
        lines.append((text, None, None))
    section("假设 (原表不明确处, 均可在 规则 表修改)")
    found = assumptions(layout)
    if not found:
        lines.append(("本模板没有额外假设。", None, None))
    for text, ref in found:
        sheet, cell = ref.split("!")
        lines.append((f"• {text} —— 见 {ref}", "assumption", f"#'{sheet}'!{cell}"))
    if t.notes:
        section("其他说明")
        for text in t.notes:
            lines.append((text, None, None))
    row = 3
    for text, style, link in lines:
        cell = ws.cell(row, 1, text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "section":
            cell.font = _font(bold=True, size=12, color="FFFFFF")
            cell.fill = FILL_TITLE
        elif style == "assumption":
            cell.fill = FILL_NOTE
        _fit_height(ws, row, [(GUIDE_WIDTH, text)], line=16)
        if link:  # a place in this document (location=, not an external "#…" target)
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link.removeprefix("#"))
            if style != "assumption":
                cell.font = _font(color="0563C1", underline="single")
        row += 1
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    _print_setup(ws)


# --------------------------------------------------------------------------------------------
# deterministic bytes


def to_bytes(wb: Workbook, stamp: str = FIXED_TIME) -> bytes:
    """Save ``wb`` with fixed document timestamps and fixed zip entry dates, plus what
    openpyxl cannot write: the 刷新工资表 button shape on 工资 (:mod:`.button`)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return normalise_zip(with_refresh_button(buffer.getvalue()), stamp)


_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise_zip(data: bytes, stamp: str = FIXED_TIME) -> bytes:
    """Rewrite a zip with fixed entry dates, attributes and the document timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED, compresslevel=6
    ) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _STAMP.sub(lambda m: m.group(1) + stamp.encode() + m.group(3), body)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            dst.writestr(entry, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()
