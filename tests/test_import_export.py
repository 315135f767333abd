"""``kpi-xl import``: a platform export (赤兔 CSV in GBK, 千牛 xlsx) into the 考核 sheet.

The exports are generated here (the fixtures are the code below): full-width headers, a title
block above the header, 汇总/均值 rows, nicknames with and without the shop prefix, ``46.5%``
text, ``1,234`` thousands, blanks written ``-``/``—``, formula-looking text.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.importer import (
    BookProblem,
    ExportFormatError,
    import_export,
    plan_import,
    read_export,
)
from kpi_xl.templates import new_month
from kpi_xl.workbook.model import BookData, SheetData
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.xlsx import WorkbookBusy, XlsxEditor, backup_path, read_book

INJECT_NICK = '=HYPERLINK("http://evil.example/x","阿木")'
INJECT_VALUE = '=1+1+cmd|" /C calc"!A0'

NICKS = {  # roster row → 旺旺昵称 written into the sample's 员工 sheet
    5: "悦然家居旗舰店:晴天",
    6: "悦然家居旗舰店:晴天2",
    7: INJECT_NICK,
    8: "木子",
    9: "悦然家居旗舰店:阿杰",
}
NEW_AGENT = ("KF099", "新同学", "售前二组", "售前客服", "悦然家居旗舰店:小新")

HEADER = ["客服昵称", "咨询人数", "询单人数", "接待人数", "询单－>最终付款人数",
          "询单－>最终付款转化率", "客单价", "销售额", "平均响应（秒）", "回复率", "答问比",
          "满意率", "执行力", "差评数", "备注"]
ROWS = [
    # row 5: short nickname ↔ roster 悦然家居旗舰店:晴天
    ["晴天", "1,234", "800", "1500", "400", "46.5%", "250.5", "100,200.50", "25.3",
     "98.50%", "1.35", "96.2%", "比较满意", "0", ""],
    # row 6: full nickname with a full-width colon; blanks as - and —
    ["悦然家居旗舰店：晴天2", "900", "700", "1400", "350", "-", "—", "90,000", "—",
     "97%", "1.2", "", "", "0", "新人"],
    # row 7: formula-looking nickname (in the roster too) and values
    [INJECT_NICK, "1000", "780", "1300", "390", "41%", "230", "89,700", "31", "99%", "1.1",
     "abc", INJECT_VALUE, "+1", ""],
    # row 8: prefixed nickname ↔ roster 木子 without prefix
    ["悦然家居旗舰店:木子", "1100", "820", "1600", "420", "50%", "260", "109,200", "28",
     "96%", "1.4", "95%", "一般", "2", ""],
    # row 9: an agent of 员工 with no 考核 row yet
    ["小新", "500", "300", "800", "120", "40%", "210", "25,200", "40", "95%", "1.0",
     "90%", "", "0", ""],
    # rows 10–11: unknown nicknames (another shop's 晴天 must not match ours)
    ["别家店:晴天", "1", "1", "1", "1", "1%", "1", "1", "1", "1%", "1", "1%", "", "0", ""],
    ["@SUM(1+1)", "1", "1", "1", "1", "1%", "1", "1", "1", "1%", "1", "1%", "", "0", ""],
    # rows 12–14: summary rows (blank nickname counts as one)
    ["汇总", "4,734", "3,400", "6,600", "1,680", "45.1%", "243.6", "414,300.50", "31.1",
     "97.1%", "1.2", "94%", "", "3", ""],
    ["均值", "946.8", "680", "1320", "336", "45.1%", "243.6", "82,860.1", "31.1", "97.1%",
     "1.2", "94%", "", "0.6", ""],
    ["", "4,734", "3,400", "6,600", "1,680", "", "", "", "", "", "", "", "", "", ""],
]
PREAMBLE = [["客服绩效（赤兔名品）"], ["统计时间：2026-11-01 ~ 2026-11-30"], []]


def write_chitu_csv(path: Path, rows: list[list[str]] = ROWS, header: list[str] = HEADER,
                    encoding: str = "gbk", preamble: list[list[str]] = PREAMBLE) -> Path:
    """A 赤兔-style export: title block, header on row 4, CRLF, GBK, quoted where needed."""
    lines = []
    for row in [*preamble, header, *rows]:
        cells = []
        for cell in row:
            if any(ch in cell for ch in ',"\n'):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(",".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def header_cols(sheet: SheetData, row: int) -> dict[str, int]:
    return {str(v): c for (r, c), v in sheet.values.items() if r == row}


def id_rows(sheet: SheetData, header_row: int = 4) -> dict[str, int]:
    return {str(v): r for (r, c), v in sheet.values.items() if c == 1 and r > header_row}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """The taobao-cs sample month, with known nicknames for five agents and a new agent."""
    path = new_month("taobao-cs", tmp_path / "2026-11.xlsx", sample=True)
    roster = read_book(path).sheets["员工"]
    cols = header_cols(roster, 4)
    nick_col = cols["旺旺昵称"]
    cells: dict[tuple[int, int], object] = {(r, nick_col): nick for r, nick in NICKS.items()}
    new_row = roster.max_row + 1
    for header, value in zip(("工号", "姓名", "团队", "岗位", "旺旺昵称"), NEW_AGENT, strict=True):
        cells[(new_row, cols[header])] = value
    editor = XlsxEditor(path)
    editor.set_cells("员工", cells)
    editor.save(backup=False)
    nicknames = [v for (r, c), v in read_book(path).sheets["员工"].values.items()
                 if c == nick_col and r > 4]
    assert len(nicknames) == len(set(nicknames))  # the sample's own nicknames do not collide
    return path


def sheet_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return next(s.part for s in map_package(zf).sheets if s.name == name)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


# ----------------------------------------------------------------------------- the 赤兔 CSV
def test_chitu_gbk_csv_fills_exactly_the_input_cells(book: Path, tmp_path: Path) -> None:
    export = write_chitu_csv(tmp_path / "赤兔_客服绩效_2026-11.csv")
    with pytest.raises(UnicodeDecodeError):
        export.read_bytes().decode("utf-8")  # really GBK
    before = read_book(book)
    before_parts = parts(book)
    sheet = before.sheets["考核"]
    cols = header_cols(sheet, 4)
    rows = id_rows(sheet)
    roster = before.sheets["员工"]
    roster_ids = {r: str(roster.values[(r, 1)]) for r in NICKS}
    a, b, c, d = (rows[roster_ids[r]] for r in (5, 6, 7, 8))
    assert "KF099" not in rows
    first_empty = max(rows.values()) + 1

    report = import_export(book, export)

    assert report.exit_code == 0 and report.saved
    assert report.source == "CSV gb18030, 逗号分隔"
    assert report.header_row == 4 and report.key_header == "客服昵称"
    assert report.month == "2026-11" and report.warnings == []
    assert [(m.export_header, m.target_header, m.how) for m in report.matched] == [
        ("咨询人数", "咨询人数", "header"),
        ("接待人数", "总接待客户数", "synonym"),
        ("询单－>最终付款人数", "最终下单人数", "synonym"),
        ("询单－>最终付款转化率", "询单转化率(可直接填)", "synonym"),
        ("客单价", "客单价(可直接填)", "header"),
        ("销售额", "实际销售额", "synonym"),
        ("平均响应（秒）", "平均响应时间(秒)", "synonym"),
        ("回复率", "回复率(可直接填)", "header"),
        ("满意率", "满意度", "synonym"),
        ("执行力", "执行力", "header"),
        ("差评数", "差评数", "header"),
    ]
    assert [h for h, _ in report.known_unmatched] == ["询单人数", "答问比"]
    assert report.unmatched == ["备注"]
    assert [(n.row, n.nickname) for n in report.skipped_summary] == [
        (12, "汇总"), (13, "均值"), (14, "")]
    assert [(n.row, n.nickname) for n in report.unknown_nicknames] == [
        (10, "别家店:晴天"), (11, "@SUM(1+1)")]
    imported = [roster_ids[r] for r in (5, 6, 7, 8)] + ["KF099"]
    assert [agent for agent, _ in report.agents] == imported
    assert report.appended == [("KF099", first_empty)]
    missing = {i for i, _, _ in report.missing_agents}
    assert missing == set(rows) - set(imported[:4])
    assert {(n.agent, n.header) for n in report.blank_kept} == {
        (roster_ids[6], "询单转化率(可直接填)"), (roster_ids[6], "客单价(可直接填)"),
        (roster_ids[6], "平均响应时间(秒)"), (roster_ids[6], "满意度"),
        (roster_ids[6], "执行力"), ("KF099", "执行力")}
    assert [(n.agent, n.header, n.value) for n in report.rejected] == [
        (roster_ids[7], "满意度", "abc")]

    after = read_book(book)
    new = after.sheets["考核"]
    expected = {
        a: {"咨询人数": 1234.0, "总接待客户数": 1500.0, "最终下单人数": 400.0,
            "询单转化率(可直接填)": 0.465, "客单价(可直接填)": 250.5, "实际销售额": 100200.5,
            "平均响应时间(秒)": 25.3, "回复率(可直接填)": 0.985, "满意度": 0.962,
            "执行力": "比较满意", "差评数": 0.0},
        b: {"咨询人数": 900.0, "总接待客户数": 1400.0, "最终下单人数": 350.0,
            "实际销售额": 90000.0, "回复率(可直接填)": 0.97, "差评数": 0.0},
        c: {"咨询人数": 1000.0, "总接待客户数": 1300.0, "最终下单人数": 390.0,
            "询单转化率(可直接填)": 0.41, "客单价(可直接填)": 230.0, "实际销售额": 89700.0,
            "平均响应时间(秒)": 31.0, "回复率(可直接填)": 0.99, "执行力": INJECT_VALUE,
            "差评数": 1.0},
        d: {"咨询人数": 1100.0, "总接待客户数": 1600.0, "最终下单人数": 420.0,
            "询单转化率(可直接填)": 0.5, "客单价(可直接填)": 260.0, "实际销售额": 109200.0,
            "平均响应时间(秒)": 28.0, "回复率(可直接填)": 0.96, "满意度": 0.95,
            "执行力": "一般", "差评数": 2.0},
        first_empty: {"工号": "KF099", "姓名": "新同学", "团队": "售前二组", "咨询人数": 500.0,
                      "总接待客户数": 800.0, "最终下单人数": 120.0, "询单转化率(可直接填)": 0.4,
                      "客单价(可直接填)": 210.0, "实际销售额": 25200.0,
                      "平均响应时间(秒)": 40.0, "回复率(可直接填)": 0.95, "满意度": 0.9,
                      "差评数": 0.0},
    }
    written = {(row, cols[h]): v for row, values in expected.items() for h, v in values.items()}
    assert report.cells_written == len(written)
    for cell, value in written.items():
        got = new.values.get(cell)
        assert got == value and type(got) is type(value), (cell, got, value)
    # everything else is as it was: other cells, every formula, every other sheet and part
    assert {k: v for k, v in new.values.items() if k not in written} == {
        k: v for k, v in sheet.values.items() if k not in written}
    assert new.formulas == sheet.formulas and new.array_formulas == sheet.array_formulas
    for name, data in before.sheets.items():
        if name != "考核":
            assert after.sheets[name] == data, name
    after_parts = parts(book)
    part = sheet_part(book, "考核")
    assert list(after_parts) == list(before_parts)
    assert [n for n in after_parts if after_parts[n] != before_parts[n]] == [part]
    assert parts(backup_path(book)) == before_parts
    # text that looks like a formula stayed text
    assert (c, cols["执行力"]) not in new.formulas
    assert b't="inlineStr"><is><t>=1+1+cmd|' in after_parts[part]

    # re-importing the same export: the same cells, the same bytes
    again = import_export(book, export)
    assert again.appended == []  # KF099 has its row now: 工号/姓名/团队 are not written again
    assert again.cells_written == report.cells_written - 3 and again.cells_changed == 0
    assert parts(book) == after_parts


def test_reimport_is_byte_identical(book: Path, tmp_path: Path) -> None:
    export = write_chitu_csv(tmp_path / "export.csv")
    import_export(book, export)
    first = parts(book)
    import_export(book, export)
    assert parts(book) == first


def test_report_lines_are_short_and_bilingual(book: Path, tmp_path: Path) -> None:
    report = import_export(book, write_chitu_csv(tmp_path / "export.csv"), dry_run=True)
    text = "\n".join(report.lines())
    assert "写入" in text and "cells" in text
    assert "询单－>最终付款转化率 → 询单转化率(可直接填) [同义 synonym]" in text
    assert "答问比: 本工作簿考核表无对应列" in text
    assert "跳过的汇总行 (summary rows skipped): 第 12 行 “汇总”; 第 13 行 “均值”" in text
    assert "第 11 行 “@SUM(1+1)”" in text
    assert "试运行, 未保存 (dry run, not saved)" in text
    assert not report.saved and report.exit_code == 0
    assert report.to_dict()["exit_code"] == 0


def test_dry_run_changes_nothing(book: Path, tmp_path: Path) -> None:
    before = book.read_bytes()
    report = import_export(book, write_chitu_csv(tmp_path / "export.csv"), dry_run=True)
    assert report.cells_written > 0
    assert book.read_bytes() == before and not backup_path(book).exists()


def test_nothing_matched_exits_1_and_leaves_the_file(book: Path, tmp_path: Path) -> None:
    export = write_chitu_csv(tmp_path / "only_known.csv", header=["客服昵称", "答问比", "备注"],
                             rows=[["晴天", "1.3", ""]])
    before = book.read_bytes()
    report = import_export(book, export)
    assert report.exit_code == 1 and report.cells_written == 0 and not report.saved
    assert report.matched == [] and report.known_unmatched[0][0] == "答问比"
    assert "没有可导入的数据 (nothing could be imported)" in report.lines()[-1]
    assert book.read_bytes() == before and not backup_path(book).exists()


def test_no_header_row_is_an_error(book: Path, tmp_path: Path) -> None:
    export = tmp_path / "notes.csv"
    export.write_text("本月无数据\n请联系管理员\n", encoding="utf-8")
    with pytest.raises(ExportFormatError, match="找不到表头"):
        import_export(book, export)


def test_open_in_excel_is_refused(book: Path, tmp_path: Path) -> None:
    (book.parent / f"~${book.name}").write_bytes(b"owner")
    before = book.read_bytes()
    with pytest.raises(WorkbookBusy):
        import_export(book, write_chitu_csv(tmp_path / "export.csv"))
    assert book.read_bytes() == before


def test_blank_keeps_existing_input(book: Path, tmp_path: Path) -> None:
    sheet = read_book(book).sheets["考核"]
    cols, rows = header_cols(sheet, 4), id_rows(sheet)
    row = rows[str(read_book(book).sheets["员工"].values[(6, 1)])]
    existing = sheet.values[(row, cols["平均响应时间(秒)"])]
    assert isinstance(existing, float)
    import_export(book, write_chitu_csv(tmp_path / "export.csv"))
    assert read_book(book).sheets["考核"].values[(row, cols["平均响应时间(秒)"])] == existing


# ----------------------------------------------------------------------------- other shapes
def test_xlsx_export_header_on_row_3_second_sheet(book: Path, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes["A1"] = "本文件由千牛导出"
    ws = wb.create_sheet("客服数据")
    ws["A1"] = "千牛 客服数据 2026年11月"
    ws["A2"] = "导出时间: 2026-12-01 09:00"
    ws.append(["旺旺", "接待人数", "咨询人数", "最终付款人数", "询单转化率", "平均响应时间",
               "【回复率】(%)", "销售额(万元)", "答问比"])
    ws.append(["晴天", 1500, 1234, 400, 0.465, "0:25", 98.5, 10.02, 1.3])
    ws.append(["悦然家居旗舰店:木子", 1600, 1100, 420, 0.5, "00:01:05", 96, 10.92, 1.4])
    ws.append(["合计", 3100, 2334, 820, 0.48, "0:30", 97, 20.94, 1.35])
    ws["E4"].number_format = "0.0%"
    ws["E5"].number_format = "0.00%"
    export = tmp_path / "千牛.xlsx"
    wb.save(export)

    sheet = read_book(book).sheets["考核"]
    cols, rows = header_cols(sheet, 4), id_rows(sheet)
    roster = read_book(book).sheets["员工"]
    a, d = rows[str(roster.values[(5, 1)])], rows[str(roster.values[(8, 1)])]

    report = import_export(book, export)
    assert report.source == "xlsx 工作表 (sheet) '客服数据'" and report.header_row == 3
    assert report.key_header == "旺旺"
    assert {m.export_header: m.target_header for m in report.matched} == {
        "接待人数": "总接待客户数", "咨询人数": "咨询人数", "最终付款人数": "最终下单人数",
        "询单转化率": "询单转化率(可直接填)", "平均响应时间": "平均响应时间(秒)",
        "【回复率】(%)": "回复率(可直接填)", "销售额(万元)": "实际销售额"}
    assert [(n.row, n.nickname) for n in report.skipped_summary] == [(6, "合计")]
    new = read_book(book).sheets["考核"]
    assert new.values[(a, cols["询单转化率(可直接填)"])] == 0.465  # % format: not ÷100 again
    assert new.values[(a, cols["回复率(可直接填)"])] == 0.985      # (%) header: ÷100
    assert new.values[(a, cols["平均响应时间(秒)"])] == 25.0        # m:ss
    assert new.values[(d, cols["平均响应时间(秒)"])] == 65.0        # h:mm:ss
    assert new.values[(a, cols["实际销售额"])] == 100200.0           # 万元
    assert new.values[(d, cols["咨询人数"])] == 1100.0


def test_presales_template_targets_its_own_headers(tmp_path: Path) -> None:
    path = new_month("presales-detail", tmp_path / "p.xlsx", sample=True)
    roster = read_book(path).sheets["员工"]
    nick = str(roster.values[(5, header_cols(roster, 4)["旺旺昵称"])]).split(":")[-1]
    export = write_chitu_csv(
        tmp_path / "e.csv", encoding="utf-8-sig",
        header=["客服昵称", "咨询人数", "接待人数", "询单->最终付款人数", "回复人数", "销售额",
                "平均响应(秒)", "在线时长(分钟)"],
        rows=[[nick, "700", "1500", "300", "1490", "88,000", "30", "9,000"]])
    report = import_export(path, export)
    assert {m.export_header: (m.target_header, m.how) for m in report.matched} == {
        "咨询人数": ("询单人数", "synonym"), "接待人数": ("接待人数", "header"),
        "询单->最终付款人数": ("下单人数", "synonym"), "回复人数": ("回复人数", "header"),
        "销售额": ("个人销售额", "synonym"), "平均响应(秒)": ("平均响应时间(秒)", "synonym"),
        "在线时长(分钟)": ("旺旺在线时长(小时)", "synonym")}
    sheet = read_book(path).sheets["考核"]
    cols = header_cols(sheet, 4)
    assert sheet.values[(5, cols["旺旺在线时长(小时)"])] == 150.0  # 9000 minutes
    assert report.source == "CSV utf-8-sig, 逗号分隔"


def test_conflicting_duplicate_rows_are_not_imported(book: Path, tmp_path: Path) -> None:
    rows = [ROWS[0], ROWS[0], ROWS[3], [*ROWS[3][:1], "9999", *ROWS[3][2:]]]
    export = write_chitu_csv(tmp_path / "dup.csv", rows=rows)
    cells, report = plan_import(read_book(book), read_export(export))
    notes = [(n.row, n.detail.split(" ")[0]) for n in report.duplicate_rows]
    assert [row for row, _ in notes] == [6, 8]
    assert "只导入一次" in report.duplicate_rows[0].detail
    assert "此人未导入" in report.duplicate_rows[1].detail
    assert len(report.agents) == 1
    assert report.cells_written == len(cells) == 11


def test_book_without_roster_nicknames_is_an_error(tmp_path: Path) -> None:
    book = BookData({"考核": SheetData("考核", {(4, 1): "工号"}),
                     "员工": SheetData("员工", {(3, 1): "工号", (3, 2): "姓名"})})
    export = write_chitu_csv(tmp_path / "e.csv")
    with pytest.raises(BookProblem, match="旺旺昵称"):
        plan_import(book, read_export(export))


def test_a_month_with_an_empty_roster_says_to_fill_it_first(tmp_path: Path) -> None:
    book = new_month("taobao-cs", tmp_path / "empty.xlsx", lite=False)
    report = import_export(book, write_chitu_csv(tmp_path / "e.csv"))
    assert report.exit_code == 1 and not report.saved
    assert any(warning.startswith("员工表还没有员工: 请先在 员工 表填写")
               for warning in report.warnings), report.warnings


def test_export_keyed_by_id_instead_of_nickname(book: Path, tmp_path: Path) -> None:
    sheet = read_book(book).sheets["考核"]
    cols, rows = header_cols(sheet, 4), id_rows(sheet)
    agent = next(iter(rows))
    export = write_chitu_csv(tmp_path / "ids.csv", encoding="utf-8",
                             header=["工号", "姓名", "咨询人数", "回复率", "KPI得分"],
                             rows=[[agent, "某某", "321", "97.5%", "99"],
                                   ["KF404", "无此人", "1", "1%", "1"]])
    report = import_export(book, export)
    assert report.key_header == "工号"
    assert report.known_unmatched == [
        ("姓名", "身份列, 不导入 (identity column, not imported)"),
        ("KPI得分", "考核表中此列是公式, 不导入 (a formula column in 考核, not imported)")]
    assert [(n.row, n.nickname) for n in report.unknown_nicknames] == [(6, "KF404")]
    new = read_book(book).sheets["考核"]
    assert new.values[(rows[agent], cols["咨询人数"])] == 321.0
    assert new.values[(rows[agent], cols["回复率(可直接填)"])] == 0.975
    assert new.values[(rows[agent], cols["姓名"])] == sheet.values[(rows[agent], cols["姓名"])]


def test_export_of_another_month_warns(book: Path, tmp_path: Path) -> None:
    export = write_chitu_csv(tmp_path / "赤兔_2026-10.csv", rows=ROWS[:1],
                             preamble=[["统计时间：2026-10-01 ~ 2026-10-31"]])
    report = import_export(book, export, dry_run=True)
    assert report.header_row == 2 and report.exit_code == 0
    assert report.warnings == [
        "导出的月份 (2026-10) 与考核月份 2026-11 不同, 请确认 "
        "(the export mentions 2026-10, the workbook is 2026-11)"]
