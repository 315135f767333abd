"""Sheets as cell grids: ``(row, column) → value``, 1-based, as every adapter can deliver them.

Values are what Excel shows: float, str, bool, ``None`` (blank; ``""`` counts as blank too),
dates, and error values — a :class:`~kpi_xl.core.errors.KpiError` (the headless recalc) or
error text such as ``"#N/A"`` (xlwings). Labels are found by their text, never by a fixed
position, so HR may move a block on 规则 without breaking the refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.core.values import fold

Cell = tuple[int, int]
Grid = dict[Cell, object]
GridLike = Mapping[Cell, object] | Sequence[Sequence[object]] | None


def as_grid(data: GridLike) -> Grid:
    """A dict grid from a dict grid or a 2-D list (row 1 = the list's first row); blanks dropped."""
    if data is None:
        return {}
    if isinstance(data, Mapping):
        return {cell: value for cell, value in data.items() if not is_blank(value)}
    grid: Grid = {}
    for r, row in enumerate(data, start=1):
        if row is None:
            continue
        if not isinstance(row, list | tuple):
            row = [row]
        for c, value in enumerate(row, start=1):
            if not is_blank(value):
                grid[(r, c)] = value
    return grid


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


def max_row(grid: Grid) -> int:
    return max((r for r, _ in grid), default=0)


def find_cells(grid: Grid, text: str) -> list[Cell]:
    """Cells whose text equals ``text`` (folded), in row-major order."""
    wanted = text_of(text)
    return sorted(cell for cell, value in grid.items()
                  if isinstance(value, str) and text_of(value) == wanted)


def header_row(grid: Grid, first: str, within: int = 30) -> int | None:
    """The first row (among the top ``within``) holding ``first`` in some cell."""
    rows = [r for r, _ in find_cells(grid, first) if r <= within]
    return min(rows) if rows else None


def header_columns(grid: Grid, row: int) -> dict[str, int]:
    """Header text (folded) → column, for one row; the leftmost wins for a repeated header."""
    found: dict[str, int] = {}
    for (r, c), value in sorted(grid.items()):
        if r == row and not is_blank(value):
            found.setdefault(text_of(value), c)
    return found


def header_cells(grid: Grid, row: int) -> dict[str, list[int]]:
    """Header text (folded) → every column holding it on ``row``, left to right."""
    found: dict[str, list[int]] = {}
    for (r, c), value in sorted(grid.items()):
        if r == row and not is_blank(value):
            found.setdefault(text_of(value), []).append(c)
    return found


def label_value(grid: Grid, label: str) -> tuple[Cell | None, object]:
    """The cell to the right of the first cell reading ``label``, and its value."""
    cells = find_cells(grid, label)
    if not cells:
        return None, None
    r, c = cells[0]
    return (r, c + 1), grid.get((r, c + 1))


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


def rows_below(grid: Grid, row: int) -> Iterable[int]:
    """The rows below ``row`` that hold anything, in order."""
    return sorted({r for r, _ in grid if r > row})
