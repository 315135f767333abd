"""Sheets as cell grids: ``(row, column) → value``, 1-based, as every adapter can deliver them.

Values are what Excel shows: float, str, bool, ``None`` (blank; ``""`` counts as blank too),
dates, and error values — a :class:`~kpi_xl.core.errors.KpiError` (the headless recalc) or
error text such as ``"#N/A"`` (xlwings). Labels are found by their text, never by a fixed
position, so HR may move a block on 规则 without breaking the refresh.

A :class:`Sheet` reads the adapter's cells where they are (a read-only mapping, a dict or a 2-D
list): one pass files them by column, rows and values in two lists, so a column of the agent
table is read as one slice; an adapter that holds its cells by column (:class:`ColumnCells`)
hands over each column whole.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from itertools import islice
from typing import Protocol, runtime_checkable

from kpi_xl.core.cells import row_pattern
from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.core.values import fold, format_number

Cell = tuple[int, int]
Grid = dict[Cell, object]
GridLike = Mapping[Cell, object] | Sequence[Sequence[object]] | None


@runtime_checkable
class ColumnCells(Protocol):
    """A grid that also hands out its cells a column at a time (the headless workbook's)."""

    def columns(self) -> Iterable[tuple[int, Mapping[int, object]]]:
        """``(column, {row: value})`` for every column holding a cell."""
        ...


HEADER_ROWS = 30
"""A header is looked for in the top rows only."""
_Column = tuple[list[int], list[object]]
_NO_CELLS: _Column = ([], [])


class Sheet:
    """The cells of one sheet, filed by column on first use (one pass over the adapter's cells).

    Blank values (``None``, ``""``, spaces) read as empty cells; :attr:`rows` may list a row that
    holds only blanks (every reader skips rows whose cells are blank). With ``within``, only
    the top ``within`` rows are read (a sheet searched for its header only).
    """

    def __init__(self, data: GridLike = None, within: int | None = None) -> None:
        self._data = data
        self._within = within

    @cached_property
    def _by_column(self) -> dict[int, _Column]:
        """Column → its rows (ascending) and their values, as two lists: a dict per column
        would cost three times as much (a sheet of 100,000 agents holds millions of cells)."""
        filed: dict[int, _Column] = {}
        same_rows: dict[tuple[int, int, int], list[int]] = {}
        for col, rows, values in _columns(self._data, self._within):
            if rows != sorted(rows):
                order = sorted(range(len(rows)), key=rows.__getitem__)
                rows = [rows[index] for index in order]
                values = [values[index] for index in order]
            shared = same_rows.setdefault((rows[0], rows[-1], len(rows)), rows)
            filed[col] = (shared if shared == rows else rows, values)  # one list for equal rows
        return filed

    @cached_property
    def rows(self) -> list[int]:
        """The rows holding a cell, top to bottom."""
        return sorted(set().union(*(rows for rows, _ in self._by_column.values())))

    @cached_property
    def columns(self) -> list[int]:
        """The columns holding a cell, left to right."""
        return sorted(self._by_column)

    def _value(self, row: int, col: int) -> object:
        """The value filed at ``(row, col)``, blank or not; ``None`` when absent."""
        column = self._by_column.get(col)
        if column is None:
            return None
        rows, values = column
        index = bisect_left(rows, row)
        return values[index] if index < len(rows) and rows[index] == row else None

    def get(self, cell: Cell) -> object:
        """The value of a cell; ``None`` when it is blank or absent."""
        value = self._value(*cell)
        return None if is_blank(value) else value

    def column(self, col: int, rows: Iterable[int]) -> list[object]:
        """The values of column ``col`` on ``rows``, ``None`` where blank."""
        wanted = rows if isinstance(rows, list) else list(rows)
        filed_rows, filed_values = self._by_column.get(col, _NO_CELLS)
        start = bisect_left(filed_rows, wanted[0]) if wanted else 0
        end = start + len(wanted)
        if filed_rows[start:end] == wanted:  # the rows asked are a run of the column's
            values = filed_values[start:end]
        else:
            values = list(map(dict(zip(filed_rows, filed_values, strict=True)).get, wanted))
        if not any(issubclass(kind, str) for kind in set(map(type, values))):
            return values
        blanks = {value for value in set(values) if isinstance(value, str) and not value.strip()}
        return [None if value in blanks else value for value in values] if blanks else values

    def values(self) -> Iterator[object]:
        """Every value that is not blank, in the adapter's order."""
        return (value for _, value in _cells(self._data, self._within) if not is_blank(value))

    def rows_below(self, row: int) -> list[int]:
        """The rows below ``row`` that hold a cell, in order."""
        return self.rows[bisect_right(self.rows, row):]

    def find(self, text: str, within: int | None = None) -> Iterator[Cell]:
        """Cells whose text equals ``text`` (folded), row by row, left to right; only among the
        top ``within`` rows when given."""
        wanted = text_of(text)
        rows = self.rows if within is None else self.rows[:bisect_right(self.rows, within)]
        for row in rows:
            for col in self.columns:
                value = self._value(row, col)
                if isinstance(value, str) and text_of(value) == wanted:
                    yield row, col

    def header_row(self, first: str, within: int = HEADER_ROWS) -> int | None:
        """The first row (among the top ``within``) holding ``first`` in some cell."""
        cell = next(self.find(first, within), None)
        return None if cell is None else cell[0]

    def header_cells(self, row: int) -> dict[str, list[int]]:
        """Header text (folded) → every column holding it on ``row``, left to right."""
        found: dict[str, list[int]] = {}
        for col in self.columns:
            value = self.get((row, col))
            if value is not None:
                found.setdefault(text_of(value), []).append(col)
        return found

    def header_columns(self, row: int) -> dict[str, int]:
        """Header text (folded) → column, for one row; the leftmost wins for a repeated header."""
        return {text: cols[0] for text, cols in self.header_cells(row).items()}

    def label_value(self, label: str) -> tuple[Cell | None, object]:
        """The cell to the right of the first cell reading ``label``, and its value."""
        cell = next(self.find(label), None)
        if cell is None:
            return None, None
        right = (cell[0], cell[1] + 1)
        return right, self.get(right)


def _columns(data: GridLike, within: int | None
             ) -> Iterator[tuple[int, list[int], list[object]]]:
    """Each column holding a cell: its number, its rows and their values (only the top
    ``within`` rows when given); an adapter that holds its cells by column hands them over as
    they are, any other is read cell by cell."""
    if isinstance(data, ColumnCells):
        for col, cells in data.columns():
            if within is None:
                rows, values = list(cells), list(cells.values())
            else:
                rows = [row for row in cells if row <= within]
                values = list(map(cells.__getitem__, rows))
            if rows:
                yield col, rows, values
        return
    rows_of: defaultdict[int, list[int]] = defaultdict(list)
    values_of: defaultdict[int, list[object]] = defaultdict(list)
    for (row, col), value in _cells(data, within):
        rows_of[col].append(row)
        values_of[col].append(value)
    for col, rows in rows_of.items():
        yield col, rows, values_of[col]


def _cells(data: GridLike, within: int | None) -> Iterable[tuple[Cell, object]]:
    """The cells of a mapping, or of a 2-D list (row 1 = the list's first row); only those of
    the top ``within`` rows when given."""
    if data is None:
        return ()
    if isinstance(data, Mapping):
        if within is None:
            return data.items()
        return ((cell, data[cell]) for cell in data if cell[0] <= within)
    rows = data if within is None else islice(data, within)
    return (((r, c), value) for r, row in enumerate(rows, start=1) if row is not None
            for c, value in enumerate(row if isinstance(row, list | tuple) else [row], start=1))


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_error(value: object) -> bool:
    """An error value: a KpiError, or Excel error text (``#N/A``, ``#VALUE!`` …)."""
    if isinstance(value, KpiError):
        return True
    return isinstance(value, str) and value.strip().upper() in EXCEL_ERROR_CODES


def error_code(value: object) -> str:
    """The Excel error code an error value shows (``#VALUE!``)."""
    if isinstance(value, KpiError):
        return value.code
    return str(value).strip().upper()


def error_message(value: object) -> str:
    """What HR reads in 异常 for an error value."""
    if isinstance(value, KpiError):
        return str(value)
    return f"单元格显示错误值 {error_code(value)}, 请检查本行输入 (error value in the cell)"


def text_of(value: object) -> str:
    """A label as compared: folded text (full-width forms, spaces trimmed)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fold(str(value)).strip()


EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (serial 1 = 1900-01-01; serials past 60 count from here)."""
DATE_SERIALS = (18_264, 109_574)
"""Serials read as dates where a month is expected: 1950-01-01 … 2199-12-31. A month cell
Excel turned into a date (typed 2026-11 or 2026/11) arrives as such a serial when the file is
read without Excel (number formats are not applied); ``202611`` is outside, so it stays."""


def month_text_of(value: object) -> object:
    """Dates, Excel date serials and ISO date text → ``YYYY-MM``; anything else unchanged (the
    history reads it)."""
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            DATE_SERIALS[0] <= value <= DATE_SERIALS[1]):
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))
        return f"{day.year:04d}-{day.month:02d}"
    if isinstance(value, str):
        text = value.strip()
        if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
            return text[:7]
        return text
    return value


