"""The xlwings Lite script: :func:`refresh_payroll`, a ``@script`` bound to the 刷新工资表 button
shape on the 工资 tab (:data:`~kpi_xl.templates.layout.REFRESH_BUTTON_SPEC`, the same constant
the template builder places the shape by). The classic add-in's buttons are in
:mod:`kpi_xl.ribbon`; both run the same pure refresh (:mod:`kpi_xl.payroll`) through
:mod:`kpi_xl.xlbook`. This module is embedded in the Lite bundle and only translates.
"""

from __future__ import annotations

import xlwings as xw
from xlwings import script

from kpi_xl import xlbook
from kpi_xl.core.errors import KpiError
from kpi_xl.templates.layout import REFRESH_BUTTON_SPEC

TITLE = "kpi_xl 客服 KPI 工资"


def alert(book: xw.Book, message: str) -> None:
    """A message box in Excel (classic) or the task pane (Lite)."""
    book.app.alert(message, TITLE)


def refresh(book: xw.Book) -> None:
    """Refresh the month's payroll in the open book and say how it went."""
    try:
        result = xlbook.refresh_book(book)
    except KpiError as error:
        alert(book, f"无法刷新 (cannot refresh): {error}")
        return
    alert(book, xlbook.summary(result))


@script(button=REFRESH_BUTTON_SPEC)  # "[刷新工资表]工资!H2": the templates' shape
def refresh_payroll(book: xw.Book) -> None:
    """刷新工资表 (xlwings Lite): compute this month's payroll and write it to the workbook."""
    refresh(book)
