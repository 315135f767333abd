"""Formula injection: text that starts with ``=``, ``+``, ``-`` or ``@`` stays text.

``test_import_export`` covers ``=HYPERLINK(…)`` / ``=1+1+cmd|…`` nicknames and values; this adds
the other forms — ``+1+1``, ``-2+3``, ``@SUM(A1)``, ``=cmd|' /C calc'!A0``, a DDE call — in a text
column of a CSV export and of an .xlsx export, and checks the stored XML of every cell
(``t="inlineStr"``/``"s"``/``"str"`` and no ``<f>``). Then the refresh: such text typed into
考核 (姓名, 执行力) is copied to 工资 and 明细 as text, and no output sheet holds a formula.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from kpi_xl.importer import import_export
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import XlsxEditor, read_book
from tests.test_reliability_corpus import BASE, CORPUS, load_generator

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
INJECTIONS: list[str] = load_generator().INJECTIONS
"""``=1+1``, ``+1+1``, ``-2+3``, ``@SUM(A1)``, ``=cmd|' /C calc'!A0``, ``=DDE(…)``,
``=HYPERLINK(…)``."""
ROWS = range(5, 5 + len(INJECTIONS))
"""考核 rows of KF001 … KF007, which get one form each."""
TEXT_TYPES = frozenset({"inlineStr", "s", "str"})


@dataclass(frozen=True)
class XmlCell:
    """A ``<c>`` as stored: its type, whether it holds a formula, and its text."""

    t: str | None
    formula: bool
    text: str | None


def stored_cells(path: Path, sheet: str) -> dict[str, XmlCell]:
    """Every cell of one sheet part, by A1 reference, as the XML stores it."""
    with zipfile.ZipFile(path) as zf:
        package = map_package(zf)
        part = next(s.part for s in package.sheets if s.name == sheet)
        shared: list[str] = []
        if "xl/sharedStrings.xml" in zf.namelist():
            strings = etree.fromstring(zf.read("xl/sharedStrings.xml"))
            shared = ["".join(si.itertext()) for si in strings.iter(f"{NS}si")]
        root = etree.fromstring(zf.read(part))
    cells = {}
    for c in root.iter(f"{NS}c"):
        t = c.get("t")
        value = c.find(f"{NS}v")
        inline = c.find(f"{NS}is")
        if t == "inlineStr" and inline is not None:
            text: str | None = "".join(inline.itertext())
        elif t == "s" and value is not None:
            text = shared[int(value.text or 0)]
        else:
            text = value.text if value is not None else None
        cells[c.get("r", "")] = XmlCell(t, c.find(f"{NS}f") is not None, text)
    return cells


def column_letter(path: Path, header: str) -> str:
    sheet = read_book(path).sheets["考核"]
    col = next(c for (r, c), v in sheet.values.items() if r == 4 and v == header)
    return openpyxl.utils.get_column_letter(col)


def assert_text_cells(path: Path, sheet: str, refs: list[str]) -> None:
    cells = stored_cells(path, sheet)
    for ref, expected in zip(refs, INJECTIONS, strict=True):
        cell = cells[ref]
        assert cell.t in TEXT_TYPES and not cell.formula, (sheet, ref, cell)
        assert cell.text == expected, (sheet, ref, cell)
    wb = openpyxl.load_workbook(path)  # what Excel-like readers make of it
    for ref, expected in zip(refs, INJECTIONS, strict=True):
        assert wb[sheet][ref].data_type == "s" and wb[sheet][ref].value == expected


def _xlsx_export(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["旺旺", "咨询人数", "执行力"])
    for nick, text in zip(("小倩", "小娜", "小娜2", "小伟", "小曦", "小英", "小清"), INJECTIONS,
                          strict=True):
        ws.append([nick, 100, None])
        ws.cell(ws.max_row, 3).value = text
        ws.cell(ws.max_row, 3).data_type = "s"  # text in the export, as a platform writes it
    wb.save(path)
    return path


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_imported_formula_like_text_is_stored_as_text(tmp_path: Path, export: str) -> None:
    book = tmp_path / "month.xlsx"
    shutil.copy(BASE, book)
    source = (CORPUS / "e05_formula_injection.csv" if export == "csv"
              else _xlsx_export(tmp_path / "千牛.xlsx"))
    report = import_export(book, source)
    assert report.saved
    execution = column_letter(book, "执行力")
    assert_text_cells(book, "考核", [f"{execution}{r}" for r in ROWS])
    if export == "csv":  # the same forms in a number column are refused, never evaluated
        satisfaction = column_letter(book, "满意度")
        assert sorted(n.cell for n in report.rejected) == sorted(
            f"{satisfaction}{r}" for r in ROWS)
        before = read_book(BASE).sheets["考核"].values
        after = read_book(book).sheets["考核"].values
        col = openpyxl.utils.column_index_from_string(satisfaction)
        assert all(after.get((r, col)) == before.get((r, col)) for r in ROWS)


def test_refresh_copies_formula_like_text_as_text(tmp_path: Path) -> None:
    book = tmp_path / "month.xlsx"
    shutil.copy(BASE, book)
    sheet = read_book(book).sheets["考核"]
    cols = {v: c for (r, c), v in sheet.values.items() if r == 4}
    editor = XlsxEditor(book)
    editor.set_cells("考核", {(r, cols[h]): text for r, text in zip(ROWS, INJECTIONS, strict=True)
                              for h in ("姓名", "执行力")})
    editor.save(backup=False)
    refresh_file(book)

    name, execution = column_letter(book, "姓名"), column_letter(book, "执行力")
    assert_text_cells(book, "考核", [f"{name}{r}" for r in ROWS])  # input kept as text
    assert_text_cells(book, "考核", [f"{execution}{r}" for r in ROWS])
    assert not {(r, cols["姓名"]) for r in ROWS} & set(read_book(book).sheets["考核"].formulas)
    # 工资: one row per agent in 考核 order, 姓名 in column B
    assert_text_cells(book, "工资", [f"B{r}" for r in ROWS])
    for output in ("工资", "明细", "异常", "历史", "概览"):
        cells = stored_cells(book, output)
        assert not [ref for ref, cell in cells.items() if cell.formula], output
        for ref, cell in cells.items():
            if cell.text in INJECTIONS:
                assert cell.t in TEXT_TYPES, (output, ref, cell)
    # 明细: the name on every item row, and the 执行力 input value, as text
    detail = stored_cells(book, "明细")
    shown = [cell.text for cell in detail.values() if cell.t in TEXT_TYPES]
    for text in INJECTIONS:
        assert shown.count(text) >= 2, text  # 姓名 (each item row) and 执行力's 输入值
