"""Generate the bad-input corpus: each file is ONE real mistake HR or a platform export makes.

    python tests/corpus/make_corpus.py            # rewrite every corpus file and README.md
    python tests/corpus/make_corpus.py --check    # compare a fresh build with the committed one

Workbooks start from the ``taobao-cs`` sample month (8 agents, 2026-11; KF001 on 考核 row 5 …
KF008 on row 12; the mistakes mostly sit on KF003's row 7) and are edited with openpyxl, the
way another spreadsheet program would save them; exports are written byte for byte. Output is
deterministic (fixed zip dates and document timestamps), so regenerating gives the same files.
What each case should make kpi-xl do lives in ``tests/test_reliability_corpus.py`` (``CASES``);
this script carries the one-line description of the mistake that README.md lists.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import io
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))

from kpi_xl.templates import new_month  # noqa: E402

MONTH = "2026-11"
AGENTS = 8
BASE = "base_sample.xlsx"
"""The clean sample month: the reference for refresh results and the target of every export."""
ZIP_DATE = (2026, 11, 1, 0, 0, 0)
STAMP = "2026-11-01T00:00:00Z"

Book = openpyxl.Workbook


@dataclass(frozen=True)
class Case:
    """One corpus file: its name, the mistake (for README.md) and how to make it."""

    file: str
    mistake: str
    build: Callable[[Path], None]


# ----------------------------------------------------------------------------- helpers
@functools.cache
def _sample_bytes(template: str, history: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = new_month(template, Path(tmp) / "sample.xlsx", month=MONTH, sample=True,
                         agents=AGENTS, history_months=history)
        return path.read_bytes()


def _sample(path: Path, *, template: str = "taobao-cs", history: int = 0) -> None:
    path.write_bytes(_sample_bytes(template, history))


def _normalised(data: bytes) -> bytes:
    """Fixed zip entry dates and document timestamps, so the output is reproducible."""
    out = io.BytesIO()
    stamp = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = stamp.sub(lambda m: m.group(1) + STAMP.encode() + m.group(3), body)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            dst.writestr(entry, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()


def _save(wb: Book, path: Path) -> None:
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_normalised(buffer.getvalue()))


def edited(edit: Callable[[Book], None], *, template: str = "taobao-cs",
           history: int = 0) -> Callable[[Path], None]:
    """A builder: the sample month of ``template``, changed by ``edit`` and saved by openpyxl."""
    def build(path: Path) -> None:
        wb = openpyxl.load_workbook(io.BytesIO(_sample_bytes(template, history)))
        edit(wb)
        _save(wb, path)
    return build


def column(ws: Worksheet, header: str, row: int = 4) -> str:
    """The column letter of ``header`` on the header row."""
    for cell in ws[row]:
        if cell.value == header:
            return get_column_letter(cell.column)
    raise KeyError(header)


def put(sheet: str, header: str, row: int, value: object, *, text: bool = False
        ) -> Callable[[Book], None]:
    """An edit: one 考核/员工 cell found by its header (``text`` keeps a leading ``=`` or ``#``
    as typed text)."""
    def edit(wb: Book) -> None:
        ws = wb[sheet]
        cell = ws[f"{column(ws, header)}{row}"]
        cell.value = value
        if text:
            cell.data_type = "s"
    return edit


def rule(label: str, value: object, col: str = "C") -> Callable[[Book], None]:
    """An edit on 规则: the cell in column ``col`` of the row labelled ``label`` (column B)."""
    def edit(wb: Book) -> None:
        ws = wb["规则"]
        row = next(c.row for c in ws["B"] if c.value == label)
        ws[f"{col}{row}"] = value
    return edit


def both(*edits: Callable[[Book], None]) -> Callable[[Book], None]:
    def edit(wb: Book) -> None:
        for one in edits:
            one(wb)
    return edit


_STRING = re.compile(r'"[^"]*"')
_REF = re.compile(
    r"(?<![A-Za-z0-9_.$])(?P<sheet>(?:'[^']+'|[^\s!(),:;'\"=+\-*/&<>^{}]+)!)?"
    r"(?P<c1>\$?)(?P<l1>[A-Z]{1,3})(?P<r1>\$?\d+)"
    r"(?::(?P<c2>\$?)(?P<l2>[A-Z]{1,3})(?P<r2>\$?\d+))?(?![A-Za-z0-9_(])")


def shift_columns(formula: str, at: int, sheet_name: str) -> str:
    """What Excel does to a formula on ``sheet_name`` when a column is inserted at ``at``:
    references to that sheet at or right of ``at`` move one column right."""
    def move(letters: str) -> str:
        index = column_index_from_string(letters)
        return get_column_letter(index + 1) if index >= at else letters

    def replace(match: re.Match[str]) -> str:
        sheet = match["sheet"]
        if sheet and sheet.rstrip("!").strip("'") != sheet_name:
            return match[0]
        out = f"{sheet or ''}{match['c1']}{move(match['l1'])}{match['r1']}"
        if match["l2"]:
            out += f":{match['c2']}{move(match['l2'])}{match['r2']}"
        return out

    parts = []
    last = 0
    for string in _STRING.finditer(formula):
        parts.append(_REF.sub(replace, formula[last:string.start()]))
        parts.append(string[0])
        last = string.end()
    parts.append(_REF.sub(replace, formula[last:]))
    return "".join(parts)


def insert_column(wb: Book, at: str, header: str, values: dict[int, object]) -> None:
    """Insert a column into 考核 before ``at`` as Excel would: cells, formulas (also the array
    formula), data validations and merged ranges move right; then fill the new column."""
    ws = wb["考核"]
    index = column_index_from_string(at)
    ws.insert_cols(index)
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and value.startswith("="):
                cell.value = shift_columns(value, index, ws.title)
            elif isinstance(value, ArrayFormula):
                ref = shift_columns(value.ref, index, ws.title)
                cell.value = ArrayFormula(ref, shift_columns(value.text, index, ws.title))
    for validation in ws.data_validations.dataValidation:
        validation.sqref = openpyxl.worksheet.cell_range.MultiCellRange(
            shift_columns(str(validation.sqref).replace(" ", ","), index, ws.title)
            .replace(",", " "))
    for merged in list(ws.merged_cells.ranges):
        if merged.min_col >= index:
            merged.shift(col_shift=1)
    ws.cell(4, index, header)
    for row, value in values.items():
        ws.cell(row, index, value)


def _move_rows_down(wb: Book, first: int, last: int, by: int) -> None:
    """Blank rows in the middle of 考核: the input cells of rows first..last move down."""
    ws = wb["考核"]
    inputs = [c.column for c in ws[4] if c.value and not str(ws.cell(5, c.column).value or "")
              .startswith("=") and not isinstance(ws.cell(5, c.column).value, ArrayFormula)]
    for row in range(last, first - 1, -1):
        for col in inputs:
            ws.cell(row + by, col).value = ws.cell(row, col).value
            ws.cell(row, col).value = None


def _delete_roster_row(wb: Book, row: int) -> None:
    ws = wb["员工"]
    ws.delete_rows(row)


def _add_roster_row(wb: Book) -> None:
    ws = wb["员工"]
    for col, value in enumerate(("KF009", "周新", "售前一组", "售前客服", "悦然家居旗舰店:小周"),
                                start=1):
        ws.cell(13, col, value)


def _merge_header(wb: Book) -> None:
    ws = wb["考核"]
    ws.merge_cells(f"{column(ws, '总接待客户数')}4:{column(ws, '回复过的旺旺数')}4")


def _history_month_text(wb: Book) -> None:
    ws = wb["历史"]
    for row in range(5, ws.max_row + 1):
        value = ws.cell(row, 1).value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = value.split("-")
            ws.cell(row, 1, f"{year}年{int(month)}月")


def _history_month_as_date(wb: Book) -> None:
    ws = wb["历史"]
    for row in range(5, ws.max_row + 1):
        value = ws.cell(row, 1).value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = value.split("-")
            ws.cell(row, 1).value = dt.datetime(int(year), int(month), 1)
            ws.cell(row, 1).number_format = "yyyy-mm"


def _history_month_no_year(wb: Book) -> None:
    ws = wb["历史"]
    ws.cell(5, 1, "9月")


def _extra_column(wb: Book) -> None:
    roster = wb["员工"]
    nicks = {roster.cell(r, 1).value: roster.cell(r, 5).value for r in range(5, 13)}
    ws = wb["考核"]
    values = {r: nicks[ws.cell(r, 1).value] for r in range(5, 13)}
    insert_column(wb, column(ws, "计划销售额"), "旺旺昵称", values)


def _two_sales_columns(wb: Book) -> None:
    ws = wb["考核"]
    values = {r: round(float(ws[f"E{r}"].value) * 0.9) for r in range(5, 13)}
    insert_column(wb, column(ws, "咨询人数"), "实际销售额", values)


def _rename(old: str, new: str) -> Callable[[Book], None]:
    def edit(wb: Book) -> None:
        wb[old].title = new
    return edit


def _delete_sheet(name: str) -> Callable[[Book], None]:
    def edit(wb: Book) -> None:
        del wb[name]
    return edit


def _ref_error(wb: Book) -> None:
    ws = wb["考核"]
    ws["X7"] = '=IF($A7="","",KPI_TIER(#REF!,规则!$C$5))'


def _month_as_date(wb: Book) -> None:
    ws = wb["考核"]
    ws["B2"] = dt.datetime(2026, 11, 1)
    ws["B2"].number_format = "yyyy-mm"


# ----------------------------------------------------------------------------- exports
NICK = {  # 员工.旺旺昵称 of the sample roster
    "KF001": "悦然家居旗舰店:小倩", "KF002": "悦然家居旗舰店:小娜", "KF003": "悦然家居旗舰店:小娜2",
    "KF004": "悦然家居旗舰店:小伟", "KF005": "悦然家居旗舰店:小曦", "KF006": "悦然家居旗舰店:小英",
    "KF007": "悦然家居旗舰店:小清", "KF008": "悦然家居旗舰店:小燕",
}
EXPORT_HEADER = ["客服昵称", "咨询人数", "询单->最终付款人数", "询单->最终付款转化率", "销售额",
                 "平均响应(秒)", "回复率", "满意率", "执行力"]
EXPORT_ROWS = [  # KF001 … KF004, short nicknames as 赤兔 writes them
    ["小倩", "1,201", "376", "31.31%", "84,651", "20.7", "98.70%", "97.3%", "比较满意"],
    ["小娜", "680", "353", "51.91%", "69,229", "61.6", "98.99%", "81.7%", "比较满意"],
    ["小娜2", "973", "583", "59.92%", "178,325", "26.6", "99.24%", "97.3%", "非常满意"],
    ["小伟", "689", "315", "45.72%", "69,870", "51.7", "99.83%", "75.0%", "非常满意"],
]
PREAMBLE = [["客服绩效（赤兔名品）"], ["统计时间：2026-11-01 ~ 2026-11-30"], []]


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def export_csv(rows: list[list[str]], *, header: list[str] = EXPORT_HEADER,
               encoding: str = "utf-8-sig", preamble: list[list[str]] = PREAMBLE
               ) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(csv_text([*preamble, header, *rows]).encode(encoding))
    return build


def _summary_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客服绩效"
    ws.append(["千牛 客服数据 2026-11"])
    ws.append([])
    ws.append(["旺旺", "咨询人数", "最终付款人数", "询单转化率", "销售额", "回复率", "满意度"])
    data = [("小倩", 1201, 376, 0.3131, 84651, 0.987, 0.973),
            ("小娜", 680, 353, 0.5191, 69229, 0.9899, 0.817),
            ("小娜2", 973, 583, 0.5992, 178325, 0.9924, 0.973)]
    for row in data:
        ws.append(list(row))
    ws.append(["合计", 2854, 1312, 0.4597, 332205, 0.9898, 0.921])
    ws.append(["平均值", 951.3, 437.3, 0.4597, 110735, 0.9898, 0.921])
    for row in ws.iter_rows(min_row=4):
        for cell in (row[3], row[5], row[6]):
            cell.number_format = "0.00%"
    _save(wb, path)


def _truncated(path: Path) -> None:
    _sample(path)
    path.write_bytes(path.read_bytes()[:30000])


def _bytes(data: bytes) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(data)
    return build


INJECTIONS = ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0",
              "=DDE(\"cmd\";\"/C calc\";\"A0\")", '=HYPERLINK("http://evil.example","点我")']


# ----------------------------------------------------------------------------- the cases
def cases() -> list[Case]:
    """Every corpus file, in README order (book cases ``bNN_``, export cases ``eNN_``)."""
    b = edited
    return [
        Case(BASE, "(no mistake) the clean sample month: reference and import target",
             _sample),
        Case("b01_percent_typed_47.xlsx", "询单转化率 typed as 47 instead of 47% (考核!H7)",
             b(put("考核", "询单转化率(可直接填)", 7, 47))),
        Case("b02_fullwidth_percent.xlsx", "询单转化率 typed with an IME as full-width text "
             "４７％ (考核!H7)", b(put("考核", "询单转化率(可直接填)", 7, "４７％"))),
        Case("b03_fullwidth_digits.xlsx", "实际销售额 as full-width digits １７８３２５ (考核!E7)",
             b(put("考核", "实际销售额", 7, "１７８３２５"))),
        Case("b04_na_text.xlsx", "满意度 pasted as the text N/A (考核!P7)",
             b(put("考核", "满意度", 7, "N/A"))),
        Case("b05_div0_pasted.xlsx", "回复率 pasted as the error value #DIV/0! (考核!L7)",
             b(put("考核", "回复率(可直接填)", 7, "#DIV/0!"))),
        Case("b06_merged_header.xlsx", "header cells 总接待客户数|回复过的旺旺数 merged "
             "(考核!J4:K4), the 回复过的旺旺数 header is gone", b(_merge_header)),
        Case("b07_blank_rows.xlsx", "two blank rows in the middle of the table (考核 rows 9–10; "
             "KF005…KF008 moved to rows 11–14)", b(lambda wb: _move_rows_down(wb, 9, 12, 2))),
        Case("b08_duplicate_id.xlsx", "KF002's 工号 typed as KF001: a duplicated 工号 (考核!A6)",
             b(put("考核", "工号", 6, "KF001"))),
        Case("b09_missing_from_roster.xlsx", "KF003 deleted from 员工 but still in 考核",
             b(lambda wb: _delete_roster_row(wb, 7))),
        Case("b10_roster_extra_agent.xlsx", "KF009 added to 员工 (员工!A13) but not to 考核",
             b(_add_roster_row)),
        Case("b11_assessment_renamed.xlsx", "sheet 考核 renamed 考核表",
             b(_rename("考核", "考核表"))),
        Case("b12_roster_missing.xlsx", "sheet 员工 deleted", b(_delete_sheet("员工"))),
        Case("b13_roster_renamed.xlsx", "sheet 员工 renamed 花名册", b(_rename("员工", "花名册"))),
        Case("b14_extra_column.xlsx", "a 旺旺昵称 column inserted in 考核 before 计划销售额 "
             "(column D; formulas moved as Excel moves them)", b(_extra_column)),
        Case("b15_rule_gap.xlsx", "询单转化率 rule with a gap: Y≥50%:100; 40%≤Y<45%:60; Y<40%:0 "
             "(规则!C6), and KF003 at 47% (考核!H7)",
             b(both(rule("询单转化率(Y)", "Y≥50%:100; 40%≤Y<45%:60; Y<40%:0"),
                    put("考核", "询单转化率(可直接填)", 7, 0.47)))),
        Case("b16_weights_95.xlsx", "满意度 weight 5% instead of 10%: weights total 95% (规则!D12)",
             b(rule("满意度(W)", 0.05, col="D"))),
        Case("b17_negative_sales.xlsx", "实际销售额 −5000 (考核!E7)",
             b(put("考核", "实际销售额", 7, -5000))),
        Case("b18_reply_rate_1_2.xlsx", "回复率 1.2 (120%) (考核!L7)",
             b(put("考核", "回复率(可直接填)", 7, 1.2))),
        Case("b19_reply_rate_120_text.xlsx", "回复率 typed as text 120% (考核!L7)",
             b(put("考核", "回复率(可直接填)", 7, "120%"))),
        Case("b20_month_chinese_text.xlsx", "考核月份 as text 2026年11月 (考核!B2)",
             b(lambda wb: wb["考核"].__setitem__("B2", "2026年11月"))),
        Case("b21_month_without_year.xlsx", "考核月份 as text 11月 — no year (考核!B2)",
             b(lambda wb: wb["考核"].__setitem__("B2", "11月"))),
        Case("b22_month_as_date.xlsx", "考核月份 typed 2026/11 and turned into a date by Excel "
             "(考核!B2)", b(_month_as_date)),
        Case("b23_month_blank.xlsx", "考核月份 left blank (考核!B2)",
             b(lambda wb: wb["考核"].__setitem__("B2", None))),
        Case("b24_history_month_text.xlsx", "历史 months written 2026年9月 / 2026年10月 "
             "(历史!A5:A20)", b(_history_month_text, history=2)),
        Case("b25_history_month_no_year.xlsx", "one 历史 month written 9月 — no year (历史!A5)",
             b(_history_month_no_year, history=2)),
        Case("b26_huge_sales_1e12.xlsx", "实际销售额 1e12 (考核!E7)",
             b(put("考核", "实际销售额", 7, 1e12))),
        Case("b27_execution_not_in_list.xlsx", "执行力 typed 很满意, not in the dropdown (考核!O7)",
             b(put("考核", "执行力", 7, "很满意"))),
        Case("b28_execution_blank.xlsx", "执行力 left blank (考核!O7)",
             b(put("考核", "执行力", 7, None))),
        Case("b29_rule_emptied.xlsx", "the 旺旺回复率 rule cell emptied (规则!C8)",
             b(rule("旺旺回复率(Z)", None))),
        Case("b30_weight_as_text.xlsx", "成交额完成度 weight typed 三十 (规则!D5)",
             b(rule("成交额完成度(X)", "三十", col="D"))),
        Case("b31_attendance_Y.xlsx", "全勤 typed Y instead of 是 (KF001, 考核!R5)",
             b(put("考核", "全勤(是/否)", 5, "Y"))),
        Case("b32_huge_bad_reviews.xlsx", "差评数 1000 (考核!Q7)",
             b(put("考核", "差评数", 7, 1000))),
        Case("b33_formula_overwritten.xlsx", "成交额完成度得分 formula replaced by a typed 100 "
             "(KF001, 考核!X5)", b(lambda wb: wb["考核"].__setitem__("X5", 100))),
        Case("b34_ref_error.xlsx", "a #REF! in the 成交额完成度得分 formula (考核!X7)",
             b(_ref_error)),
        Case("b35_two_sales_columns.xlsx", "a second 实际销售额 column (last month's figures) "
             "inserted before 咨询人数 (考核!F)", b(_two_sales_columns)),
        Case("b36_plan_zero.xlsx", "计划销售额 0 for a new hire (考核!D7)",
             b(put("考核", "计划销售额", 7, 0))),
        Case("b37_negative_bad_reviews.xlsx", "差评数 −1 (考核!Q7)",
             b(put("考核", "差评数", 7, -1))),
        Case("b38_negative_deduction.xlsx", "扣款(赔偿损失) −150 (考核!S7)",
             b(put("考核", "扣款(赔偿损失)", 7, -150))),
        Case("b39_grade_rule_typo.xlsx", "等级 rule typed with the letter O for zero: [7O,80) "
             "(规则!C16)", b(rule("等级 (按 KPI 得分)",
                                  "[90,100]:高级客服; [80,90):中级客服; [7O,80):初级客服; "
                                  "<70:不合格"))),
        Case("b40_min_wage_text.xlsx", "最低工资 typed 两千 (规则!C23)",
             b(rule("最低工资", "两千"))),
        Case("b41_name_formula_text.xlsx", "姓名 pasted as text starting with = "
             "(=cmd|' /C calc'!A0, 考核!B7)",
             b(put("考核", "姓名", 7, "=cmd|' /C calc'!A0", text=True))),
        Case("b42_id_trailing_space.xlsx", "工号 typed with a trailing space KF003␠ (考核!A7)",
             b(put("考核", "工号", 7, "KF003 "))),
        Case("b43_after_sales_rate_95.xlsx", "after-sales template: 回访率 typed 95 instead of "
             "95% (KF001, 考核!G5)", b(put("考核", "回访率", 5, 95), template="after-sales")),
        Case("b44_not_a_workbook.xlsx", "a CSV saved with an .xlsx name",
             _bytes(csv_text([["工号", "姓名"], ["KF001", "吕倩"]]).encode())),
        Case("b45_truncated.xlsx", "a workbook cut off half way (a failed copy)", _truncated),
        Case("b46_history_month_as_date.xlsx", "历史 months as date cells (2026-09-01 shown "
             "2026-09, as Excel makes of a typed 2026-09) (历史!A5:A20)",
             b(_history_month_as_date, history=2)),
        # ------------------------------------------------------------------ exports
        Case("e01_summary_rows.csv", "赤兔 CSV with 汇总 / 均值 / blank-nickname total rows",
             export_csv([*EXPORT_ROWS,
                         ["汇总", "3,543", "1,627", "45.92%", "402,075", "40.2", "99.19%",
                          "87.8%", ""],
                         ["均值", "885.8", "406.8", "45.92%", "100,518.75", "40.2", "99.19%",
                          "87.8%", ""],
                         ["", "3,543", "1,627", "", "", "", "", "", ""]])),
        Case("e02_fullwidth_headers.csv", "headers in full-width forms (客服昵称／咨询人数（人）"
             "／平均响应（秒）／回复率（％）)",
             export_csv(EXPORT_ROWS, header=["客服昵称", "咨询人数（人）", "询单－＞最终付款人数",
                                             "询单－＞最终付款转化率", "销售额（元）",
                                             "平均响应（秒）", "回复率（％）", "满意率",
                                             "执行力"])),
        Case("e03_gbk.csv", "CSV in GBK (what Chinese Excel saves)",
             export_csv(EXPORT_ROWS, encoding="gbk")),
        Case("e04_unknown_nickname.csv", "a nickname not in 员工 (小王, row 8)",
             export_csv([*EXPORT_ROWS, ["小王", "1", "1", "1%", "1", "1", "1%", "1%", ""]])),
        Case("e05_formula_injection.csv", "text starting with = + - @ (and a DDE form) in the "
             "执行力 and 满意率 columns",
             export_csv([[nick, "1", "1", "1%", "1", "1", "99%", value, value]
                         for nick, value in zip(("小倩", "小娜", "小娜2", "小伟", "小曦",
                                                 "小英", "小清"), INJECTIONS, strict=True)])),
        Case("e06_legacy_xls.xls", "a legacy binary .xls",
             _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))),
        Case("e07_html_as_xls.xls", "an HTML table saved as .xls (what some platforms serve)",
             _bytes("<html><body><table><tr><td>客服昵称</td><td>咨询人数</td></tr>"
                    "</table></body></html>".encode())),
        Case("e08_only_summary.csv", "an export holding only 合计/平均 rows",
             export_csv([["合计", "3,543", "1,627", "45.92%", "402,075", "40.2", "99.19%",
                          "87.8%", ""],
                         ["平均", "885.8", "406.8", "45.92%", "100,518.75", "40.2", "99.19%",
                          "87.8%", ""]])),
        Case("e09_summary_rows.xlsx", "千牛 .xlsx with a title, %-formatted rates and "
             "合计/平均值 rows", _summary_xlsx),
        Case("e10_na_and_errors.csv", "N/A, #DIV/0!, - and — as values",
             export_csv([["小倩", "N/A", "376", "#DIV/0!", "84,651", "-", "—", "97.3%", ""],
                         EXPORT_ROWS[1]])),
        Case("e11_conflicting_duplicates.csv", "the same nickname twice with different figures",
             export_csv([EXPORT_ROWS[0], EXPORT_ROWS[1],
                         ["小倩", "999", "1", "0.1%", "1", "1", "1%", "1%", "一般"]])),
        Case("e12_percent_as_number.csv", "回复率(%) and 满意率(%) as plain numbers 98.7, 97.3",
             export_csv([["小倩", "1,201", "376", "31.31%", "84,651", "20.7", "98.7", "97.3",
                          "比较满意"]],
                        header=[*EXPORT_HEADER[:6], "回复率(%)", "满意率(%)", "执行力"])),
        Case("e13_no_header.csv", "a file with no recognisable header (a 店铺 sales list)",
             export_csv([["2026-11-01", "订单 1", "99"], ["2026-11-02", "订单 2", "120"]],
                        header=["日期", "订单", "金额"], preamble=[])),
    ]


def build_all(out: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Write every corpus file (or only ``names``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = None if names is None else set(names)
    paths = []
    for case in cases():
        if wanted is not None and case.file not in wanted:
            continue
        path = out / case.file
        case.build(path)
        paths.append(path)
    return paths


COMPARED_OUT = frozenset({"说明", "工资", "明细", "异常", "概览"})
"""Sheets a mistake never touches (the guide text and what the refresh writes): a template
change there (a new button on 工资) does not make the corpus stale."""


def differences(fresh: Path, committed: Path) -> list[str]:
    """Where two corpus files differ: exports byte for byte; workbooks by the sheet list and
    the cells (values and formulas as read_book reads them) of every sheet a mistake can touch
    (规则, 员工, 考核, 历史 — also renamed), so zip details and output sheets do not count."""
    from kpi_xl.workbook.xlsx import read_book

    if fresh.read_bytes() == committed.read_bytes():
        return []
    if committed.suffix != ".xlsx" or not zipfile.is_zipfile(committed):
        return [f"{committed.name}: bytes differ"]
    try:
        new, old = read_book(fresh), read_book(committed)
    except Exception as error:  # a deliberately broken workbook: bytes decide
        return [f"{committed.name}: bytes differ ({error})"]
    if list(new.sheets) != list(old.sheets):
        return [f"{committed.name}: sheets {list(new.sheets)} != {list(old.sheets)}"]
    return [f"{committed.name}: sheet {name} differs" for name in old.sheets
            if name not in COMPARED_OUT
            and (new.sheets[name].values, new.sheets[name].formulas)
            != (old.sheets[name].values, old.sheets[name].formulas)]


README_HEAD = """\
# The bad-input corpus

