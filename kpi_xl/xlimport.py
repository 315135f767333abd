"""导入平台数据 inside desktop Excel (classic xlwings): the importer's plan on the open book.

Not part of the xlwings Lite bundle: Lite has no local files to import from and cannot read
formulas, and the importer needs openpyxl/lxml. The plan is the one ``kpi-xl import`` makes
(:func:`kpi_xl.importer.plan_import`); this module only reads the book and writes the cells.
"""

from __future__ import annotations

from typing import Any

from kpi_xl.core.errors import KpiError
from kpi_xl.importer import ImportReport, plan_import, read_export
from kpi_xl.templates.layout import ASSESSMENT
from kpi_xl.workbook.model import BookData, SheetData
from kpi_xl.xlbook import read_book, read_formula_cells


def book_data(book: Any) -> BookData:
    """The open book as the importer reads a file: every sheet's values, and which 考核 cells
    hold formulas (their shown value as the cached value), so no formula column is a target.

    Where formulas cannot be read (xlwings Lite) this raises rather than risk writing over a
    formula column."""
    formulas = read_formula_cells(book)
    if formulas is None:
        raise KpiError("此环境无法读取公式, 请用 kpi-xl import 导入",
                       "formulas cannot be read here; use kpi-xl import")
    data = BookData()
    for name, grid in read_book(book).items():
        sheet = data.sheets[name] = SheetData(name, values=dict(grid))
        if name == ASSESSMENT:
            for cell in formulas[ASSESSMENT]:  # a formula cell may show nothing yet
                sheet.formulas[cell] = "="  # only where formulas are matters to the importer
                sheet.cached[cell] = sheet.values.pop(cell, None)
    return data


def import_into_book(book: Any, export_path: str) -> ImportReport:
    """导入平台数据 in desktop Excel: plan the import on the open book (the same plan as
    ``kpi-xl import``) and write the 考核 input cells; saving is left to HR, as in Excel."""
    cells, report = plan_import(book_data(book), read_export(export_path),
                                book_path=book.fullname)
    sheet = book.sheets[ASSESSMENT]
    for (row, col), value in sorted(cells.items()):
        sheet.range((row, col)).value = text_safe(value)
    return report


def text_safe(value: object) -> object:
    """Excel reads text typed with a leading = + - @ as a formula; a leading apostrophe keeps
    it text (the apostrophe is not part of the cell's value)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
