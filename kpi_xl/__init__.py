"""kpi_xl: customer-service KPI appraisal and payroll for Excel, written in Python.

The pure rule engine lives in :mod:`kpi_xl.core`; worksheet functions over columns in
:mod:`kpi_xl.functions`; thin adapters in :mod:`kpi_xl.udfs` (xlwings), :mod:`kpi_xl.cli`
and :mod:`kpi_xl.workbook` (xlsx I/O).
"""

__version__ = "0.1.0"
