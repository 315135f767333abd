"""导入平台数据 inside Excel (classic xlwings): the same plan as ``kpi-xl import``, written
through the book's ranges, formula-looking text kept as text.

The book is a stand-in with xlwings' API (used_range values and formulas, range writes) over a
real sample month, so what Excel would receive can be compared with the headless import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_xl import xlimport
from kpi_xl.core.errors import KpiError
from kpi_xl.importer import plan_import, read_export
from kpi_xl.workbook.model import SheetData
from kpi_xl.workbook.xlsx import read_book
from tests.payroll_util import SheetsByName
from tests.test_import_export import book, write_chitu_csv  # noqa: F401  (fixture)


class _Used:
    """``sheet.used_range`` of a sheet: A1 to its last cell, values and formulas."""

    def __init__(self, data: SheetData, formulas_readable: bool) -> None:
        self.row = self.column = 1
        rows, cols = data.max_row, data.max_column
        self._values = [[_shown(data, (r, c)) for c in range(1, cols + 1)]
                        for r in range(1, rows + 1)]
        self._formulas = [[data.formulas.get((r, c), "") for c in range(1, cols + 1)]
                          for r in range(1, rows + 1)]
        self._readable = formulas_readable

    def options(self, **_: object) -> _Used:
        return self

    @property
    def value(self) -> list[list[object]]:
        return self._values

    @property
    def formula(self) -> list[list[str]]:
        if not self._readable:
            raise NotImplementedError("values only")
        return self._formulas


def _shown(data: SheetData, cell: tuple[int, int]) -> object:
    return data.cached.get(cell) if cell in data.formulas else data.values.get(cell)


class _Cell:
    def __init__(self, writes: dict, key: tuple[str, tuple[int, int]]) -> None:
        self._writes, self._key = writes, key

    @property
    def value(self) -> object:
        return self._writes.get(self._key)

    @value.setter
    def value(self, new: object) -> None:
        self._writes[self._key] = new


class _Sheet:
    def __init__(self, data: SheetData, writes: dict, formulas_readable: bool) -> None:
        self.name = data.name
        self.used_range = _Used(data, formulas_readable)
        self._writes = writes

    def range(self, cell: tuple[int, int]) -> _Cell:
        return _Cell(self._writes, (self.name, cell))


class _Book:
    def __init__(self, path: Path, formulas_readable: bool = True) -> None:
        self.fullname = str(path)
        self.writes: dict[tuple[str, tuple[int, int]], object] = {}
        self.sheets = SheetsByName(_Sheet(data, self.writes, formulas_readable)
                              for data in read_book(path).sheets.values())


def test_import_in_excel_writes_the_cells_kpi_xl_import_plans(book: Path,  # noqa: F811
                                                              tmp_path: Path) -> None:
    export = write_chitu_csv(tmp_path / "export.csv")
    planned, _ = plan_import(read_book(book), read_export(export))
    excel = _Book(book)
    report = xlimport.import_into_book(excel, str(export))
    assert planned and report.cells_written == len(planned)
    assert excel.writes == {("考核", cell): xlimport.text_safe(value)
                            for cell, value in planned.items()}
    # text that Excel would read as a formula goes in behind an apostrophe, as text
    formula_like = [v for v in planned.values() if isinstance(v, str) and v[:1] in "=+-@"]
    assert formula_like and all(excel.writes[("考核", c)] == "'" + v
                                for c, v in planned.items() if v in formula_like)


def test_without_formulas_the_import_refuses_rather_than_guess(book: Path,  # noqa: F811
                                                               tmp_path: Path) -> None:
    excel = _Book(book, formulas_readable=False)
    with pytest.raises(KpiError, match="无法读取公式"):
        xlimport.import_into_book(excel, str(write_chitu_csv(tmp_path / "export.csv")))
    assert excel.writes == {}
