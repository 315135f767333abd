"""Audit of ``kpi-xl import`` with exports as HR meets them: each test is one bug found.

Every test builds a sample month and an export in ``tmp_path`` and plans the import
(:func:`plan_import`, which is what ``import_export`` writes). The rule they check is the
README's: a value that cannot be read right is reported, never written as a plausible wrong
number, and the report does not mislead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_xl.importer import plan_import, read_export
from kpi_xl.templates import new_month
from kpi_xl.workbook.xlsx import XlsxEditor, read_book


def _book(tmp_path: Path, template: str = "taobao-cs") -> Path:
    return new_month(template, tmp_path / f"{template}.xlsx", sample=True, lite=False)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\r\n".join(",".join(row) for row in rows) + "\r\n", encoding="utf-8-sig")
    return path


def _plan(book: Path, export: Path):
    return plan_import(read_book(book), read_export(export))


def _cell(book: Path, agent: str, header: str) -> tuple[int, int]:
    """(row, col) of ``agent``'s ``header`` cell in 考核 (header row 4, 工号 in column A)."""
    sheet = read_book(book).sheets["考核"]
    col = next(c for (r, c), v in sheet.values.items() if r == 4 and v == header)
    row = next(r for (r, c), v in sheet.values.items() if c == 1 and r > 4 and v == agent)
    return row, col


def _reported(report, agent: str, header: str) -> bool:
    """The value of ``agent``/``header`` is named in the report (not written, or a warning)."""
    return (any(n.agent == agent and n.header == header for n in report.rejected)
            or any(agent in w and header in w for w in report.warnings))


# ----------------------------------------------------------------------------- units in values
def test_minutes_suffix_in_a_seconds_column_is_not_read_as_seconds(tmp_path: Path) -> None:
    """千牛 writes response time as "2分" (2 minutes): 120 s, or reported — never 2 s."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "qianniu.csv", [["客服昵称", "平均响应时间"], ["小倩", "2分"]])
    cells, report = _plan(book, export)
    cell = _cell(book, "KF001", "平均响应时间(秒)")
    assert cells.get(cell) in (None, 120.0), f"2分 written as {cells.get(cell)} seconds"
    if cell not in cells:
        assert _reported(report, "KF001", "平均响应时间(秒)")


def test_minutes_value_in_an_hours_column_is_not_read_as_hours(tmp_path: Path) -> None:
    """在线时长 "480分" (480 minutes = 8 h) must not land in 旺旺在线时长(小时) as 480 h."""
    book = _book(tmp_path, "presales-detail")
    export = _csv(tmp_path / "online.csv", [["客服昵称", "在线时长"], ["小敏", "480分"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "旺旺在线时长(小时)")
    assert cells.get(cell) in (None, 8.0), f"480分 written as {cells.get(cell)} hours"


def test_seconds_value_under_a_minutes_header_is_not_multiplied(tmp_path: Path) -> None:
    """平均响应(分钟) with a cell "30秒": the cell says seconds; 1800 s is wrong."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "resp.csv", [["客服昵称", "平均响应(分钟)"], ["小倩", "30秒"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "平均响应时间(秒)")
    assert cells.get(cell) in (None, 30.0), f"30秒 written as {cells.get(cell)} seconds"


