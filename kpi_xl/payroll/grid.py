"""Sheets as cell grids: ``(row, column) → value``, 1-based, as every adapter can deliver them.

Values are what Excel shows: float, str, bool, ``None`` (blank; ``""`` counts as blank too),
dates, and error values — a :class:`~kpi_xl.core.errors.KpiError` (the headless recalc) or
error text such as ``"#N/A"`` (xlwings). Labels are found by their text, never by a fixed
position, so HR may move a block on 规则 without breaking the refresh.

A :class:`Sheet` reads the adapter's cells where they are (a read-only mapping, a dict or a 2-D
list): one pass files them by column, so a column of the agent table is read with one lookup
per cell.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from itertools import islice

from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.core.values import fold

Cell = tuple[int, int]
Grid = dict[Cell, object]
GridLike = Mapping[Cell, object] | Sequence[Sequence[object]] | None

HEADER_ROWS = 30
"""A header is looked for in the top rows only."""
_NO_CELLS: dict[int, object] = {}


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
    def _by_column(self) -> dict[int, dict[int, object]]:
        """Column → row → value."""
        columns: defaultdict[int, dict[int, object]] = defaultdict(dict)
        for (row, col), value in _cells(self._data, self._within):
            columns[col][row] = value
        return dict(columns)

    @cached_property
    def rows(self) -> list[int]:
        """The rows holding a cell, top to bottom."""
        return sorted(set().union(*self._by_column.values()))

    @cached_property
    def columns(self) -> list[int]:
        """The columns holding a cell, left to right."""
        return sorted(self._by_column)

    def get(self, cell: Cell) -> object:
        """The value of a cell; ``None`` when it is blank or absent."""
        row, col = cell
        value = self._by_column.get(col, _NO_CELLS).get(row)
        return None if is_blank(value) else value

    def column(self, col: int, rows: Iterable[int]) -> list[object]:
        """The values of column ``col`` on ``rows``, ``None`` where blank."""
        values = list(map(self._by_column.get(col, _NO_CELLS).get, rows))
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
                value = self._by_column[col].get(row)
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


def identity(value: object) -> str:
    """A 工号 as text: ``1001.0`` → ``"1001"``, text trimmed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""
