"""Headless formula engine: column-uniform formulas compiled once, evaluated with numpy.

``recalculate(book)`` computes every formula cell of a :class:`~kpi_xl.workbook.model.BookData`
and reports error cells and formulas it cannot compute.
"""

from kpi_xl.recalc.engine import Problem, RecalcResult, recalculate

__all__ = ["Problem", "RecalcResult", "recalculate"]
