"""The payroll refresh, pure: no xlwings, no file I/O.

``compute_payroll(template, sheets, month)`` takes the month workbook's sheets as cell grids
and returns a :class:`PayrollResult` — the rows of 工资, 明细, 历史 and 异常 and the 概览
data — that the adapters (headless :mod:`kpi_xl.workbook.refresh`, xlwings
:mod:`kpi_xl.scripts`) only write. ``detect_template(sheets)`` finds the template.
"""

from kpi_xl.payroll.compute import HEAD_ONLY, Problem, compute_payroll, detect_template
from kpi_xl.payroll.result import ON_HOLD, TOTAL, AgentPay, PayrollResult, SheetRows, excel_value

__all__ = [
    "HEAD_ONLY",
    "ON_HOLD",
    "TOTAL",
    "AgentPay",
    "PayrollResult",
    "Problem",
    "SheetRows",
    "compute_payroll",
    "detect_template",
    "excel_value",
]
