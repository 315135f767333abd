"""xlwings entry points: the buttons of the 「KPI」 ribbon tab and the xlwings Lite script.

* Classic xlwings (desktop Excel, ``RunPython``): :func:`refresh_active`, :func:`import_active`,
  :func:`recalc_active`, :func:`show_help` — each works on ``xw.Book.caller()``.
* xlwings Lite: :func:`refresh_payroll`, a ``@script`` bound to the 刷新工资表 button shape on
  the 工资 tab (:data:`~kpi_xl.templates.layout.REFRESH_BUTTON_SPEC`, the same constant the
  template builder places the shape by).

Both run the same pure refresh (:mod:`kpi_xl.payroll`) through :mod:`kpi_xl.xlbook`; this
module only translates (no rule, no number).
"""

from __future__ import annotations

import xlwings as xw
from xlwings import script

from kpi_xl import xlbook
from kpi_xl.core.errors import KpiError
from kpi_xl.templates.layout import REFRESH_BUTTON_SPEC

TITLE = "kpi_xl 客服 KPI 工资"
HELP = (
    "刷新工资表: 按 考核/员工/规则/历史 计算本月工资, 写入 工资、明细、历史、异常、概览。\n"
    "重算: 让 Excel 重新计算全部公式。\n"
    "导入平台数据: 关闭本工作簿后运行 kpi-xl import 本文件.xlsx 导出文件.csv。\n"
    "规则与假设见 说明 表; 有问题的单元格列在 异常 表。"
)


def _alert(book: xw.Book, message: str) -> None:
    book.app.alert(message, TITLE)


def _refresh(book: xw.Book) -> None:
    try:
        result = xlbook.refresh_book(book)
    except KpiError as error:
        _alert(book, f"无法刷新 (cannot refresh): {error}")
        return
    _alert(book, xlbook.summary(result))


@script(button=REFRESH_BUTTON_SPEC)  # "[刷新工资表]工资!H2": the templates' shape
def refresh_payroll(book: xw.Book) -> None:
    """刷新工资表 (xlwings Lite): compute this month's payroll and write it to the workbook."""
    _refresh(book)


def refresh_active() -> None:
    """RunPython: refresh the workbook that called (classic xlwings)."""
    book = xw.Book.caller()
    book.app.calculate()  # the 考核 formulas first, so the refresh reads current values
    _refresh(book)


def recalc_active() -> None:
    """RunPython: Excel recalculates every formula itself."""
    xw.Book.caller().app.calculate()


def import_active() -> None:
    """RunPython: the import works on a closed workbook file; say how."""
    book = xw.Book.caller()
    _alert(book, "导入平台数据: 请保存并关闭本工作簿, 然后运行\n"
                 f"kpi-xl import \"{book.name}\" 导出文件.csv\n"
                 "(the import writes the file; it cannot while Excel has it open)")


def show_help() -> None:
    """RunPython: a short help message."""
    _alert(xw.Book.caller(), HELP)
