"""Differential test: the recalc engine against the ``formulas`` library on generated books.

Workbooks are written with openpyxl (column formulas over random inputs, no KPI functions),
computed by ``formulas.ExcelModel`` and by ``recalculate``; every formula cell must agree
within 1e-9. ROUND is left out: ``formulas`` rounds half-to-even on binary floats, not as
Excel does (the builtin tests pin Excel's behaviour).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc import recalculate
from kpi_xl.workbook.model import BookData, SheetData

formulas = pytest.importorskip("formulas")

FIRST, LAST = 2, 16
WEIGHT_ROW = 18
COLUMNS = [  # (header, formula for row {r}); later columns may read earlier ones
    ("arith", "=A{r}*B{r}-C{r}/4+D{r}^2/100"),
    ("if", "=IF(A{r}>B{r},A{r}-B{r},B{r}-A{r})"),
    ("iferror", "=IFERROR(A{r}/C{r},-1)"),
    ("sum", "=SUM(A{r}:D{r})"),
    ("spread", "=MAX(A{r}:D{r})-MIN(A{r}:D{r})"),
    ("avg", "=AVERAGE(A{r}:D{r})"),
    ("weighted", "=SUMPRODUCT(A{r}:D{r},$A$18:$D$18)"),
    ("countif", '=COUNTIF($A$2:$A$16,">"&A{r})'),
    ("sumif", '=SUMIF($B$2:$B$16,">="&B{r},$A$2:$A$16)'),
    ("rank", "=RANK(A{r},$A$2:$A$16)"),
    ("index", "=INDEX($B$2:$B$16,MATCH(A{r},$A$2:$A$16,0))"),
    ("vlookup", "=VLOOKUP(A{r},$A$2:$D$16,3,FALSE)"),
    ("logic", "=IF(AND(A{r}>20,OR(B{r}<30,C{r}=0)),1,0)+NOT(D{r}>50)"),
    ("abs_int", "=ABS(C{r}-50)+INT(A{r}/7)+MOD(B{r},4)"),
    ("chain", "=E{r}+F{r}*2-H{r}"),
    ("running", "=IF(ROW()=2,A{r},T{rm}+A{r})"),
    ("label", '=IF(E{r}>1000,"高","低")&"-"&COUNTIF($B$2:$B$16,"<"&B{r})'),
    ("lookup", "=LOOKUP(D{r},$AA$2:$AA$4,$AB$2:$AB$4)"),
    ("countifs", '=COUNTIFS($A$2:$A$16,">="&A{r},$B$2:$B$16,"<"&50)'),
    ("ifs", "=_xlfn.IFS(A{r}>60,3,A{r}>30,2,TRUE,1)"),
    ("div", "=A{r}/C{r}"),
    ("match_na", "=MATCH(B{r},$A$2:$A$16,0)+Y{r}"),
]
FORMULA_COLUMN0 = 5  # E


def build(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for col, name in enumerate("ABCD", start=1):
        sheet.cell(1, col, name)
    for r in range(FIRST, LAST + 1):
        for col in range(1, 5):
            value = int(rng.integers(0, 100))
            if col == 3 and rng.random() < 0.2:
                value = 0  # division by zero inside IFERROR
            sheet.cell(r, col, value)
    for col, weight in enumerate((0.4, 0.3, 0.2, 0.1), start=1):
        sheet.cell(WEIGHT_ROW, col, weight)
    for row, (threshold, label) in enumerate(((0, 10), (40, 20), (75, 30)), start=2):
        sheet.cell(row, 27, threshold)  # AA: sorted lookup vector
        sheet.cell(row, 28, label)  # AB
    for offset, (header, text) in enumerate(COLUMNS):
        col = FORMULA_COLUMN0 + offset
        sheet.cell(1, col, header)
        for r in range(FIRST, LAST + 1):
            sheet.cell(r, col, text.format(r=r, rm=r - 1))
    workbook.save(path)


def load(path: Path) -> BookData:
    """A tiny openpyxl-based reader (the project's zip-level reader is tested elsewhere)."""
    workbook = openpyxl.load_workbook(path)
    book = BookData()
    for worksheet in workbook.worksheets:
        sheet = SheetData(worksheet.title)
        for row in worksheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    sheet.formulas[(cell.row, cell.column)] = cell.value
                elif cell.value is not None:
                    value = cell.value
                    sheet.values[(cell.row, cell.column)] = (
                        float(value) if isinstance(value, int | float) and
                        not isinstance(value, bool) else value)
        book.sheets[sheet.name] = sheet
    return book


def reference_values(path: Path) -> dict[tuple[int, int], object]:
    model = formulas.ExcelModel().loads(str(path)).finish()
    solution = model.calculate()
    out: dict[tuple[int, int], object] = {}
    prefix = f"'[{path.name}]DATA'!"
    for key, ranges in solution.items():
        if not key.startswith(prefix) or ":" in key:
            continue
        cell = openpyxl.utils.cell.coordinate_from_string(key[len(prefix):])
        column = openpyxl.utils.cell.column_index_from_string(cell[0])
        out[(cell[1], column)] = np.asarray(ranges.value).reshape(-1)[0]
    return out


def same(mine: object, theirs: object) -> bool:
    if isinstance(mine, KpiError):
        return str(theirs) == mine.code
    if isinstance(theirs, bool | np.bool_) or isinstance(mine, bool):
        return isinstance(mine, bool) and bool(theirs) == mine
    if isinstance(theirs, str):
        return mine == theirs
    return isinstance(mine, float) and math.isclose(mine, float(theirs), rel_tol=1e-9,
                                                    abs_tol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_formulas_library(tmp_path: Path, seed: int) -> None:
    path = tmp_path / f"book{seed}.xlsx"
    build(path, seed)
    result = recalculate(load(path), functions={}, rowwise=frozenset())
    assert not result.not_computable, result.not_computable[:3]
    expected = reference_values(path)
    mine = result.values["Data"]
    assert len(mine) == len(COLUMNS) * (LAST - FIRST + 1)
    mismatches = [(cell, value, expected.get(cell)) for cell, value in mine.items()
                  if not same(value, expected.get(cell))]
    assert not mismatches, mismatches[:10]