def ambiguous_month(value: object) -> tuple[str, str] | None:
    """The two months a number like 2026.1 may be (``2026-10``, ``2026-01``): typed 2026.10 in
    a General cell, Excel keeps 2026.1 — the trailing zero is gone, so which month it was
    cannot be told. ``None`` for any other value (2026.11, 2026.01 as text, a date …)."""
    if not isinstance(value, float) or not math.isfinite(value):
        return None
    year, _, digits = repr(value).partition(".")
    if not year.isdigit() or len(year) != 4 or len(digits) != 1 or not 1 <= int(digits + "0") <= 12:
        return None
    return f"{year}-{digits}0", f"{year}-0{digits}"


def ambiguous_month_message(value: object) -> tuple[str, str] | None:
    """What to say about a month cell that is an :func:`ambiguous_month` number, in Chinese and
    English; ``None`` for any other value."""
    either = ambiguous_month(value)
    if either is None:
        return None
    shown = format_number(value)  # type: ignore[arg-type]  # a float
    return (f"月份是数字 {shown}, 无法确定是 {either[0]} 还是 {either[1]} (输入 {shown}0 时 Excel "
            f"会去掉末尾的 0): 请以文本输入 {either[0]} (或 {either[1]})",
            f"the month is the number {shown}: {either[0]} or {either[1]}? (Excel drops the "
            f"trailing zero of {shown}0): type it as text, {either[0]} or {either[1]}")


