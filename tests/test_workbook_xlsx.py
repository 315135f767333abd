"""Headless xlsx I/O: reading, part-level editing, byte-for-byte copying, locking, atomic save."""

from __future__ import annotations

import io
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formula.translate import Translator
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from kpi_xl.core.errors import KpiError
from kpi_xl.workbook.ooxml import NS_MAIN
from kpi_xl.workbook.xlsx import (
    Formula,
    WorkbookBusy,
    WorkbookFormatError,
    XlsxEditor,
    backup_path,
    lock_file,
    read_book,
    shift_formula,
    workbook_lock,
)
from kpi_xl.workbook.xlsx_read import read_sheet, scan_sheet

REPO = Path(__file__).resolve().parents[1]
M = f"{{{NS_MAIN}}}"
SHARED_MASTER = "B2*$C2+'规则'!C$4+SUM(B$2:B2)+IF(A2=\"B2\",1,0)+规则!$C$4"
MAIN_PY = 'import xlwings as xw\n\n@xw.script\ndef refresh(book: xw.Book):\n    print("刷新")\n'
VBA_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4


# ----------------------------------------------------------------------------- fixtures
def tiny_png() -> bytes:
    """A valid 2×2 RGB PNG made with zlib (no Pillow needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class RawPng(Image):
    """openpyxl's Image without Pillow: the PNG bytes and size given directly."""

    def __init__(self, data: bytes, width: int, height: int) -> None:
        self.ref = None
        self._raw = data
        self.width, self.height = width, height
        self.format = "png"

    def _data(self) -> bytes:
        return self._raw


def build_openpyxl_book(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "考核"
    ws.append(["姓名", "销售额", "系数", "满意度", "状态", "得分", "得分2", "数组", "错误", "在职"])
    for i, name in enumerate(["张三", "李四", "王五", "赵六", "钱七"]):
        ws.append([name, 100.5 + i, 1 + i / 10, f"{90 + i}%", "正常"])
    for row in range(2, 7):
        for col in (6, 7):
            ws.cell(row, col, "=0")  # placeholders, turned into a shared block below
    ws["H2"] = ArrayFormula("H2:H3", "=B2:B3*2")
    ws["I2"] = "#DIV/0!"
    ws["J2"] = True
    ws["J3"] = False
    ws["A1"].comment = Comment("HR 填写", "HR")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=6), titles_from_data=True)
    ws.add_chart(chart, "L2")

    rules = wb.create_sheet("规则")
    rules["A4"] = "奖金基数"
    rules["C4"] = 0.5
    rules.add_image(RawPng(tiny_png(), 2, 2), "E2")

    detail = wb.create_sheet("明细")
    detail.append(["姓名", "金额", "比例", "备注"])
    for cell in detail[1]:
        cell.font = Font(bold=True)
    detail.append(["旧", 1.0, 0.5, "旧行"])
    detail.append(["旧2", 2.0, 0.25, "=B3*2"])
    for row in (2, 3):
        detail.cell(row, 2).number_format = "0.00"
        detail.cell(row, 3).number_format = "0%"
    detail.freeze_panes = "A2"
    detail.column_dimensions["A"].width = 21
    detail.page_setup.orientation = "landscape"
    detail.print_area = "A1:D3"

    wb.defined_names["奖金基数"] = DefinedName("奖金基数", attr_text="规则!$C$4")
    wb.save(path)