Each file is ONE real mistake HR or a platform export makes. `tests/test_reliability_corpus.py`
runs the right command on every file (`kpi-xl refresh` for workbooks, `kpi-xl import` into
`base_sample.xlsx` for exports, also `kpi-xl recalc` where noted) and checks: no crash (exit 0
or 1, no traceback), every input cell unchanged (说明, 规则, 员工, 考核; past 历史 rows kept; an
import writes exactly the cells it planned; a failed run leaves the file byte for byte), no
silent 0 (a 待核 row has no 应发工资; agents the mistake does not touch are paid as in the clean
month), and the reaction below.

Workbooks are the `taobao-cs` sample month (8 agents, 2026-11; KF001 on 考核 row 5 … KF008 on
row 12) edited with openpyxl; `base_sample.xlsx` is the clean month (the reference and the
import target, not a case). `python tests/corpus/make_corpus.py` rebuilds every file and this
README (deterministic); `--check` compares a fresh build with the committed files; a test does
both for a sample.

**Known bug** marks a case whose correct reaction kpi-xl does not give yet: that part runs as a
strict xfail (`test_known_bug_reaction`); the no-crash and nothing-lost checks run anyway.

| file | mistake | correct reaction |
|---|---|---|
"""


def readme() -> str:
    """README.md: the mistake of each file (here) and its reaction (the test's table)."""
    from tests.test_reliability_corpus import CASES as REACTIONS

    mistakes = {case.file: case.mistake for case in cases()}

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = []
    for case in REACTIONS:
        reaction = case.reaction + (f" **Known bug:** {case.fix.bug}." if case.fix else "")
        if case.recalc:
            reaction += f" `kpi-xl recalc`: exit 1, lists {', '.join(case.recalc)}."
        lines.append(f"| `{case.file}` | {cell(mistakes[case.file])} | {cell(reaction)} |")
    return README_HEAD + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp folder and compare with --out; exit 1 on "
                             "a difference")
    arguments = parser.parse_args(argv)
    if arguments.check:
        with tempfile.TemporaryDirectory() as tmp:
            problems = [line for path in build_all(Path(tmp))
                        for line in differences(path, arguments.out / path.name)]
        if (arguments.out / "README.md").read_text(encoding="utf-8") != readme():
            problems.append("README.md differs")
        print("\n".join(problems) or "corpus up to date")
        return 1 if problems else 0
    paths = build_all(arguments.out)
    (arguments.out / "README.md").write_text(readme(), encoding="utf-8")
    print(f"{len(paths)} files and README.md in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
