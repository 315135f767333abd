"""The headless payroll refresh: ``kpi-xl refresh BOOK.xlsx`` without Excel.

Lock → recalculate (the vectorised engine) → the pure payroll core → write only what the
refresh owns: cached values of formula cells, the rows below the headers of 工资, 明细, 历史 and
异常, the 概览 data block. Every other part of the file (VBA, xlwings Lite code, images,
comments, charts) is copied byte for byte; input sheets (说明, 规则, 员工, 考核) keep every
input cell. The save is atomic with a ``.bak``; a workbook open in Excel is refused.
工资, 明细 and 异常 are read only down to their headers (``payroll.HEAD_ONLY``): the rows
below are replaced unread, unless a formula of the book reads them.
"""

from __future__ import annotations

import os

from kpi_xl.payroll import HEAD_ONLY, PayrollResult, compute_payroll, detect_template
from kpi_xl.templates.layout import INPUT_SHEETS, OVERVIEW
from kpi_xl.workbook.headless import all_problems, compute_book, store_results
from kpi_xl.workbook.xlsx import XlsxEditor, workbook_lock


def refresh_file(path: str | os.PathLike[str], month: str | None = None, *,
                 lock_timeout: float = 30.0) -> PayrollResult:
    """Refresh the month's payroll in ``path`` and save it; returns what was computed.

    Raises :class:`~kpi_xl.workbook.xlsx.WorkbookBusy` when Excel has the file open,
    ``WorkbookFormatError`` for a file that is not a workbook, and ``KpiError`` when the
    month or the template cannot be told.
    """
    with workbook_lock(path, timeout=lock_timeout):
        computed = compute_book(path, HEAD_ONLY)
        sheets = {name: computed.view(name) for name in computed.book.sheets}
        template = detect_template(sheets)
        formulas = {name: computed.formula_cells(name) for name in computed.book.sheets}
        patterns = {name: data.formulas.patterns() for name, data in computed.book.sheets.items()}
        result = compute_payroll(template, sheets, month, all_problems(computed.result),
                                 formulas, patterns)
        editor = XlsxEditor(path)
        store_results(editor, computed)
        present = set(editor.sheet_names)
        for write in result.writes:
            if write.sheet not in present or write.sheet in INPUT_SHEETS:
                result.skipped.append(write.sheet)
                continue
            editor.replace_sheet_rows(write.sheet, write.rows, first_row=write.first_row)
        if OVERVIEW in present:
            editor.set_cells(OVERVIEW, result.overview)
        editor.save()
    return result
