"""Computing a workbook file without Excel: read its parts, recalculate, store the results.

``kpi-xl recalc`` and the headless payroll refresh share this: the formulas stay, each
formula cell gets its computed value cached in the sheet XML (so the file opens with numbers
in any spreadsheet app), and every other part of the file is copied byte for byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kpi_xl.core.errors import CellProblem
from kpi_xl.recalc import RecalcResult, recalculate
from kpi_xl.workbook.model import BookData
from kpi_xl.workbook.refs import parse_range
from kpi_xl.workbook.xlsx import XlsxEditor, read_book, workbook_lock


@dataclass
class ComputedBook:
    """A workbook read from disk and recalculated; ``values`` overlays the formula results on
    the input cells, per sheet, so a reader sees the workbook as Excel would show it."""

    book: BookData
    result: RecalcResult

    def values(self, sheet: str) -> dict[tuple[int, int], object]:
        data = self.book.sheets[sheet]
        merged = dict(data.values)
        merged.update(self.result.values.get(sheet, {}))
        return merged

    def formula_cells(self, sheet: str) -> set[tuple[int, int]]:
        """The cells of ``sheet`` that hold a formula (every cell of an array formula's range)."""
        data = self.book.sheets[sheet]
        cells = set(data.formulas)
        for area in data.array_formulas.values():
            top, left, bottom, right = parse_range(area)
            cells.update((r, c) for r in range(top, bottom + 1) for c in range(left, right + 1))
        return cells


def compute_book(path: str | os.PathLike[str]) -> ComputedBook:
    """Read ``path`` and compute every formula with the vectorised engine."""
    book = read_book(path)
    return ComputedBook(book, recalculate(book))


def store_results(editor: XlsxEditor, computed: ComputedBook) -> None:
    """Cache every computed value in its formula cell (a formula not computable keeps none)."""
    for sheet, values in computed.result.values.items():
        if values:
            editor.set_cached_values(sheet, values)


def recalc_file(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                *, lock_timeout: float = 30.0) -> RecalcResult:
    """``kpi-xl recalc``: compute ``path`` and save it (or a copy at ``out``) atomically."""
    target = Path(out) if out is not None else Path(path)
    with workbook_lock(path, timeout=lock_timeout):
        computed = compute_book(path)
        editor = XlsxEditor(path)
        store_results(editor, computed)
        editor.save(target)
    return computed.result


NOT_COMPUTABLE = "无法离线计算 (not computable headless): "


def all_problems(result: RecalcResult) -> list[CellProblem]:
    """Error cells, then formulas the engine could not compute (their message says so)."""
    return [*result.problems, *(CellProblem(p.sheet, p.cell, NOT_COMPUTABLE + p.message)
                                for p in result.not_computable)]


def problem_lines(result: RecalcResult) -> list[str]:
    """One line per problem for HR: ``考核!K7: 单元格为空, 请填写数值 (…)``."""
    return [f"{p.sheet}!{p.cell}: {p.message}" for p in all_problems(result)]