def test_h_mm_duration_in_an_hours_column(tmp_path: Path) -> None:
    """在线时长 "8:30" (Excel's h:mm, saved to CSV) is 8.5 h, not 8 min 30 s = 0.1417 h.

    "168:30" in the same column is already refused as not a number; "8:30" is read as m:ss.
    """
    book = _book(tmp_path, "presales-detail")
    export = _csv(tmp_path / "online.csv", [["客服昵称", "在线时长"], ["小敏", "8:30"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "旺旺在线时长(小时)")
    assert cells.get(cell) in (None, 8.5), f"8:30 written as {cells.get(cell)} hours"


def test_wan_value_under_a_wan_header_is_not_scaled_twice(tmp_path: Path) -> None:
    """销售额(万元) with a cell "1.28万": 12,800 元, not 128,000,000."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "sales.csv", [["客服昵称", "销售额(万元)"], ["小倩", "1.28万"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "实际销售额")
    assert cells.get(cell) in (None, 12800.0), f"1.28万 written as {cells.get(cell)}"


def test_points_header_is_not_taken_for_minutes_in_a_rate_column(tmp_path: Path) -> None:
    """满意度(分) 4.8 (a 5-point score) goes to the rate 满意度: it is not 4.8 minutes = 288."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "sat.csv", [["客服昵称", "满意度(分)"], ["小倩", "4.8"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "满意度")
    assert cells.get(cell) != 288.0, "满意度(分) 4.8 converted as minutes to 288 seconds"


def test_thousand_yuan_header_is_not_ignored(tmp_path: Path) -> None:
    """销售额(千元) 128.5 is 128,500 元; (万元) is understood, (千元) is silently dropped."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "sales.csv", [["客服昵称", "销售额(千元)"], ["小倩", "128.5"]])
    cells, _ = _plan(book, export)
    cell = _cell(book, "KF001", "实际销售额")
    assert cells.get(cell) in (None, 128500.0), f"128.5 千元 written as {cells.get(cell)} 元"


# ----------------------------------------------------------------------------- rates
def test_small_rate_in_a_column_of_percent_numbers_is_reported(tmp_path: Path) -> None:
    """询单转化率 exported as plain percent numbers (46.5, 38.2 …): the 0.9 in the same column
    is 0.9 %, but it is written as 90 % with no word while its neighbours are warned about."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "conv.csv", [["客服昵称", "询单转化率"], ["小倩", "46.5"],
                                         ["小娜", "38.2"], ["小娜2", "0.9"]])
    cells, report = _plan(book, export)
    cell = _cell(book, "KF003", "询单转化率(可直接填)")
    assert cells.get(cell) != 0.9 or _reported(report, "KF003", "询单转化率(可直接填)"), \
        f"0.9 written as 90% silently; warnings: {report.warnings}"


def test_rate_warning_for_a_percent_text_is_not_misleading(tmp_path: Path) -> None:
    """回复率 "120%": the warning says it "looks like a percentage" and asks whether it should
    be "120%%" — the value is already a percentage, one above 100 %."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "reply.csv", [["客服昵称", "回复率"], ["小倩", "120%"]])
    _, report = _plan(book, export)
    assert not any("%%" in w for w in report.warnings), report.warnings


# ----------------------------------------------------------------------------- columns
def test_plain_header_wins_over_a_qualified_variant(tmp_path: Path) -> None:
    """询单转化率(静默下单) (silent-order conversion, another figure) comes first in the export;
    it takes 询单转化率(可直接填) and the plain 询单转化率 is dropped as "already filled"."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "conv.csv", [["客服昵称", "询单转化率(静默下单)", "询单转化率"],
                                         ["小倩", "10%", "46%"]])
    cells, report = _plan(book, export)
    target = {m.target_header: m.export_header for m in report.matched}
    assert target.get("询单转化率(可直接填)") in (None, "询单转化率"), report.matched
    assert cells.get(_cell(book, "KF001", "询单转化率(可直接填)")) != 0.1


# ----------------------------------------------------------------------------- month
@pytest.mark.parametrize("preamble", [
    ["统计时间：2026-10-01 ~ 2026-10-31", "导出时间：2026-11-01 09:12"],
    ["统计日期：20261001-20261031"],
], ids=["october-exported-in-november", "compact-dates"])
def test_export_of_another_month_warns(tmp_path: Path, preamble: list[str]) -> None:
    """An October export (downloaded on 1 November, or dated 20261001-20261031) imported into
    the November book must warn; today the 导出时间 line (or the compact dates) hide it."""
    book = _book(tmp_path)
    export = _csv(tmp_path / "chitu.csv", [*([p] for p in preamble),
                                          ["客服昵称", "咨询人数"], ["小倩", "100"]])
    _, report = _plan(book, export)
    assert report.month == "2026-11"
    assert any("2026-10" in w for w in report.warnings), report.warnings


# ----------------------------------------------------------------------------- nicknames
def test_numeric_roster_nickname_matches(tmp_path: Path) -> None:
    """A 旺旺昵称 of digits typed in 员工 is stored as a number; the export's "13800001111"
    is then "unknown" and the report lists the roster's nickname as “13800001111.0”."""
    book = _book(tmp_path)
    editor = XlsxEditor(book)
    editor.set_cells("员工", {(5, 5): 13800001111})
    editor.save(backup=False)
    export = _csv(tmp_path / "nums.csv", [["客服昵称", "咨询人数"], ["13800001111", "100"]])
    cells, report = _plan(book, export)
    assert [n.nickname for n in report.unknown_nicknames] == []
    assert cells.get(_cell(book, "KF001", "咨询人数")) == 100.0
