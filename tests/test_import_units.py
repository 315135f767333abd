"""Units in ``kpi-xl import``: a value's own unit wins over its header's, a header's over the
column's; a unit that does not fit its column is refused and listed, never guessed; rate
columns of mixed percent numbers and fractions are not written; the statistics period (not
the export time) decides the month."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpi_xl.importer import plan_import, read_export
from kpi_xl.importer.apply import _Column, _read_value
from kpi_xl.importer.headers import header_unit, qualifiers
from kpi_xl.importer.units import COUNT, MONEY, PERCENT, POINTS, UNKNOWN, parse_unit
from kpi_xl.templates import new_month
from kpi_xl.workbook.xlsx import read_book

RATE = _Column(8, "询单转化率(可直接填)", "rate", None)
COUNT_COL = _Column(6, "咨询人数", "count", None)
MONEY_COL = _Column(20, "实际销售额", "money", None)
SECONDS_COL = _Column(13, "平均响应时间(秒)", "seconds", "s")
HOURS_COL = _Column(14, "旺旺在线时长(小时)", "hours", "h")
SCORE_COL = _Column(15, "客户满意度(分)", "score", "分")


# ----------------------------------------------------------------------------- unit words
@pytest.mark.parametrize(("text", "dimension", "factor"), [
    ("千元", MONEY, 1e3), ("万元", MONEY, 1e4), ("亿元", MONEY, 1e8), ("元/人", MONEY, 1.0),
    ("万人", COUNT, 1e4), ("人", COUNT, 1.0), ("百分比", PERCENT, 0.01), ("5分制", POINTS, 1.0),
    ("千美元", UNKNOWN, 1.0), ("百分点", UNKNOWN, 1.0), ("件/天", UNKNOWN, 1.0),
    ("百", UNKNOWN, 1.0),
])
def test_unit_words(text: str, dimension: str, factor: float) -> None:
    unit = parse_unit(text)
    assert unit is not None and (unit.dimension, unit.factor) == (dimension, factor)


@pytest.mark.parametrize("text", ["静默下单", "含自动回复", "千牛", "可直接填", "15分钟内",
                                  "是/否"])
def test_notes_are_not_units(text: str) -> None:
    assert parse_unit(text) is None


def test_qualifiers_are_the_groups_that_are_not_units() -> None:
    assert qualifiers("询单转化率(静默下单)") == ["静默下单"]
    assert qualifiers("平均响应(秒)") == [] and qualifiers("【回复率】(%)") == []
    assert header_unit("销售额(千元)") == "千元" and header_unit("满意度(分)") == "分"


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize(("raw", "column", "unit", "expected"), [
    ("2分", SECONDS_COL, None, 120.0),           # the value's minutes, not the column's seconds
    ("1.5分", SECONDS_COL, None, 90.0),
    ("30秒", SECONDS_COL, "min", 30.0),          # its own 秒 wins over the (分钟) header
    ("1分05秒", SECONDS_COL, None, 65.0),
    ("0:25", SECONDS_COL, None, 25.0),           # m:ss in a seconds column
    ("480分", HOURS_COL, None, 8.0),
    ("28800秒", HOURS_COL, None, 8.0),
    ("8小时", HOURS_COL, None, 8.0),
    ("8:30", HOURS_COL, None, 8.5),              # h:mm in an hours column
    ("168:30", HOURS_COL, None, 168.5),
    ("1小时30分", HOURS_COL, None, 1.5),
    ("8:30", HOURS_COL, "min", 8.5 / 60),        # under a (分钟) header: m:ss
    ("1.28万", MONEY_COL, "万", 12800.0),         # 万 not applied twice
    ("12800元", MONEY_COL, "万", 12800.0),
    ("1.28", MONEY_COL, "万", 12800.0),
    ("128.5", MONEY_COL, "千元", 128500.0),
    ("¥1,280.00", MONEY_COL, None, 1280.0),
    ("0.12", COUNT_COL, "万人", 1200.0),
    ("1200人", COUNT_COL, "万人", 1200.0),
    ("4.8分", SCORE_COL, None, 4.8),             # 分 is points over a score column
    ("4.8", SCORE_COL, "分", 4.8),
])
def test_value_units(raw: str, column: _Column, unit: str | None, expected: float) -> None:
    value, remark = _read_value(raw, column, unit, False)
    assert value == pytest.approx(expected) and remark == ""


@pytest.mark.parametrize(("raw", "column", "unit", "words"), [
    ("12元", SECONDS_COL, None, "单位“元”不适用于时长(秒)列"),
    ("46%", COUNT_COL, None, "单位“%”不适用于计数列"),
    ("100人", MONEY_COL, None, "单位“人”不适用于金额列"),
    ("4.8", RATE, "分", "“分”在此是分值"),
    ("4.8分", RATE, None, "“分”在此是分值"),
    ("1.2万", SECONDS_COL, None, "单位“万”不适用于时长(秒)列"),
    ("0:75", SECONDS_COL, None, "不是有效的时长"),
    ("8:75", HOURS_COL, None, "不是有效的时长"),
    ("5%元", MONEY_COL, None, "不是数字"),
])
def test_units_that_do_not_fit_are_refused(raw: str, column: _Column, unit: str | None,
                                           words: str) -> None:
    value, remark = _read_value(raw, column, unit, False)
    assert value is None and words in remark, remark


# ----------------------------------------------------------------------------- whole imports
def _book(tmp_path: Path, template: str = "taobao-cs") -> Path:
    return new_month(template, tmp_path / f"{template}.xlsx", sample=True, lite=False)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\r\n".join(",".join(row) for row in rows) + "\r\n", encoding="utf-8-sig")
    return path


def _cell(book: Path, agent: str, header: str) -> tuple[int, int]:
    sheet = read_book(book).sheets["考核"]
    col = next(c for (r, c), v in sheet.values.items() if r == 4 and v == header)
    row = next(r for (r, c), v in sheet.values.items() if c == 1 and r > 4 and v == agent)
    return row, col


def test_unknown_header_unit_is_listed_and_not_imported(tmp_path: Path) -> None:
    book = _book(tmp_path)
    export = _csv(tmp_path / "e.csv", [["客服昵称", "销售额(千美元)", "咨询人数"],
                                       ["小倩", "128.5", "100"]])
    cells, report = plan_import(read_book(book), read_export(export))
    assert cells.get(_cell(book, "KF001", "实际销售额")) is None
    assert report.known_unmatched == [(
        "销售额(千美元)", "表头单位“千美元”无法识别, 请换算后再导入 (unknown unit 千美元; "
        "convert it first), 未导入 (not imported)")]


def test_points_header_leaves_the_rate_to_a_plain_column(tmp_path: Path) -> None:
    book = _book(tmp_path)
    export = _csv(tmp_path / "e.csv", [["客服昵称", "满意度(分)", "满意率"],
                                       ["小倩", "4.8", "96%"]])
    cells, report = plan_import(read_book(book), read_export(export))
    assert cells[_cell(book, "KF001", "满意度")] == 0.96
    assert [h for h, _ in report.known_unmatched] == ["满意度(分)"]
    assert "是分值" in report.known_unmatched[0][1]


def test_score_column_takes_points(tmp_path: Path) -> None:
    book = _book(tmp_path, "after-sales")
    roster = read_book(book).sheets["员工"]
    nickname = next(v for (r, c), v in roster.values.items() if r == 5 and c == 5)
    agent = roster.values[(5, 1)]
    export = _csv(tmp_path / "e.csv", [["客服昵称", "客户满意度(分)"], [nickname, "4.8"]])
    cells, report = plan_import(read_book(book), read_export(export))
    assert cells[_cell(book, agent, "客户满意度(分)")] == 4.8, report.lines()


def test_small_values_under_a_percent_header(tmp_path: Path) -> None:
    book = _book(tmp_path)
    mixed = _csv(tmp_path / "mixed.csv", [["客服昵称", "回复率(%)"], ["小倩", "98.5"],
                                          ["小娜", "0.985"]])
    cells, report = plan_import(read_book(book), read_export(mixed))
    assert cells[_cell(book, "KF001", "回复率(可直接填)")] == 0.985
    assert _cell(book, "KF002", "回复率(可直接填)") not in cells
    assert [(n.agent, n.value) for n in report.rejected] == [("KF002", "0.985")]
    assert "同列数值混有百分数与小数" in report.rejected[0].detail

    alone = _csv(tmp_path / "alone.csv", [["客服昵称", "回复率(%)"], ["小倩", "0.985"]])
    cells, report = plan_import(read_book(book), read_export(alone))
    assert cells[_cell(book, "KF001", "回复率(可直接填)")] == 0.00985
    assert any("已按 % 换算" in w for w in report.warnings), report.warnings


def test_rate_over_100_percent_in_a_percent_formatted_cell(tmp_path: Path) -> None:
    book = _book(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客服昵称", "回复率"])
    ws.append(["小倩", 1.2])
    ws["B2"].number_format = "0%"
    wb.save(tmp_path / "e.xlsx")
    cells, report = plan_import(read_book(book), read_export(tmp_path / "e.xlsx"))
    assert cells[_cell(book, "KF001", "回复率(可直接填)")] == 1.2
    assert report.warnings == [
        "KF001 回复率(可直接填) = 120% 超过 100%, 已按原值写入, 请确认 (above 100%; written as is)"]


def test_plain_rate_beyond_any_percentage_is_refused(tmp_path: Path) -> None:
    book = _book(tmp_path)
    export = _csv(tmp_path / "e.csv", [["客服昵称", "回复率"], ["小倩", "985"]])
    cells, report = plan_import(read_book(book), read_export(export))
    assert _cell(book, "KF001", "回复率(可直接填)") not in cells
    assert "既不是 0–1 的比率" in report.rejected[0].detail


def test_a_qualified_header_alone_fills_its_column_with_a_warning(tmp_path: Path) -> None:
    book = _book(tmp_path)
    export = _csv(tmp_path / "e.csv", [["客服昵称", "询单转化率(静默下单)"], ["小倩", "10%"]])
    cells, report = plan_import(read_book(book), read_export(export))
    assert cells[_cell(book, "KF001", "询单转化率(可直接填)")] == 0.1
    assert any("带限定 (静默下单)" in w for w in report.warnings), report.warnings


@pytest.mark.parametrize(("preamble", "warning"), [
    (["统计时间：2026-11-01 ~ 2026-11-30", "导出时间：2026-12-01 09:12"], None),
    (["导出时间：2026-12-01 09:12"], None),
    (["客服绩效 统计时间:2026-10-01~2026-10-31 导出时间:2026-11-01"], "2026-10"),
    (["统计周期：2026年10月1日—2026年10月31日"], "2026-10"),
    (["统计时间：最近30天 (2026-10-05 ~ 2026-11-03)"], "跨月"),
])
def test_the_statistics_period_decides_the_month(tmp_path: Path, preamble: list[str],
                                                 warning: str | None) -> None:
    book = _book(tmp_path)
    export = _csv(tmp_path / "e.csv", [*([p] for p in preamble), ["客服昵称", "咨询人数"],
                                       ["小倩", "100"]])
    _, report = plan_import(read_book(book), read_export(export))
    if warning is None:
        assert report.warnings == []
    else:
        assert any(warning in w for w in report.warnings), report.warnings