def _edit_xml(data: bytes, edit) -> bytes:
    root = etree.fromstring(data)
    edit(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _make_shared_block(root: etree._Element) -> None:
    """F2:G6 → one shared formula (master F2) with cached values; H3 gets its array result."""
    cells = {c.get("r"): c for c in root.iter(f"{M}c")}
    for row in range(2, 7):
        for letter in "FG":
            c = cells[f"{letter}{row}"]
            for child in list(c):
                c.remove(child)
            f = etree.SubElement(c, f"{M}f", t="shared", si="0")
            if (letter, row) == ("F", 2):
                f.set("ref", "F2:G6")
                f.text = SHARED_MASTER
            etree.SubElement(c, f"{M}v").text = str(row * 10 + (letter == "G"))
    h2 = cells["H2"]
    h2.find(f"{M}v").text = "201"
    cells["A3"].getparent()
    h3 = etree.Element(f"{M}c", r="H3")
    etree.SubElement(h3, f"{M}v").text = "203"
    cells["E3"].addnext(h3)


def _inject(path: Path, out: Path) -> None:
    """Add a shared formula block, VBA, and an xlwings Lite web extension by hand."""
    src = zipfile.ZipFile(path)
    parts = {info.filename: src.read(info.filename) for info in src.infolist()}
    infos = src.infolist()
    sheet1 = "xl/worksheets/sheet1.xml"
    parts[sheet1] = _edit_xml(parts[sheet1], _make_shared_block)
    parts["xl/vbaProject.bin"] = VBA_BYTES
    we = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
    value = '"' + MAIN_PY.replace("\n", "\\n").replace('"', '\\"') + '"'
    we_root = etree.Element(
        f"{{{we}}}webextension", nsmap={"we": we}, id="{7E6F1F0B-1A2B-4C3D-8E9F-0A1B2C3D4E5F}"
    )
    etree.SubElement(
        we_root,
        f"{{{we}}}reference",
        id="wa200008175",
        version="1.0.0.0",
        store="en-US",
        storeType="OMEX",
    )
    props = etree.SubElement(we_root, f"{{{we}}}properties")
    etree.SubElement(props, f"{{{we}}}property", name="main.py", value=value)
    etree.SubElement(props, f"{{{we}}}property", name="requirements.txt", value='"xlwings==0.37.8"')
    etree.SubElement(we_root, f"{{{we}}}bindings")
    parts["xl/webextensions/webextension1.xml"] = etree.tostring(
        we_root, xml_declaration=True, encoding="UTF-8", standalone=True
    )
    parts["xl/webextensions/taskpanes.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/'
        b'taskpanes/2010/11">'
        b'<wetp:taskpane dockstate="right" visibility="0" width="350" row="4">'
        b'<wetp:webextensionref xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships" r:id="rId1"/>'
        b"</wetp:taskpane></wetp:taskpanes>"
    )
    parts["xl/webextensions/_rels/taskpanes.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2011/relationships/'
        b'webextension" '
        b'Target="webextension1.xml"/></Relationships>'
    )
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdWe" Type="http://schemas.microsoft.com/office/2011/relationships/'
        b'webextensiontaskpanes" Target="xl/webextensions/taskpanes.xml"/></Relationships>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'vbaProject" Target="vbaProject.bin"/></Relationships>',
    )
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .replace(b"spreadsheetml.sheet.main+xml", b"PLACEHOLDER")
        .replace(
            b"application/vnd.openxmlformats-officedocument.PLACEHOLDER",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        .replace(
            b"</Types>",
            b'<Override PartName="/xl/vbaProject.bin" '
            b'ContentType="application/vnd.ms-office.vbaProject"/>'
            b'<Override PartName="/xl/webextensions/taskpanes.xml" '
            b'ContentType="application/vnd.ms-office.webextensiontaskpanes+xml"/>'
            b'<Override PartName="/xl/webextensions/webextension1.xml" '
            b'ContentType="application/vnd.ms-office.webextension+xml"/></Types>',
        )
    )
    names = [info.filename for info in infos]
    if names[0] != "[Content_Types].xml":  # put it first, as Excel does
        names.remove("[Content_Types].xml")
        names.insert(0, "[Content_Types].xml")
    names += [
        "xl/vbaProject.bin",
        "xl/webextensions/webextension1.xml",
        "xl/webextensions/taskpanes.xml",
        "xl/webextensions/_rels/taskpanes.xml.rels",
    ]
    with zipfile.ZipFile(out, "w") as dst:
        for name in names:
            kind = zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10))
            info.compress_type = kind
            dst.writestr(info, parts[name])


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    plain = folder / "plain.xlsx"
    build_openpyxl_book(plain)
    book = folder / "薪酬模板.xlsm"
    _inject(plain, book)
    return book


@pytest.fixture
def book(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / template.name
    target.write_bytes(template.read_bytes())
    return target


def entries(path: Path) -> dict[str, tuple[bytes, int, tuple]]:
    with zipfile.ZipFile(path) as zf:
        return {
            i.filename: (zf.read(i.filename), i.compress_type, i.date_time) for i in zf.infolist()
        }


def sheet_part(path: Path, part: str) -> etree._Element:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read(part))


def cell_el(root: etree._Element, ref: str) -> etree._Element:
    found = [c for c in root.iter(f"{M}c") if c.get("r") == ref]
    assert len(found) == 1, ref
    return found[0]


# ----------------------------------------------------------------------------- shift_formula
@pytest.mark.parametrize(
    "formula",
    [
        "=SUM(B2:C2)*规则!$C$4",
        "='规则'!C4+'It''s'!$A1+A$1",
        '=IF(A1="B2",B$2,"x""C3")',
        "=SUM(A:B)+SUM($C:D)+SUM(2:3)+SUM($4:5)",
        "=_xlfn.IFS(A2>1,LOG10(A2),TRUE,#N/A)",
        "=Table1[[#This Row],[A1]]+A2",
        "=IFERROR(A2/B2,#DIV/0!)",
        "=[1]Sheet1!A1+SUM(Sheet1:Sheet3!B2)",
        "={1,2;3,4}+A1",
        "=A1:B2 B1:C3",
        "=1E+3+E3-ZZ5",
        "=SUMPRODUCT(($B$2:$B$99=B2)*($C$2:$C$99>C2))+1",
        "=VLOOKUP(A2,'考核 2024'!$A:$F,6,FALSE)",
        "=" + SHARED_MASTER,
    ],
)
@pytest.mark.parametrize("dest", ["B3", "D9", "A1", "AA100"])
def test_shift_formula_matches_openpyxl_translator(formula: str, dest: str) -> None:
    expected = Translator(formula, "A1").translate_formula(dest)
    row, col = openpyxl.utils.cell.coordinate_to_tuple(dest)
    assert shift_formula(formula, row - 1, col - 1) == expected


def test_shift_formula_off_the_sheet_gives_ref_error() -> None:
    assert shift_formula("=A1+B$1", -1, 0) == "=#REF!+B$1"
    assert shift_formula("=SUM(A1:B5)", 0, -1) == "=SUM(#REF!)"
    assert shift_formula("=XFD1", 0, 1) == "=#REF!"
    assert shift_formula("=$A$1", -5, -5) == "=$A$1"


