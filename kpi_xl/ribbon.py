"""The 「KPI」 ribbon buttons of the classic add-in (desktop Excel, ``RunPython``): each works on
``xw.Book.caller()``. Thin: the refresh is :func:`kpi_xl.scripts.refresh` (shared with xlwings
Lite), the import is :mod:`kpi_xl.xlimport`.
"""

from __future__ import annotations

import sys

import xlwings as xw

from kpi_xl.core.errors import KpiError
from kpi_xl.scripts import alert, refresh
from kpi_xl.xlimport import import_into_book

HELP = (
    "刷新工资表: 按 考核/员工/规则/历史 计算本月工资, 写入 工资、明细、历史、异常、概览。\n"
    "导入平台数据: 选择赤兔/千牛导出的 CSV 或 xlsx, 填入 考核 表的输入列。\n"
    "重算: 让 Excel 重新计算全部公式。\n"
    "规则与假设见 说明 表; 有问题的单元格列在 异常 表。"
)
EXPORT_FILTER = "平台导出 (*.csv;*.xlsx),*.csv;*.xlsx"


def refresh_active() -> None:
    """刷新工资表: Excel recalculates first, so the refresh reads current values."""
    book = xw.Book.caller()
    book.app.calculate()
    refresh(book)


def import_active() -> None:
    """导入平台数据: pick an export file (Windows' file dialog), fill 考核's input cells."""
    book = xw.Book.caller()
    if sys.platform != "win32":  # GetOpenFilename is Windows COM; macOS uses the CLI
        alert(book, f"请在终端运行: kpi-xl import \"{book.name}\" 导出文件.csv "
                    "(run kpi-xl import from a terminal on macOS)")
        return
    chosen = book.app.api.GetOpenFilename(EXPORT_FILTER, 1, "选择平台导出文件")
    if not chosen:  # the dialog was cancelled
        return
    try:
        report = import_into_book(book, str(chosen))
    except KpiError as error:
        alert(book, f"无法导入 (cannot import): {error}")
        return
    book.app.calculate()
    alert(book, "\n".join(report.lines()))


def recalc_active() -> None:
    """重算: Excel recalculates every formula itself."""
    xw.Book.caller().app.calculate()


def show_help() -> None:
    """帮助: a short help message."""
    alert(xw.Book.caller(), HELP)
