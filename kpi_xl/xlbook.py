"""Read and write an xlwings Book for the payroll refresh — one module for both xlwings paths.

Classic xlwings (a workbook open in desktop Excel, ``xw.Book.caller()``) and xlwings Lite (a
snapshot ``xw.Book(json=…)`` whose writes become actions the add-in applies) share this: each
sheet is read as values with :attr:`used_range` (error values kept as text such as ``#N/A``),
the pure core (:mod:`kpi_xl.payroll`) computes, and the rows are written back with
``range.value = rows`` after the old rows are cleared. Nothing here knows a rule or a number.
No file, subprocess or thread: Lite has none.
"""

from __future__ import annotations

from typing import Any

from kpi_xl.payroll import PayrollResult, compute_payroll, detect_template, excel_value
from kpi_xl.payroll.grid import Cell, ColumnFormulas, Grid, formula_runs
from kpi_xl.templates.layout import ASSESSMENT, INPUT_SHEETS, OVERVIEW

READ_OPTIONS = {"ndim": 2, "err_to_str": True}


def read_sheet(sheet: Any) -> Grid:
    """One sheet's values as a grid, positioned where the used range starts."""
    used = sheet.used_range
    values = used.options(**READ_OPTIONS).value or []
    top, left = used.row, used.column
    grid: Grid = {}
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if value is not None and value != "":
                grid[(top + r, left + c)] = value
    return grid


def read_book(book: Any) -> dict[str, Grid]:
    """Every sheet of the book as a grid (name → grid)."""
    return {sheet.name: read_sheet(sheet) for sheet in book.sheets}


def read_formulas(book: Any) -> tuple[dict[str, set[Cell]], dict[str, ColumnFormulas]] | None:
    """The formulas of 考核 in one read of its used range (classic xlwings: ``range.formula``,
    one string per cell, ``=…`` for a formula; a cell of a legacy array formula gives the
    array's formula): the cells that hold one, so the refresh can tell a number typed over a
    formula, and each column's formulas as runs of rows filled down
    (:func:`~kpi_xl.payroll.grid.formula_runs`), so it can tell a formula retyped on one row.

    xlwings Lite cannot: its book is a JSON snapshot of values, and reading ``range.formula``
    synchronously raises ``NotImplementedError`` there. Then this returns ``None`` and the
    refresh skips both checks (the headless refresh and classic Excel do them)."""
    names = {sheet.name for sheet in book.sheets}
    if ASSESSMENT not in names:
        return None
    used = book.sheets[ASSESSMENT].used_range
    try:
        texts = used.formula
    except NotImplementedError:
        return None
    if isinstance(texts, str):  # a one-cell range
        texts = ((texts,),)
    elif texts and not isinstance(texts[0], list | tuple):  # a one-row range
        texts = (texts,)
    top, left = used.row, used.column
    columns = {left + c: runs for c, column in enumerate(zip(*texts or (), strict=True))
               if (runs := formula_runs(top, column))}
    cells = {(row, col) for col, runs in columns.items() for first, last, _ in runs
             for row in range(first, last + 1)}
    return {ASSESSMENT: cells}, {ASSESSMENT: columns}


def read_formula_cells(book: Any) -> dict[str, set[Cell]] | None:
    """The cells of 考核 that hold a formula (:func:`read_formulas`); ``None`` where formulas
    cannot be read (xlwings Lite) or the book has no 考核."""
    found = read_formulas(book)
    return None if found is None else found[0]


def last_row(sheet: Any) -> int:
    used = sheet.used_range
    return used.row + used.shape[0] - 1


def write_result(book: Any, result: PayrollResult) -> None:
    """Write 工资, 明细, 历史, 异常 (rows below the header) and the 概览 blocks.

    Input sheets (说明, 规则, 员工, 考核) are never written. A sheet the workbook lacks is
    skipped (an older workbook without 明细).
    """
    names = {sheet.name for sheet in book.sheets}
    for write in result.writes:
        if write.sheet not in names or write.sheet in INPUT_SHEETS:
            continue
        sheet = book.sheets[write.sheet]
        bottom = max(last_row(sheet), write.first_row)
        sheet.range((write.first_row, 1), (bottom, write.width)).clear_contents()
        if write.rows:
            sheet.range((write.first_row, 1)).value = [
                [excel_value(value) for value in row] for row in write.rows]
    if OVERVIEW in names:
        sheet = book.sheets[OVERVIEW]
        for (top, left), rows in result.overview_blocks():
            sheet.range((top, left)).value = [[excel_value(v) for v in row] for row in rows]


def refresh_book(book: Any, month: str | None = None) -> PayrollResult:
    """Read the book, compute the month's payroll, write the results; returns the result."""
    sheets = read_book(book)
    template = detect_template(sheets)
    formulas = read_formulas(book)
    cells, patterns = (None, None) if formulas is None else formulas
    result = compute_payroll(template, sheets, month, formulas=cells, patterns=patterns)
    write_result(book, result)
    return result


FORMULAS_NOT_CHECKED = ("注意: xlwings Lite 读不到公式, 考核表中被数值覆盖或被改写的公式未核对; "
                        "请在桌面 Excel 中刷新或运行 kpi-xl refresh 核对 (formulas not checked "
                        "in xlwings Lite)")


def summary(result: PayrollResult) -> str:
    """The short message shown after a refresh (with what it could not check)."""
    flags = result.flag_counts()
    shown = ", ".join(f"{flag} {count}" for flag, count in sorted(flags.items()))
    unchecked = "" if result.formulas_checked else f"\n{FORMULAS_NOT_CHECKED}"
    return (f"{result.month} 工资已刷新: {len(result.agents)} 人, 应发合计 {result.total} 元"
            f"{'; ' + shown if shown else ''}; 异常 {result.issues} 条 (见 异常 表){unchecked}")
