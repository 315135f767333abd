"""The pieces of ``kpi-xl import``: header normalisation and synonyms, reading exports, values,
nickname mapping."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kpi_xl.importer.apply import _BLANK, _Agent, _Column, _Nicknames, _read_value
from kpi_xl.importer.headers import (
    CONCEPTS,
    base,
    concept_for,
    header_unit,
    is_summary,
    normalise,
    template_kind,
)
from kpi_xl.importer.read import ExportFormatError, clean_text, read_export, sniff_delimiter


@pytest.mark.parametrize(("raw", "norm", "stem"), [
    ("询单－>最终付款转化率", "询单->最终付款转化率", "询单->最终付款转化率"),
    ("询单→最终付款转化率", "询单->最终付款转化率", "询单->最终付款转化率"),
    ("询单 —> 最终付款转化率", "询单->最终付款转化率", "询单->最终付款转化率"),
    ("平均响应（秒）", "平均响应(秒)", "平均响应"),
    ("平均响应[秒]", "平均响应(秒)", "平均响应"),
    ("回复率【%】", "回复率(%)", "回复率"),
    ("【回复率】(%)", "(回复率)(%)", "回复率"),
    ("询单转化率(可直接填)", "询单转化率(可直接填)", "询单转化率"),
    ("　客服昵称：", "客服昵称", "客服昵称"),
    ("ＧＭＶ（元）", "gmv(元)", "gmv"),
    ("(秒)", "(秒)", "(秒)"),
])
def test_normalise_and_base(raw: str, norm: str, stem: str) -> None:
    assert normalise(raw) == norm
    assert base(raw) == stem


@pytest.mark.parametrize(("header", "unit"), [
    ("平均响应（秒）", "s"), ("平均响应(s)", "s"), ("在线时长(分钟)", "min"),
    ("旺旺在线时长(小时)", "h"), ("回复率(%)", "%"), ("销售额(万元)", "万"), ("客单价", None),
    ("询单转化率(可直接填)", None),
])
def test_header_unit(header: str, unit: str | None) -> None:
    assert header_unit(header) == unit


@pytest.mark.parametrize(("header", "key"), [
    ("客服昵称", "nickname"), ("旺旺昵称", "nickname"), ("客服", "nickname"), ("昵称", "nickname"),
    ("咨询人数", "consults"), ("接待人数", "received"), ("询单人数", "inquiries"),
    ("最终付款人数", "paid"), ("询单->最终付款人数", "paid"), ("最终下单人数", "paid"),
    ("询单－>最终付款转化率", "conversion"), ("询单转化率", "conversion"), ("客单价", "aov"),
    ("销售额", "sales"), ("实际销售额", "sales"), ("平均响应(秒)", "response"),
    ("平均响应时间", "response"), ("回复率", "reply_rate"), ("答问比", "answer_ratio"),
    ("首次响应(秒)", "first_response"), ("备注", None),
])
def test_concepts(header: str, key: str | None) -> None:
    concept = concept_for(header)
    assert (concept.key if concept else None) == key


def test_synonym_table_is_consistent() -> None:
    keys = [c.key for c in CONCEPTS]
    assert len(keys) == len(set(keys))
    owner: dict[str, str] = {}
    for concept in CONCEPTS:
        for name in concept.names:
            assert owner.setdefault(normalise(name), concept.key) == concept.key, name
    assert concept_for("答问比").targets == ()  # known, never imported


def test_template_kinds() -> None:
    assert template_kind("询单转化率(可直接填)") == "rate"
    assert template_kind("平均响应时间(秒)") == "seconds"
    assert template_kind("执行力") == "choice"
    assert template_kind("不存在的列") is None


@pytest.mark.parametrize("name", ["汇总", "合计", "均值", "平均值", "总计", "汇总（30人）",
                                  "合计：", " 平均 ", "Total"])
def test_summary_rows(name: str) -> None:
    assert is_summary(name)


@pytest.mark.parametrize("name", ["小倩", "汇总组小王", "悦然家居旗舰店:平均"])
def test_not_summary_rows(name: str) -> None:
    assert not is_summary(name)


# ----------------------------------------------------------------------------- reading
TEXT = "客服昵称,咨询人数,回复率\r\n小倩,\"1,234\",98.5%\r\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gbk"), "gb18030"),
    (TEXT.encode("gb18030"), "gb18030"),
    (TEXT.replace(",", "\t").replace('"1\t234"', "1,234").encode("utf-16"), "utf-16"),
])
def test_csv_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    export = read_export(path)
    assert export.kind == "csv" and export.encoding == encoding
    assert export.sheets[0].rows == [["客服昵称", "咨询人数", "回复率"], ["小倩", "1,234", "98.5%"]]


def test_csv_excel_text_forms(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text('客服昵称;工号;咨询人数\n\t小倩 ;="0012";" 12 "\n', encoding="utf-8")
    rows = read_export(path).sheets[0].rows
    assert rows[1] == ["小倩", "0012", "12"]
    assert clean_text("  ") is None


def test_delimiter_sniffing() -> None:
    assert sniff_delimiter("a\tb\tc\n1\t2\t3") == "\t"
    assert sniff_delimiter('a;b;c\n"1,5";2;3') == ";"
    assert sniff_delimiter("only one column") == ","


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "旧版 .xls"),
    (b"<html><table><tr><td>1</td></tr></table></html>", "网页格式"),
    (b"PK\x03\x04not really a zip", "不是可读取的 .xlsx"),
])
def test_unreadable_exports(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(data)
    with pytest.raises(ExportFormatError, match=message):
        read_export(path)


def test_missing_export(tmp_path: Path) -> None:
    with pytest.raises(ExportFormatError, match="找不到导出文件"):
        read_export(tmp_path / "nope.csv")


# ----------------------------------------------------------------------------- values
RATE = _Column(8, "询单转化率(可直接填)", "rate", None)
COUNT = _Column(6, "咨询人数", "count", None)
SECONDS_COL = _Column(13, "平均响应时间(秒)", "seconds", "s")
CHOICE = _Column(15, "执行力", "choice", None)
UNKNOWN = _Column(20, "自定义", None, None)


@pytest.mark.parametrize(("raw", "column", "unit", "expected"), [
    ("46.5%", RATE, None, 0.465),
    ("46.5", RATE, "%", 0.465),
    ("0.465", RATE, None, 0.465),
    ("6‰", RATE, None, 0.006),
    (46.5, RATE, "%", 0.465),
    ("1,234", COUNT, None, 1234.0),
    ("１２３４", COUNT, None, 1234.0),
    ("+1", COUNT, None, 1.0),
    ("-5", COUNT, None, -5.0),
    (12, COUNT, None, 12.0),
    ("25.3", SECONDS_COL, "s", 25.3),
    ("25秒", SECONDS_COL, None, 25.0),
    ("1.5", SECONDS_COL, "min", 90.0),
    ("0:25", SECONDS_COL, None, 25.0),
    ("01:02:03", SECONDS_COL, None, 3723.0),
    ("比较满意", CHOICE, None, "比较满意"),
    ("=1+1", CHOICE, None, "=1+1"),
    ("@SUM(A1)", UNKNOWN, None, "@SUM(A1)"),
    ("7", UNKNOWN, None, 7.0),
])
def test_values(raw: object, column: _Column, unit: str | None, expected: object) -> None:
    value, _ = _read_value(raw, column, unit, False)
    assert value == expected and type(value) is type(expected)


def test_percent_formatted_cell_is_not_divided_again() -> None:
    assert _read_value(0.465, RATE, "%", True)[0] == 0.465


@pytest.mark.parametrize("raw", [None, "", " ", "-", "--", "—", "——", "/", "N/A", "null", "#N/A",
                                 "#DIV/0!"])
def test_blank_values_keep_the_existing_input(raw: object) -> None:
    assert _read_value(raw, COUNT, None, False)[0] is _BLANK


@pytest.mark.parametrize("raw", ["abc", "=1+1", "+1+cmd|' /C calc'!A0", "@SUM(A1)"])
def test_text_in_a_number_column_is_not_written(raw: str) -> None:
    value, remark = _read_value(raw, COUNT, None, False)
    assert value is None and "不是数字" in remark


# ----------------------------------------------------------------------------- nicknames
def agents(*nicks: str) -> _Nicknames:
    return _Nicknames(_Agent(f"KF{i:03d}", None, None, None, n) for i, n in enumerate(nicks, 1))


def test_nickname_mapping() -> None:
    names = agents("悦然家居旗舰店:小倩", "悦然家居旗舰店:小倩2", "木子",
                   "别家店:阿杰; 悦然家居旗舰店:阿杰", '=HYPERLINK("http://x/y","阿木")')
    assert names.lookup("小倩") == {"KF001"}
    assert names.lookup("悦然家居旗舰店：小倩") == {"KF001"}      # full-width colon
    assert names.lookup(" 悦然家居旗舰店:小倩2 ") == {"KF002"}
    assert names.lookup("悦然家居旗舰店:木子") == {"KF003"}        # roster without prefix
    assert names.lookup("别家店:小倩") == set()                     # another shop's 小倩
    assert names.lookup("阿杰") == {"KF004"}                        # two sub-accounts, one agent
    assert names.lookup("悦然家居旗舰店:阿杰") == {"KF004"}
    assert names.lookup('=HYPERLINK("http://x/y","阿木")') == {"KF005"}
    assert names.lookup("小") == set()


def test_ambiguous_short_nickname() -> None:
    names = agents("店A:小倩", "店B:小倩")
    assert names.lookup("小倩") == {"KF001", "KF002"}
    assert names.lookup("店B:小倩") == {"KF002"}