_ref_parts = st.tuples(st.booleans(), st.integers(1, 60), st.booleans(), st.integers(1, 500)).map(
    lambda t: f"{'$' * t[0]}{get_column_letter(t[1])}{'$' * t[2]}{t[3]}"
)
_sheet = st.sampled_from(["", "规则!", "'规则 二'!", "Sheet2!", "'It''s'!"])
_operand = st.one_of(
    st.tuples(_sheet, _ref_parts).map("".join),
    st.tuples(_sheet, _ref_parts, _ref_parts).map(lambda t: f"{t[0]}{t[1]}:{t[2]}"),
    st.sampled_from(['"A1"', "TRUE", "3.5", "奖金基数", '"含""引号"" B2"']),
)


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(_operand, min_size=1, max_size=5),
    ops=st.lists(st.sampled_from(["+", "*", "&", ",", "-"]), min_size=4, max_size=4),
    drow=st.integers(0, 50),
    dcol=st.integers(0, 20),
)
def test_shift_formula_agrees_with_translator_on_random_formulas(parts, ops, drow, dcol) -> None:
    body = parts[0] + "".join(op + p for op, p in zip(ops, parts[1:], strict=False))
    formula = f"=SUM({body})"
    expected = Translator(formula, "A1").translate_formula(row_delta=drow, col_delta=dcol)
    assert shift_formula(formula, drow, dcol) == expected


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(_operand, min_size=1, max_size=5),
       ops=st.lists(st.sampled_from(["+", "*", "&", ",", "-"]), min_size=4, max_size=4),
       top=st.integers(1, 12))
def test_a_shared_formula_filled_down_reads_as_each_cell_shifted(parts, ops, top) -> None:
    """Excel saves a column filled down as one shared formula: the reader renders the cells
    below the master from the master parsed once; each must be the master shifted."""
    master = parts[0] + "".join(op + part for op, part in zip(ops, parts[1:], strict=False))
    bottom = top + 30
    cells = "".join(
        f'<row r="{row}"><c r="C{row}"><f t="shared" si="0"'
        + (f' ref="C{top}:C{bottom}">{xml_escape(master)}</f>' if row == top else "/>")
        + f"<v>{row}</v></c></row>" for row in range(top, bottom + 1))
    part = (f'<worksheet xmlns="{NS_MAIN}"><sheetData>{cells}</sheetData></worksheet>').encode()
    sheet = scan_sheet([part], "S", [])
    for row in range(top, bottom + 1):
        expected = Translator("=" + master, f"C{top}").translate_formula(f"C{row}")
        assert sheet.formulas[(row, 3)] == expected
        assert sheet.cached[(row, 3)] == float(row)


# ----------------------------------------------------------------------------- read_book
def test_read_book_values_formulas_and_cached(template: Path) -> None:
    data = read_book(template)
    assert list(data.sheets) == ["考核", "规则", "明细"]
    sheet = data.sheets["考核"]
    assert sheet.values[(1, 1)] == "姓名"
    assert sheet.values[(2, 1)] == "张三"
    assert sheet.values[(3, 2)] == 101.5 and isinstance(sheet.values[(3, 2)], float)
    assert sheet.values[(2, 4)] == "90%"
    assert sheet.values[(2, 9)] == "#DIV/0!"
    assert sheet.values[(2, 10)] is True and sheet.values[(3, 10)] is False
    assert sheet.formulas[(2, 6)] == "=" + SHARED_MASTER
    for row in range(2, 7):
        for col in (6, 7):
            dest = f"{get_column_letter(col)}{row}"
            expected = Translator("=" + SHARED_MASTER, "F2").translate_formula(dest)
            assert sheet.formulas[(row, col)] == expected, dest
            assert sheet.cached[(row, col)] == float(row * 10 + (col == 7))
    assert sheet.formulas[(3, 7)] == ("=C3*$C3+'规则'!D$4+SUM(C$2:C3)+IF(B3=\"B2\",1,0)+规则!$C$4")
    assert sheet.formulas[(2, 8)] == "=B2:B3*2"
    assert sheet.array_formulas == {(2, 8): "H2:H3"}
    assert sheet.cached[(2, 8)] == 201.0
    assert sheet.cached[(3, 8)] == 203.0 and (3, 8) not in sheet.values
    assert (2, 6) not in sheet.values
    assert data.defined_names == {"奖金基数": "规则!$C$4"}
    assert data.local_names["明细"]["_xlnm.Print_Area"] == "'明细'!$A$1:$D$3"
    assert data.sheets["规则"].values[(4, 3)] == 0.5
    assert data.sheets["明细"].formulas == {(3, 4): "=B3*2"}
    assert data.sheets["明细"].cached == {}  # the file stored no value for it


