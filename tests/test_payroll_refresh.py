"""The headless refresh as a whole: 异常 and 待核, idempotence, nothing lost, refusal, CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.comments import Comment

from kpi_xl.cli import main
from kpi_xl.lite import embed_lite
from kpi_xl.payroll import HEAD_ONLY, compute_payroll
from kpi_xl.templates import get, new_month
from kpi_xl.templates.model import HistoryRule
from kpi_xl.workbook.headless import compute_book
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import read_book
from tests.payroll_util import by_agent, month_book, parts, sheet_part
from tests.test_payroll_months import S2_AGENTS, S2_ROSTER
from tests.test_workbook_xlsx import RawPng, tiny_png

OWNED = ("考核", "工资", "明细", "历史", "异常", "概览")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A 6-agent sample month with a duplicate 工号, an agent missing from 员工 and text in a
    number cell."""
    path = tmp_path_factory.mktemp("broken") / "broken.xlsx"
    new_month("taobao-cs", path, sample=True, agents=6)
    wb = openpyxl.load_workbook(path)
    sheet, roster = wb["考核"], wb["员工"]
    sheet["A6"] = "KF001"        # KF002's row now says KF001: a duplicate
    roster["A7"] = "KF099"       # KF003 is no longer on 员工 (and KF099 is not in 考核)
    sheet["E8"] = "abc"          # KF004's 实际销售额
    wb.save(path)
    return path, refresh_file(path)


def test_issues_list_every_problem_by_cell(broken) -> None:
    _, result = broken
    issues = {(sheet, cell, agent): message for sheet, cell, agent, message in result.issue_rows}
    assert "出现 2 次" in issues[("考核", "A5", "KF001")]
    assert "出现 2 次" in issues[("考核", "A6", "KF001")]
    assert "不在员工表" in issues[("考核", "A7", "KF003")]
    assert "考核表没有" in issues[("员工", "A7", "KF099")]
    assert "考核表没有" in issues[("员工", "A6", "KF002")]
    assert "应为数字" in issues[("考核", "E8", "KF004")] and '"abc"' in issues[("考核", "E8",
                                                                                  "KF004")]
    # the error that text causes downstream is listed once for the row, where it arises
    assert any(sheet == "考核" and agent == "KF004" and cell != "E8"
               for sheet, cell, agent in issues)


def test_agents_with_problems_are_on_hold_without_invented_numbers(broken) -> None:
    path, result = broken
    rows = result.records()
    kf004 = next(r for r in rows if r["工号"] == "KF004")
    assert kf004["备注"].startswith("待核")
    assert kf004["应发工资"] is None
    # every pay line that depends on the bad input shows the error code, not a number
    assert kf004["KPI得分"] == "#VALUE!" and kf004["岗位奖金"] == "#VALUE!"
    assert kf004["团队超额奖金"] == "#VALUE!"
    assert kf004["薪资"] == Decimal("1280.00")  # does not depend on it
    duplicates = [r for r in rows if r["工号"] == "KF001"]
    assert len(duplicates) == 2 and all("工号重复" in r["备注"] for r in duplicates)
    assert all(r["应发工资"] is None for r in duplicates)
    kf003 = next(r for r in rows if r["工号"] == "KF003")
    assert "员工表无此工号" in kf003["备注"] and kf003["应发工资"] is None
    # the sheet shows it too
    pay = openpyxl.load_workbook(path)["工资"]
    row = next(r for r in pay.iter_rows(min_row=5, values_only=True) if r[0] == "KF004")
    headers = [c.value for c in pay[4]]
    assert row[headers.index("应发工资")] is None
    assert row[headers.index("岗位奖金")] == "#VALUE!"
    assert row[headers.index("备注")].startswith("待核")
    # 合计 leaves the held rows out and says so
    total = result.pay_rows[-1]
    assert total[-1] == f"待核 {result.on_hold} 人未计入合计"
    assert total[result.pay_headers.index("应发工资")] == result.total


