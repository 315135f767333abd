"""Computing a workbook file without Excel: read its parts, recalculate, store the results.

``kpi-xl recalc`` and the headless payroll refresh share this: the formulas stay, each
formula cell gets its computed value cached in the sheet XML (so the file opens with numbers
in any spreadsheet app), and every other part of the file is copied byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path

from kpi_xl.core.errors import CellProblem
from kpi_xl.recalc import RecalcResult, recalculate
from kpi_xl.workbook.model import BookData, CellColumns, Formulas
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

    def view(self, sheet: str) -> Mapping[tuple[int, int], object]:
        """:meth:`values` without the copy: a read-only overlay with the same items in the same
        order (a sheet of 100,000 agents holds millions of cells)."""
        return CellOverlay(self.book.sheets[sheet].values, self.result.values.get(sheet, {}))

    def formula_cells(self, sheet: str) -> FormulaCells:
        """The cells of ``sheet`` that hold a formula (every cell of an array formula's range),
        as a set view: nothing is copied."""
        data = self.book.sheets[sheet]
        return FormulaCells(data.formulas, [parse_range(area)
                                            for area in data.array_formulas.values()])


class FormulaCells(AbstractSet[tuple[int, int]]):
    """The cells holding a formula: the keys of ``formulas`` and the cells of ``ranges`` (the
    ranges of array formulas, as ``(top, left, bottom, right)``), without copying them."""

    def __init__(self, formulas: Formulas, ranges: list[tuple[int, int, int, int]]) -> None:
        self._formulas = formulas
        self._ranges = ranges

    def spans(self) -> Iterator[tuple[int, int, int]]:
        """``(column, first row, last row)``: runs of rows holding a formula, down a column
        (an array formula's range may overlap a formula cell)."""
        for col, _ in self._formulas.columns():
            for first, last, _ in self._formulas.column(col).runs():
                yield col, first, last
        for top, left, bottom, right in self._ranges:
            for col in range(left, right + 1):
                yield col, top, bottom

    def __contains__(self, cell: object) -> bool:
        if cell in self._formulas:
            return True
        if not isinstance(cell, tuple) or len(cell) != 2:
            return False
        row, col = cell
        return any(top <= row <= bottom and left <= col <= right
                   for top, left, bottom, right in self._ranges)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        yield from self._formulas
        seen: set[tuple[int, int]] = set()
        for top, left, bottom, right in self._ranges:
            for row in range(top, bottom + 1):
                for col in range(left, right + 1):
                    cell = (row, col)
                    if cell not in self._formulas and cell not in seen:
                        seen.add(cell)
                        yield cell

    def __len__(self) -> int:
        return sum(1 for _ in self)


class CellOverlay(Mapping[tuple[int, int], object]):
    """``base`` with ``top`` laid over it, a column at a time (both filed by column)."""

    def __init__(self, base: CellColumns[object], top: CellColumns[object]) -> None:
        self._base = base
        self._top = top

    def columns(self) -> Iterator[tuple[int, dict[int, object]]]:
        """``(column, {row: value})`` for every column holding a cell, columns ascending, the
        rows of each ascending."""
        cols = sorted({col for col, _ in self._base.columns()}
                      | {col for col, _ in self._top.columns()})
        for col in cols:
            merged = dict(self._base.find_column(col) or {})
            merged.update((self._top.find_column(col) or {}).items())
            if list(merged) != sorted(merged):
                merged = dict(sorted(merged.items(), key=itemgetter(0)))
            yield col, merged

    def __getitem__(self, cell: tuple[int, int]) -> object:
        top = self._top
        return top[cell] if cell in top else self._base[cell]

    def __contains__(self, cell: object) -> bool:
        return cell in self._top or cell in self._base

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for col, merged in self.columns():
            yield from zip(merged, repeat(col))

    def __len__(self) -> int:
        return sum(len(merged) for _, merged in self.columns())

    def items(self) -> Iterator[tuple[tuple[int, int], object]]:  # type: ignore[override]
        for col, merged in self.columns():
            yield from zip(zip(merged, repeat(col)), merged.values(), strict=True)

    def get(self, cell: tuple[int, int], default: object = None) -> object:  # type: ignore[override]
        top = self._top
        if cell in top:
            return top[cell]
        return self._base.get(cell, default)


def compute_book(path: str | os.PathLike[str],
                 head_only: Mapping[str, int] | None = None) -> ComputedBook:
    """Read ``path`` and compute every formula with the vectorised engine.

    A plain (non-array) formula of the file is a legacy single-cell formula — Excel 365 saves
    its dynamic-array formulas as array formulas — so it gets one value, in its own cell, by
    Excel's implicit intersection; it never spills into other cells.

    ``head_only`` (sheet → last row) reads those sheets only down to that row — the refresh's
    output sheets, whose rows below it are replaced unread — unless a formula or a defined
    name mentions one of them: then the book is read in full, so no formula misses a cell.
    """
    book = read_book(path, head_only)
    if any(sheet.read_to is not None for sheet in book.sheets.values()) and _mentioned(
            book, head_only or {}):
        book = read_book(path)
    return ComputedBook(book, recalculate(book))


def _mentioned(book: BookData, sheets: Collection[str]) -> bool:
    """Whether any formula or defined name of ``book`` holds one of the ``sheets``' names (a
    reference, an INDIRECT text …: any mention counts). Excel's own names (``_xlnm.``: print
    titles and areas, filters) are for printing and filtering, not for formulas."""
    names = [*book.defined_names.values(),
             *(text for local in book.local_names.values()
               for name, text in local.items() if not name.startswith("_xlnm."))]
    return (any(sheet.formulas.mention(sheets) for sheet in book.sheets.values())
            or any(sheet in text for sheet in sheets for text in names))


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