def test_read_book_agrees_with_openpyxl_on_every_cell(template: Path) -> None:
    data = read_book(template)
    wb = openpyxl.load_workbook(template)
    for ws in wb.worksheets:
        sheet = data.sheets[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                key = (cell.row, cell.column)
                value = cell.value
                if isinstance(value, ArrayFormula):
                    assert sheet.formulas[key] == value.text
                elif isinstance(value, str) and value.startswith("=") and cell.data_type == "f":
                    assert sheet.formulas[key] == value
                elif value is None:
                    assert key not in sheet.values and key not in sheet.formulas
                elif key in sheet.array_formulas or (ws.title, key) == ("考核", (3, 8)):
                    assert sheet.cached[key] == value  # a result inside an array formula
                else:
                    assert sheet.values[key] == value, (ws.title, key)


def _sheet_xml(rows: str) -> bytes:
    return f'<worksheet xmlns="{NS_MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()


def test_read_sheet_handles_odd_but_legal_xml() -> None:
    xml = _sheet_xml(
        '<row><c t="s"><v>1</v></c><c t="inlineStr"><is><r><t>富</t></r><r><t xml:space="preserve">'
        ' 文本</t></r></is></c><c t="str"><f>A1&amp;"x"</f><v>a_x000D_b</v></c></row>'
        '<row r="5"><c r="B5" t="e"><f>1/0</f><v>#DIV/0!</v></c><c t="b"><v>1</v></c>'
        '<c r="E5"><f t="shared" si="3"/><v>7</v></c></row>'
        '<row><c r="D6"><f t="shared" ref="D6:E6" si="3">$A6+B6</f><v>6</v></c>'
        '<c r="F6" t="n"><v>1e-05</v></c><c r="G6" s="2"/></row>'
    )
    strings = ["零", "一 (带注音)"]
    sheet = read_sheet(xml, "测试", strings)
    assert sheet.values[(1, 1)] == "一 (带注音)"
    assert sheet.values[(1, 2)] == "富 文本"
    assert sheet.formulas[(1, 3)] == '=A1&"x"' and sheet.cached[(1, 3)] == "a\rb"
    assert sheet.formulas[(5, 2)] == "=1/0" and sheet.cached[(5, 2)] == "#DIV/0!"
    assert sheet.values[(5, 3)] is True
    # a dependent that comes before its master still gets its own text
    assert sheet.formulas[(5, 5)] == "=$A5+C5" and sheet.cached[(5, 5)] == 7.0
    assert sheet.formulas[(6, 4)] == "=$A6+B6"
    assert sheet.values[(6, 6)] == 1e-05
    assert (6, 7) not in sheet.values


def test_read_book_shared_strings_skip_phonetic_runs(tmp_path: Path) -> None:
    path = tmp_path / "ss.xlsx"
    build_openpyxl_book(path)
    src = entries(path)
    sst = (
        f'<sst xmlns="{NS_MAIN}"><si><t>甲</t></si><si><r><t>张</t></r><r><t>三</t></r>'
        '<rPh sb="0" eb="1"><t>ちょう</t></rPh></si><si><t>_x005F_x0041_</t></si></sst>'
    ).encode()
    out = tmp_path / "ss2.xlsx"
    with zipfile.ZipFile(out, "w") as zf:
        for name, (data, kind, _) in src.items():
            if name == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<c r="A2" t="inlineStr"><is><t>&#24352;&#19977;</t></is></c>',
                    b'<c r="A2" t="s"><v>1</v></c>',
                ).replace(
                    b'<c r="A3" t="inlineStr"><is><t>&#26446;&#22235;</t></is></c>',
                    b'<c r="A3" t="s"><v>2</v></c>',
                )
            if name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>",
                )
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=kind)
        zf.writestr("xl/sharedStrings.xml", sst)
    sheet = read_book(out).sheets["考核"]
    assert sheet.values[(2, 1)] == "张三"
    assert sheet.values[(3, 1)] == "_x0041_"