def test_refresh_twice_gives_identical_sheets(tmp_path) -> None:
    path = new_month("taobao-cs", tmp_path / "m.xlsx", sample=True, history_months=3, agents=12)
    refresh_file(path)
    first = {name: sheet_part(path, name) for name in ("工资", "历史", "明细", "异常", "概览")}
    refresh_file(path)
    second = {name: sheet_part(path, name) for name in first}
    assert first == second
    history = read_book(path).sheets["历史"].values
    months = [v for (r, c), v in history.items() if c == 1 and r >= 5]
    assert months.count("2026-11") == 12 and len(months) == 4 * 12


def test_a_refresh_reads_its_own_output_rows_only_when_a_formula_reads_them(tmp_path) -> None:
    """工资, 明细 and 异常 rows below the header are replaced unread (a second refresh of
    10,000 agents would otherwise read back 90,000 rows); a formula HR added that reads 明细
    makes the refresh read it in full, so that formula still sees every cell."""
    path = new_month("taobao-cs", tmp_path / "m.xlsx", sample=True, agents=12, lite=False)
    refresh_file(path)
    detail = read_book(path).sheets["明细"].values
    points = sum(v for (r, c), v in detail.items() if c == 6 and 5 <= r <= 40)
    assert points > 0 and max(r for r, _ in detail) == 4 + 12 * 8

    partial = compute_book(path, HEAD_ONLY).book
    assert partial.sheets["明细"].read_to == HEAD_ONLY["明细"]
    assert max(r for r, _ in partial.sheets["明细"].values) <= HEAD_ONLY["明细"]
    assert partial.sheets["考核"].read_to is None

    wb = openpyxl.load_workbook(path)
    wb["说明"]["Z1"] = "=SUM(明细!F5:F40)"
    wb.save(path)
    assert compute_book(path, HEAD_ONLY).book.sheets["明细"].read_to is None
    refresh_file(path)
    guide = read_book(path).sheets["说明"]
    assert guide.formulas[(1, 26)] == "=SUM(明细!F5:F40)"
    assert guide.cached[(1, 26)] == pytest.approx(points)