FormulaRun = tuple[int, int, str]
"""``(first row, last row, pattern)``: rows of one column whose formula text is ``pattern`` with
each NUL replaced by the row's number — the formula filled down over those rows (the headless
workbook keeps its formulas so: :class:`kpi_xl.workbook.model.FormulaRuns`)."""
ColumnFormulas = Mapping[int, Sequence[FormulaRun]]
"""One sheet's formulas: column → its runs (:data:`FormulaRun`), top down."""


def formula_runs(first_row: int, texts: Iterable[object]) -> list[FormulaRun]:
    """The runs of one column whose cells, from ``first_row`` down, are ``texts`` (a cell whose
    text does not start with ``=`` holds no formula). The pattern of a row's text has the row's
    number taken out wherever it appears (:func:`~kpi_xl.core.cells.row_pattern`)."""
    runs: list[FormulaRun] = []
    for row, text in enumerate(texts, start=first_row):
        if not (isinstance(text, str) and text.startswith("=")):
            continue
        pattern = row_pattern(text, row)
        if runs and runs[-1][1] == row - 1 and runs[-1][2] == pattern:
            runs[-1] = (runs[-1][0], row, pattern)
        else:
            runs.append((row, row, pattern))
    return runs


def identity(value: object) -> str:
    """A 工号 as text: ``1001.0`` → ``"1001"``, text trimmed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""