def test_read_book_rejects_a_non_zip(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(WorkbookFormatError) as info:
        read_book(path)
    assert isinstance(info.value, KpiError)
    with pytest.raises(WorkbookFormatError):
        XlsxEditor(path)


# ----------------------------------------------------------------------------- editing
def edit_everything(path: Path) -> None:
    editor = XlsxEditor(path)
    assert editor.sheet_names == ["考核", "规则", "明细"]
    editor.set_cached_values(
        "考核",
        {
            (2, 6): 99.5,
            (3, 6): "文本 <&>",
            (4, 6): True,
            (5, 6): "#DIV/0!",
            (6, 6): None,
            (2, 7): KpiError("没有匹配的档位", "no tier matched", code="#N/A"),
            (2, 8): 7,
            (3, 8): 8.25,
        },
    )
    editor.set_cells(
        "考核",
        {
            (2, 2): 123,
            (2, 1): "李雷",
            (7, 1): '=HYPERLINK("http://evil","点我")',
            (7, 2): "+1+2",
            (7, 3): "-3",
            (7, 4): "@SUM(A1)",
            (7, 5): "#N/A",
            (8, 12): "新格",
            (3, 13): 1.5,
            (4, 5): None,
        },
    )
    editor.replace_sheet_rows(
        "明细",
        [
            ["新甲", 10.0, 0.1, "备注一"],
            ["新乙", 20, 0.2, None],
            ["新丙", 30.5, 0.3, Formula("=B4*2", 61.0)],
            ["=1+1", -4.0, None, Formula('IFERROR(1/0,"错")', "错")],
        ],
        first_row=2,
    )
    editor.save()


def test_untouched_parts_are_byte_identical(book: Path) -> None:
    before = entries(book)
    edit_everything(book)
    after = entries(book)
    assert list(after) == list(before)  # same entries, same order
    changed = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml"}
    for name, (data, kind, date) in before.items():
        assert after[name][1:] == (kind, date), name
        if name not in changed:
            assert after[name][0] == data, name
    for name in changed:
        assert after[name][0] != before[name][0]
    we = after["xl/webextensions/webextension1.xml"][0]
    assert b'name="main.py"' in we and "刷新".encode() in we
    assert after["xl/vbaProject.bin"][0] == VBA_BYTES
    assert after["xl/vbaProject.bin"][1] == zipfile.ZIP_STORED
    with zipfile.ZipFile(book) as zf:
        assert zf.testzip() is None


def test_backup_keeps_the_previous_file(book: Path) -> None:
    old = book.read_bytes()
    edit_everything(book)
    assert backup_path(book) == book.with_name(book.name + ".bak")
    assert backup_path(book).read_bytes() == old
    assert book.read_bytes() != old
    assert not list(book.parent.glob("*.tmp"))


def test_openpyxl_sees_new_values_and_cached_results(book: Path) -> None:
    edit_everything(book)
    wb = openpyxl.load_workbook(book)
    ws = wb["考核"]
    assert ws["F2"].value == "=" + SHARED_MASTER
    assert ws["G4"].value == Translator("=" + SHARED_MASTER, "F2").translate_formula("G4")
    assert ws["B2"].value == 123 and ws["A2"].value == "李雷"
    for ref, text in {
        "A7": '=HYPERLINK("http://evil","点我")',
        "B7": "+1+2",
        "C7": "-3",
        "D7": "@SUM(A1)",
        "E7": "#N/A",
    }.items():
        assert ws[ref].value == text and ws[ref].data_type == "s", ref
    assert ws["L8"].value == "新格" and ws["M3"].value == 1.5 and ws["E4"].value is None

    cached = openpyxl.load_workbook(book, data_only=True)["考核"]
    assert cached["F2"].value == 99.5
    assert cached["F3"].value == "文本 <&>"
    assert cached["F4"].value is True
    assert cached["F5"].value == "#DIV/0!" and cached["F5"].data_type == "e"
    assert cached["F6"].value is None
    assert cached["G2"].value == "#N/A" and cached["G2"].data_type == "e"
    assert cached["G3"].value == 31  # untouched cached value kept
    assert cached["H2"].value == 7 and cached["H3"].value == 8.25

    detail = wb["明细"]
    assert [c.value for c in detail[2]] == ["新甲", 10, 0.1, "备注一"]
    assert [c.value for c in detail[3]][:3] == ["新乙", 20, 0.2]
    assert detail["D4"].value == "=B4*2"
    assert detail["A5"].value == "=1+1" and detail["A5"].data_type == "s"
    assert detail["D5"].value == '=IFERROR(1/0,"错")'
    assert detail.max_row == 5
    cached_detail = openpyxl.load_workbook(book, data_only=True)["明细"]
    assert cached_detail["D4"].value == 61 and cached_detail["D5"].value == "错"


def test_formula_like_text_is_stored_as_inline_text(book: Path) -> None:
    edit_everything(book)
    root = sheet_part(book, "xl/worksheets/sheet1.xml")
    for ref in ("A7", "B7", "C7", "D7", "E7"):
        c = cell_el(root, ref)
        assert c.get("t") == "inlineStr" and c.find(f"{M}f") is None and c.find(f"{M}v") is None
    a5 = cell_el(sheet_part(book, "xl/worksheets/sheet3.xml"), "A5")
    assert a5.get("t") == "inlineStr" and a5.find(f"{M}is/{M}t").text == "=1+1"


def test_cached_value_types_in_xml(book: Path) -> None:
    edit_everything(book)
    root = sheet_part(book, "xl/worksheets/sheet1.xml")

    def shape(ref: str) -> tuple[str | None, str | None, bool]:
        c = cell_el(root, ref)
        v = c.find(f"{M}v")
        assert c.find(f"{M}f") is not None, ref
        return c.get("t"), None if v is None else v.text, c.index(c.find(f"{M}f")) == 0

    assert shape("F2") == (None, "99.5", True)
    assert shape("F3") == ("str", "文本 <&>", True)
    assert shape("F4") == ("b", "1", True)
    assert shape("F5") == ("e", "#DIV/0!", True)
    assert shape("F6") == (None, None, True)
    assert shape("G2") == ("e", "#N/A", True)
    assert cell_el(root, "F3").find(f"{M}f").get("si") == "0"  # sharing kept
    h3 = cell_el(root, "H3")
    assert h3.find(f"{M}v").text == "8.25" and h3.find(f"{M}f") is None


def test_untargeted_cells_unchanged(book: Path) -> None:
    before = read_book(book)
    edit_everything(book)
    after = read_book(book)
    targeted_inputs = {(2, 2), (2, 1), (8, 12), (3, 13), (4, 5)} | {(7, c) for c in range(1, 6)}
    targeted_cached = {(2, 6), (3, 6), (4, 6), (5, 6), (6, 6), (2, 7), (2, 8), (3, 8)}
    b, a = before.sheets["考核"], after.sheets["考核"]
    assert a.formulas == b.formulas
    assert {k: v for k, v in a.values.items() if k not in targeted_inputs} == {
        k: v for k, v in b.values.items() if k not in targeted_inputs
    }
    assert {k: v for k, v in a.cached.items() if k not in targeted_cached} == {
        k: v for k, v in b.cached.items() if k not in targeted_cached
    }
    assert a.values[(2, 2)] == 123.0 and (4, 5) not in a.values
    assert after.sheets["规则"] == before.sheets["规则"]
    assert after.defined_names == before.defined_names


def test_styles_kept_and_taken_from_template_row(book: Path) -> None:
    before_root = sheet_part(book, "xl/worksheets/sheet3.xml")
    template_styles = {
        c.get("r")[0]: c.get("s") for c in before_root.iter(f"{M}c") if c.get("r").endswith("2")
    }
    header_before = etree.tostring(before_root.find(f"{M}sheetData")[0])
    input_style = cell_el(sheet_part(book, "xl/worksheets/sheet1.xml"), "B2").get("s")
    edit_everything(book)
    root = sheet_part(book, "xl/worksheets/sheet3.xml")
    assert etree.tostring(root.find(f"{M}sheetData")[0]) == header_before
    for row in (2, 3, 4, 5):
        for letter in "ABC":
            c = [c for c in root.iter(f"{M}c") if c.get("r") == f"{letter}{row}"]
            if c:
                assert c[0].get("s") == template_styles.get(letter), f"{letter}{row}"
    wb = openpyxl.load_workbook(book)
    detail = wb["明细"]
    assert detail["B5"].number_format == "0.00" and detail["C2"].number_format == "0%"
    assert detail["A1"].font.b is True
    assert cell_el(sheet_part(book, "xl/worksheets/sheet1.xml"), "B2").get("s") == input_style


def test_rest_of_sheet_part_intact(book: Path) -> None:
    before = sheet_part(book, "xl/worksheets/sheet3.xml")
    edit_everything(book)
    after = sheet_part(book, "xl/worksheets/sheet3.xml")
    assert [el.tag for el in after] == [el.tag for el in before]
    for b, a in zip(before, after, strict=True):
        if etree.QName(b).localname not in ("sheetData", "dimension"):
            assert etree.tostring(a) == etree.tostring(b)
    assert after.find(f"{M}dimension").get("ref") == "A1:D5"
    wb = openpyxl.load_workbook(book)
    assert wb["明细"].freeze_panes == "A2"
    assert wb["明细"].column_dimensions["A"].width == 21
    assert wb["明细"].page_setup.orientation == "landscape"
    ws = wb["考核"]
    assert ws.dimensions == "A1:M8"
    kaohe = sheet_part(book, "xl/worksheets/sheet1.xml")
    assert kaohe.find(f"{M}drawing") is not None and kaohe.find(f"{M}legacyDrawing") is not None


def test_replace_sheet_rows_keep_rows_and_explicit_styles(book: Path) -> None:
    editor = XlsxEditor(book)
    last = editor.replace_sheet_rows(
        "明细", [["x", 1], ["y", 2]], first_row=3, keep_rows=1, styles={2: 0, 1: None}
    )
    assert last == 4
    editor.save()
    root = sheet_part(book, "xl/worksheets/sheet3.xml")
    assert [r.get("r") for r in root.find(f"{M}sheetData")] == ["1", "3", "4"]
    assert cell_el(root, "B3").get("s") == "0"
    assert cell_el(root, "A3").get("s") is None
    with pytest.raises(ValueError):
        XlsxEditor(book).replace_sheet_rows("明细", [], first_row=2, keep_rows=2)


def test_replace_sheet_rows_with_no_rows_empties_the_data(book: Path) -> None:
    editor = XlsxEditor(book)
    assert editor.replace_sheet_rows("明细", [], first_row=2) == 1
    editor.save()
    data = read_book(book).sheets["明细"]
    assert data.max_row == 1 and data.formulas == {}
    assert sheet_part(book, "xl/worksheets/sheet3.xml").find(f"{M}dimension").get("ref") == "A1:D1"


def test_set_cells_over_a_shared_master_keeps_the_other_formulas(book: Path) -> None:
    before = read_book(book).sheets["考核"].formulas
    editor = XlsxEditor(book)
    editor.set_cells("考核", {(2, 6): 5})
    editor.save()
    after = read_book(book).sheets["考核"]
    assert after.values[(2, 6)] == 5.0 and (2, 6) not in after.formulas
    expected = {k: v for k, v in before.items() if k != (2, 6)}
    assert after.formulas == expected
    wb = openpyxl.load_workbook(book)
    assert wb["考核"]["G6"].value == before[(6, 7)]


def test_refuses_bad_targets(book: Path) -> None:
    editor = XlsxEditor(book)
    with pytest.raises(KeyError):
        editor.set_cached_values("考核", {(2, 2): 1.0})  # an input cell
    with pytest.raises(KeyError):
        editor.set_cached_values("考核", {(40, 40): 1.0})  # no cell at all
    with pytest.raises(ValueError, match="数组公式"):
        editor.set_cells("考核", {(3, 8): 1.0})  # inside the array formula H2:H3
    with pytest.raises(KpiError) as info:
        editor.set_cells("没有", {(1, 1): 1})
    assert info.value.code == "#REF!"
    with pytest.raises(TypeError):
        editor.set_cells("考核", {(1, 1): object()})


def test_calc_chain_dropped_only_when_formulas_change(book: Path, tmp_path: Path) -> None:
    src = entries(book)
    with_chain = tmp_path / "chain.xlsx"
    chain = f'<calcChain xmlns="{NS_MAIN}"><c r="D3" i="3"/><c r="F2" i="1"/></calcChain>'.encode()
    with zipfile.ZipFile(with_chain, "w") as zf:
        for name, (data, kind, _) in src.items():
            if name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdC" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                    b"</Relationships>",
                )
            if name == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
                )
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=kind)
        zf.writestr("xl/calcChain.xml", chain)
    before = entries(with_chain)

    only_cached = XlsxEditor(with_chain)
    only_cached.set_cached_values("考核", {(2, 6): 1.0})
    out1 = only_cached.save(tmp_path / "cached.xlsx")
    after1 = entries(out1)
    for name in ("xl/calcChain.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
        assert after1[name][0] == before[name][0]

    structural = XlsxEditor(with_chain)
    structural.replace_sheet_rows("明细", [["a", 1]], first_row=2)
    out2 = structural.save(tmp_path / "structural.xlsx")
    after2 = entries(out2)
    assert "xl/calcChain.xml" not in after2
    assert b"calcChain" not in after2["[Content_Types].xml"][0]
    assert b"calcChain" not in after2["xl/_rels/workbook.xml.rels"][0]
    assert b"vbaProject" in after2["xl/_rels/workbook.xml.rels"][0]
    openpyxl.load_workbook(out2)


def test_full_calc_on_load_only_when_asked(book: Path, tmp_path: Path) -> None:
    original = entries(book)["xl/workbook.xml"][0]
    editor = XlsxEditor(book)
    editor.set_cached_values("考核", {(2, 6): 2.0})
    plain = entries(editor.save(tmp_path / "plain.xlsm"))["xl/workbook.xml"][0]
    assert plain == original
    flagged = entries(editor.save(tmp_path / "flag.xlsm", full_calc_on_load=True))
    root = etree.fromstring(flagged["xl/workbook.xml"][0])
    calc = root.find(f"{M}calcPr")
    assert calc is not None and calc.get("fullCalcOnLoad") == "1"
    names = [etree.QName(el).localname for el in root]
    assert names.index("calcPr") > names.index("definedNames")
    assert openpyxl.load_workbook(tmp_path / "flag.xlsm").calculation.fullCalcOnLoad is True


def test_save_keeps_file_mode(book: Path) -> None:
    os.chmod(book, 0o640)
    edit_everything(book)
    assert stat.S_IMODE(os.stat(book).st_mode) == 0o640


def test_large_sheet_round_trip(book: Path) -> None:
    rows = [
        [f"客服{i:05d}", i * 1.25, i % 7 == 0, Formula(f"=B{i + 2}*2", i * 2.5)]
        for i in range(3000)
    ]
    editor = XlsxEditor(book)
    assert editor.replace_sheet_rows("明细", rows, first_row=2) == 3001
    editor.save()
    data = read_book(book).sheets["明细"]
    assert data.values[(3001, 1)] == "客服02999" and data.values[(3001, 2)] == 2999 * 1.25
    assert data.values[(9, 3)] is True and data.formulas[(3001, 4)] == "=B3001*2"
    assert data.cached[(3001, 4)] == 2999 * 2.5


# ----------------------------------------------------------------------------- locking
def test_save_refused_while_open_in_excel(book: Path) -> None:
    owner = book.with_name("~$" + book.name)
    owner.write_bytes(b"owner")
    old = book.read_bytes()
    editor = XlsxEditor(book)
    editor.set_cells("考核", {(2, 2): 1})
    with pytest.raises(WorkbookBusy) as info:
        editor.save()
    message = str(info.value)
    assert message.startswith("工作簿正在 Excel 中打开") and "close it first" in message
    assert book.read_bytes() == old and not backup_path(book).exists()
    with pytest.raises(WorkbookBusy), workbook_lock(book, timeout=0.1):
        pass
    owner.unlink()
    editor.save()
    assert book.read_bytes() != old


def _hold_lock_script(path: Path, seconds: float) -> str:
    return textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from kpi_xl.workbook.xlsx import workbook_lock
        with workbook_lock({str(path)!r}, timeout=5):
            print("locked", flush=True)
            time.sleep({seconds})
        """
    )


def _start_holder(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _hold_lock_script(path, seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_workbook_lock_refuses_after_timeout_then_works(book: Path) -> None:
    proc = _start_holder(book, 3)
    try:
        assert lock_file(book).exists()
        started = time.monotonic()
        with pytest.raises(WorkbookBusy), workbook_lock(book, timeout=0.3):
            pass
        assert 0.25 <= time.monotonic() - started < 2
    finally:
        proc.kill()
        proc.wait()
    with workbook_lock(book, timeout=2) as held:
        assert held == lock_file(book) and held.exists()
    assert not lock_file(book).exists()


def test_workbook_lock_waits_for_the_holder(book: Path) -> None:
    proc = _start_holder(book, 0.6)
    try:
        started = time.monotonic()
        with workbook_lock(book, timeout=10):
            waited = time.monotonic() - started
            assert proc.poll() is not None or waited >= 0.3
        assert waited >= 0.3
    finally:
        proc.wait()


_CONTENDER = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, {repo!r})
    from kpi_xl.workbook.xlsx import workbook_lock
    for _ in range(15):
        with workbook_lock({book!r}, timeout=20):
            with open({log!r}, "a") as log:
                log.write(f"enter {{os.getpid()}}\\n")
            time.sleep(0.005)
            with open({log!r}, "a") as log:
                log.write(f"exit {{os.getpid()}}\\n")
    """
)