def _add_vba(path, out) -> None:
    """Make the workbook an .xlsm with a (fake) vbaProject.bin, as Excel stores it."""
    vba = b"\xd0\xcf\x11\xe0VBA" * 64
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"PLACEHOLDER").replace(
                    b"application/vnd.openxmlformats-officedocument.PLACEHOLDER",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Override PartName="/xl/vbaProject.bin" ContentType='
                                 b'"application/vnd.ms-office.vbaProject"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
                    b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>'))
            dst.writestr(info, data)
        dst.writestr("xl/vbaProject.bin", vba, compress_type=zipfile.ZIP_STORED)


def test_nothing_lost(tmp_path) -> None:
    plain = new_month("taobao-cs", tmp_path / "plain.xlsx", sample=True, history_months=2,
                      agents=10)
    wb = openpyxl.load_workbook(plain)
    wb["员工"]["A1"].comment = Comment("HR: 每月核对花名册", "HR")
    wb["规则"].add_image(RawPng(tiny_png(), 2, 2), "H2")  # 概览 already holds three charts
    wb.save(plain)
    book = tmp_path / "book.xlsm"
    _add_vba(plain, book)
    embed_lite(book)
    before = parts(book)
    assert {"xl/vbaProject.bin", "xl/webextensions/webextension1.xml"} <= set(before)
    assert any(name.startswith("xl/media/") for name in before)
    assert any(name.startswith("xl/charts/") for name in before)
    assert any("comments" in name for name in before)
    inputs_before = read_book(book)

    assert main(["refresh", str(book)]) == 0

    after = parts(book)
    assert list(after) == list(before)
    # only owned sheet parts change: the output sheets, and the cached values of formula
    # cells (考核, and 规则's 权重合计); every other part — VBA, Lite code, image, comment,
    # charts, styles, workbook.xml — is byte-identical
    with zipfile.ZipFile(book) as zf:
        owned = {s.part for s in map_package(zf).sheets
                 if s.name in OWNED or inputs_before.sheets[s.name].formulas}
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= owned, changed - owned
    assert sheet_part(book, "员工") == _part(before, book, "员工")
    inputs_after = read_book(book)
    for name in ("员工", "考核", "规则", "说明"):
        old, new = inputs_before.sheets[name], inputs_after.sheets[name]
        assert old.values == new.values, name
        assert old.formulas == new.formulas, name
    assert (tmp_path / "book.xlsm.bak").exists()


def _part(all_parts: dict[str, bytes], book, sheet: str) -> bytes:
    with zipfile.ZipFile(book) as zf:
        return all_parts[next(s.part for s in map_package(zf).sheets if s.name == sheet)]


def test_refused_when_open_in_excel(tmp_path, capsys) -> None:
    path = new_month("taobao-cs", tmp_path / "open.xlsx", sample=True, agents=4)
    (tmp_path / "~$open.xlsx").write_bytes(b"owner")
    original = path.read_bytes()
    assert main(["refresh", str(path)]) == 1
    assert "请先关闭" in capsys.readouterr().err
    assert path.read_bytes() == original


def test_unreadable_workbook_exits_non_zero(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    assert main(["refresh", str(bad)]) == 1
    assert "bad.xlsx" in capsys.readouterr().err


def test_cli_json_and_issue_count(tmp_path, capsys, broken) -> None:
    path = month_book(tmp_path, "after-sales", "2026-10", S2_AGENTS, roster=S2_ROSTER)
    assert main(["refresh", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    records = json.loads(out)
    assert [r["工号"] for r in records] == ["SH01", "SH02", "SH03", "SH04"]
    assert records[0]["绩效工资收入"] == 1200 and records[0]["等级"] == "A"
    assert '"应发工资": 1200.00' in out and '"应发工资": 0.00' in out
    copy = tmp_path / "broken.xlsx"
    shutil.copy(broken[0], copy)
    assert main(["refresh", str(copy)]) == 0  # problems are listed, the refresh still runs
    assert "异常" in capsys.readouterr().err


def test_three_d_months_elimination_where_a_template_says_so(tmp_path) -> None:
    """电销-style rule as data: three D months in a row → 淘汰 (here on the S2 grades)."""
    template = dataclasses.replace(get("after-sales"), history_rules=(
        HistoryRule("three_d", "run", flag="淘汰", times=3, grades=("D",)),))
    agents = [dict(S2_AGENTS[0], **{"工号": "SH09", "客户满意度(分)": 82, "服务细致(级别)": "3级",
                                    "回访完成目标值(是/否)": "否", "回访率": 0.85,
                                    "投诉处理未达标项数": 0})]
    # 5 + 30 + 5 + 20 = 60 → D
    history = [("2026-08", "SH09", "", "", 62, "D", None), ("2026-09", "SH09", "", "", 65, "D",
                                                                  None)]
    path = month_book(tmp_path, "after-sales", "2026-10", agents,
                      roster=[{"工号": "SH09", "工资级别": "一级"}], history=history)
    computed = compute_book(path)
    sheets = {name: computed.values(name) for name in computed.book.sheets}
    result = compute_payroll(template, sheets)
    row = by_agent(result.records())["SH09"]
    assert row["等级"] == "D" and row["备注"] == "淘汰 (2026-08–2026-10)"
    assert row["应发工资"] == Decimal("300.00")  # 0.5 × Q 一级 600


def test_core_takes_2d_lists_as_well_as_dict_grids(tmp_path) -> None:
    """The pure core: the same month as dict grids and as 2-D lists ("" for empty cells)."""
    path = new_month("commission", tmp_path / "c.xlsx", sample=True, history_months=4,
                     agents=6, month="2026-10")
    computed = compute_book(path)
    grids = {name: computed.values(name) for name in computed.book.sheets}
    lists = {}
    for name, grid in grids.items():
        rows = max((r for r, _ in grid), default=0)
        cols = max((c for _, c in grid), default=0)
        lists[name] = [[grid.get((r, c), "") for c in range(1, cols + 1)]
                       for r in range(1, rows + 1)]
    template = get("commission")
    from_dicts = compute_payroll(template, grids)
    from_lists = compute_payroll(template, lists)
    assert from_dicts.pay_rows == from_lists.pay_rows
    assert from_dicts.history_rows == from_lists.history_rows
    assert from_dicts.month == "2026-10" and len(from_dicts.agents) == 6