def test_workbook_lock_is_exclusive_across_processes(book: Path, tmp_path: Path) -> None:
    """Three processes take and release the lock (which unlinks the file) 15 times each."""
    log = tmp_path / "log.txt"
    script = _CONTENDER.format(repo=str(REPO), book=str(book), log=str(log))
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert all(proc.wait(timeout=60) == 0 for proc in procs)
    lines = log.read_text().split()
    events = list(zip(lines[0::2], lines[1::2], strict=True))
    assert len(events) == 90
    for (kind_in, pid_in), (kind_out, pid_out) in zip(events[0::2], events[1::2], strict=True):
        assert (kind_in, kind_out) == ("enter", "exit") and pid_in == pid_out
    assert not lock_file(book).exists()


def test_leftover_lock_file_does_not_block(book: Path) -> None:
    lock_file(book).write_text("12345\n")  # e.g. left by a killed process
    with workbook_lock(book, timeout=0.5):
        pass
    assert not lock_file(book).exists()


# ----------------------------------------------------------------------------- atomic save
_SAVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from kpi_xl.workbook.xlsx import XlsxEditor
    sources = {sources!r}
    print("ready", flush=True)
    i = 0
    while True:
        XlsxEditor(sources[i % 2]).save({target!r})
        i += 1
    """
)


def _with_big_media(path: Path, seed: int) -> None:
    """Swap the picture for 3 MB of incompressible bytes so that each save takes a while."""
    parts = entries(path)
    blob = random.Random(seed).randbytes(3 * 1024 * 1024)
    with zipfile.ZipFile(path, "w") as zf:
        for name, (data, kind, _) in parts.items():
            data = blob if name.startswith("xl/media/") else data
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=kind)


def test_killed_save_leaves_old_or_new_file(template: Path, tmp_path: Path) -> None:
    versions = []
    for seed, label in enumerate("AB"):
        path = tmp_path / f"v{label}.xlsm"
        path.write_bytes(template.read_bytes())
        _with_big_media(path, seed)
        editor = XlsxEditor(path)
        editor.replace_sheet_rows("明细", [[f"{label}{i}", i] for i in range(2000)], first_row=2)
        editor.save(backup=False)
        versions.append(path)
    expected = {p.read_bytes() for p in versions}
    target = tmp_path / "target.xlsm"
    target.write_bytes(versions[0].read_bytes())
    script = _SAVER.format(repo=str(REPO), sources=[str(p) for p in versions], target=str(target))
    rng = random.Random(7)
    killed_mid_write = 0
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() in expected
        with zipfile.ZipFile(target) as zf:
            assert zf.testzip() is None
        bak = backup_path(target)
        if bak.exists():
            assert bak.read_bytes() in expected
        leftovers = list(tmp_path.glob(".target.xlsm.*.kpi-xl.tmp"))
        killed_mid_write += bool(leftovers)
        for leftover in leftovers:
            leftover.unlink()
    assert killed_mid_write >= 1  # the kills did land inside a save, not only between saves


def test_editor_output_is_deterministic(book: Path) -> None:
    first = XlsxEditor(book)
    first.set_cached_values("考核", {(2, 6): 3.0})
    second = XlsxEditor(book)
    second.set_cached_values("考核", {(2, 6): 3.0})
    assert first.to_bytes() == second.to_bytes()
    assert zipfile.ZipFile(io.BytesIO(first.to_bytes())).testzip() is None


def test_set_cells_inserts_rows_and_cells_in_order() -> None:
    from kpi_xl.workbook.sheetpart import SheetPart

    xml = _sheet_xml(
        '<row r="1"><c r="A1" s="1"><v>1</v></c><c r="C1"><v>3</v></c></row>'
        '<row r="5" s="7" customFormat="1"><c r="B5"><v>5</v></c></row>'
    ).replace(b"<sheetData>", b'<cols><col min="4" max="4" width="9" style="9"/></cols><sheetData>')
    part = SheetPart("s", "xl/worksheets/sheet1.xml", xml)
    part.set_inputs({(1, 2): "b", (3, 4): 4.5, (5, 1): "a", (1, 1): None, (9, 1): None})
    root = etree.fromstring(part.to_bytes())
    rows = root.find(f"{M}sheetData")
    assert [r.get("r") for r in rows] == ["1", "3", "5"]  # row 9 not created for a blank
    assert [c.get("r") for c in rows[0]] == ["A1", "B1", "C1"]
    assert [c.get("r") for c in rows[2]] == ["A5", "B5"]
    assert rows[0][0].get("s") == "1" and rows[0][0].find(f"{M}v") is None  # blanked, styled
    assert rows[1][0].get("s") == "9"  # new cell takes its column's style
    assert rows[2][0].get("s") == "7"  # … or its row's custom style
    assert root.find(f"{M}dimension").get("ref") == "A1:D5"


def test_awkward_text_round_trips(book: Path) -> None:
    text = "控制\x01字符 _x0041_ 与 <&> 以及\n换行 "
    editor = XlsxEditor(book)
    editor.set_cells("考核", {(2, 1): text})
    editor.set_cached_values("考核", {(2, 6): text})
    editor.save()
    sheet = read_book(book).sheets["考核"]
    assert sheet.values[(2, 1)] == text
    assert sheet.cached[(2, 6)] == text
    # openpyxl does not undo _xHHHH_ escapes in inline strings (Excel does); the rest matches
    assert openpyxl.load_workbook(book)["考核"]["A2"].value.endswith("与 <&> 以及\n换行 ")
