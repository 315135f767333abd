"""Two engines agree: the ``formulas`` library and ``kpi_xl.recalc`` on small workbooks.

``formulas`` (a generic Python Excel engine, far too slow for production) is given every KPI_
function through its ``wrap_func`` helper — ranges arrive as 2-D numpy arrays, blanks as
``schedula.EMPTY``, errors as ``XlError``; each call goes to ``kpi_xl.functions.FUNCTIONS``
and every :class:`KpiError` cell comes back as the ``formulas`` error value of the same code —
and Excel's ROUND (half away from zero on the double's 15-significant-digit decimal, Excel's
precision: ``ROUND(75*1.005, 2)`` = 75.38 although the double is 75.37499999999999)
replaces its own (which rounds the binary value: ``ROUND(1.005, 2)`` = 1.0, Excel 1.01).

Fixtures:

(a) each template's sample month made small: the template description with
    ``capacity=6`` (six formula rows), five agents, so one unused row is checked too;
(b) a hand-made openpyxl workbook mixing KPI_TIER / KPI_SCORE / KPI_GRADE / KPI_PAY (all four
    schemes) / KPI_DEDUCT / KPI_RATE / KPI_EXPLAIN / KPI_POOL with ROUND (ties), IF, IFERROR,
    SUMPRODUCT, SUM, AVERAGE, COUNTIF, a two-column rule range, array (CSE) formulas, and bad
    inputs (text, blank, 47 for 47%, an unknown grade, a value no tier holds).

Every formula cell kpi_xl computes is compared with what ``formulas`` gives: numbers within
1e-9 relative, text equal, booleans equal, errors by code. ``formulas`` leaves the empty text of
``IF($A5="","",…)`` as ``""`` and may give ``EMPTY`` for a blank result; both count as ``""``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from kpi_xl.core.errors import KpiError
from kpi_xl.functions import FUNCTIONS
from kpi_xl.templates import TEMPLATES, new_month
from kpi_xl.templates.specs import TEMPLATES as SPEC_CATALOGUE
from kpi_xl.workbook.headless import ComputedBook, compute_book

formulas = pytest.importorskip("formulas")
schedula = pytest.importorskip("schedula")
from formulas.functions import Array, Error, get_functions, wrap_func, wrap_ufunc  # noqa: E402
from formulas.tokens.operand import XlError  # noqa: E402

SMALL_CAPACITY = 6
SMALL_AGENTS = 5
HEADER_ROW, FIRST_ROW = 4, 5
REL_TOL, ABS_TOL = 1e-9, 1e-12

NOT_FOR_FORMULAS: tuple[tuple[re.Pattern[str], str], ...] = ()
"""Formula cells ``formulas`` cannot compute, as (pattern on the formula text, reason); they
are left out of the comparison and listed. Empty today: with the KPI_ functions registered,
``formulas`` 1.3.4 computes everything the templates use — including the KPI_POOL /
KPI_SHARE array formulas spanning a column, INDEX/MATCH on 员工 and 规则, SUMIF/COUNTIF over
the team column and RANK — so nothing is excluded."""

Cell = tuple[int, int]
Key = tuple[str, int, int]


# --------------------------------------------------------------------------------------------
# registering kpi_xl's functions and Excel's ROUND with `formulas`


def to_kpi(value: object) -> object:
    """A value as ``formulas`` passes it → as kpi_xl's functions take it (Excel's view)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_kpi(value.item())
        grid = np.empty(value.shape, dtype=object)
        for index, cell in np.ndenumerate(value):
            grid[index] = to_kpi(cell)
        return grid.reshape(-1, 1) if grid.ndim == 1 else grid
    if value is schedula.EMPTY:
        return None
    if isinstance(value, XlError):
        return str(value)  # kpi_xl reads "#DIV/0!" text as the error value it is
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_kpi(grid: np.ndarray) -> Array:
    """kpi_xl's result grid → a ``formulas`` array; KpiError cells become error values."""
    out = np.empty(grid.shape, dtype=object)
    for index, cell in np.ndenumerate(grid):
        out[index] = Error.errors[cell.code] if isinstance(cell, KpiError) else cell
    return out.view(Array)


def as_formulas_function(name: str) -> Callable[..., Array]:
    """``FUNCTIONS[name]`` wrapped for ``formulas`` (``wrap_func``: ranges as 2-D arrays)."""
    implementation = FUNCTIONS[name]

    def call(*args: object) -> Array:
        return from_kpi(implementation(*(to_kpi(arg) for arg in args)))

    call.__name__ = name
    return wrap_func(call)


def excel_round(number: float, digits: float) -> float:
    """Excel's ROUND: half away from zero on the double's 15-significant-digit decimal."""
    places = int(digits)
    exponent = Decimal(1).scaleb(-places)
    return float(Decimal(f"{float(number):.15g}").quantize(exponent, rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def engine() -> Iterator[None]:
    """Register the KPI_ functions (as ``NAME`` and ``_XLL.NAME``) and Excel's ROUND in
    ``formulas``' function table for this module; restore the table afterwards."""
    table = get_functions()
    names = [*FUNCTIONS, *(f"_XLL.{name}" for name in FUNCTIONS), "ROUND"]
    saved = {name: table[name] for name in names if name in table}
    for name in FUNCTIONS:
        table[name] = table[f"_XLL.{name}"] = as_formulas_function(name)
    table["ROUND"] = wrap_ufunc(excel_round)
    try:
        yield
    finally:
        for name in names:
            table.pop(name, None)
        table.update(saved)


# --------------------------------------------------------------------------------------------
# running both engines and comparing


def formulas_values(path: Path) -> dict[Key, object]:
    """Every cell value ``formulas`` computes for ``path`` → (sheet, row, column) → value;
    a multi-cell (array formula) result is spread over its cells."""
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out: dict[Key, object] = {}
    spread: dict[Key, object] = {}
    for key, ranges in solution.items():
        if "!" not in key:
            continue
        book_sheet, ref = key.rsplit("!", 1)
        sheet = book_sheet.strip("'").split("]", 1)[-1]
        value = np.asarray(getattr(ranges, "value", ranges), dtype=object)
        if re.fullmatch(r"[A-Z]+[0-9]+", ref):
            col, row = coordinate_from_string(ref)
            out[(sheet.upper(), row, column_index_from_string(col))] = value.reshape(-1)[0]
        elif re.fullmatch(r"[A-Z]+[0-9]+:[A-Z]+[0-9]+", ref):
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            if value.shape != (max_row - min_row + 1, max_col - min_col + 1):
                continue
            for (i, j), cell in np.ndenumerate(value):
                spread[(sheet.upper(), min_row + i, min_col + j)] = cell
    return {**spread, **out}


def same(mine: object, theirs: object) -> bool:
    """kpi_xl's value against ``formulas``' by the module's rules."""
    if isinstance(theirs, np.generic):
        theirs = theirs.item()
    if isinstance(mine, KpiError):
        return isinstance(theirs, XlError) and str(theirs) == mine.code
    if isinstance(theirs, XlError):
        return False
    if mine == "" or theirs is schedula.EMPTY:
        return mine == "" and (theirs == "" or theirs is schedula.EMPTY)
    if isinstance(mine, bool) or isinstance(theirs, bool):
        return mine is theirs
    if isinstance(mine, str) or isinstance(theirs, str):
        return mine == theirs
    return math.isclose(float(mine), float(theirs), rel_tol=REL_TOL, abs_tol=ABS_TOL)


def excluded(formula: str) -> str | None:
    return next((reason for pattern, reason in NOT_FOR_FORMULAS if pattern.search(formula)),
                None)


def compare(path: Path) -> tuple[ComputedBook, int, list[str], list[str]]:
    """Compute ``path`` with both engines; returns kpi_xl's book, the number of cells
    compared, the mismatches and the excluded cells (each as text naming the cell)."""
    computed = compute_book(path)
    assert not computed.result.not_computable, computed.result.not_computable[:3]
    reference = formulas_values(path)
    compared, mismatches, skipped = 0, [], []
    for sheet_name, values in computed.result.values.items():
        sheet = computed.book.sheets[sheet_name]
        anchors = {cell: anchor for anchor, ref in sheet.array_formulas.items()
                   for cell in _cells(ref)}
        for (row, col), mine in sorted(values.items()):
            formula = sheet.formulas.get(anchors.get((row, col), (row, col)), "")
            where = f"{sheet_name}!{openpyxl.utils.get_column_letter(col)}{row}"
            reason = excluded(formula)
            if reason:
                skipped.append(f"{where} {formula}: {reason}")
                continue
            key = (sheet_name.upper(), row, col)
            if key not in reference:
                mismatches.append(f"{where} {formula}: kpi_xl {mine!r}, formulas has no value")
                continue
            compared += 1
            if not same(mine, reference[key]):
                mismatches.append(f"{where} {formula}: kpi_xl {mine!r}, "
                                  f"formulas {reference[key]!r}")
    return computed, compared, mismatches, skipped


def _cells(ref: str) -> list[Cell]:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


# --------------------------------------------------------------------------------------------
# (a) every template's sample month, made small


def small_month(template_id: str, path: Path) -> Path:
    """A sample month of ``template_id`` built from a copy of its description with
    ``capacity=6``, filled with five agents (``new_month`` reads the catalogue, so the copy
    stands in for the original while it builds)."""
    small = dataclasses.replace(TEMPLATES[template_id], capacity=SMALL_CAPACITY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(SPEC_CATALOGUE, template_id, small)
        return new_month(template_id, path, sample=True, agents=SMALL_AGENTS)


@pytest.mark.parametrize("template_id", list(TEMPLATES))
def test_template_sample_month_agrees(engine: None, tmp_path: Path, template_id: str) -> None:
    path = small_month(template_id, tmp_path / f"{template_id}.xlsx")
    computed, compared, mismatches, skipped = compare(path)
    assessment = computed.book.sheets["考核"]
    last_formula_row = max(row for row, _ in assessment.formulas)
    assert last_formula_row == FIRST_ROW + SMALL_CAPACITY - 1, "the small capacity took effect"
    agents = sum(1 for row in range(FIRST_ROW, FIRST_ROW + SMALL_CAPACITY)
                 if assessment.values.get((row, 1)) not in (None, ""))
    assert agents == SMALL_AGENTS
    print(f"{template_id}: {compared} formula cells compared, {len(skipped)} excluded"
          + "".join(f"\n  excluded {line}" for line in skipped))
    assert compared > 0
    assert not mismatches, "\n".join(mismatches[:20])


# --------------------------------------------------------------------------------------------
# (b) a hand-made workbook

TIER_RULE = "≥50%:100; [45%,50%):80; [40%,45%):60; <40%:0"
SECONDS_RULE = "N≤30s:100; 30s<N≤45s:80; N>45s:50"
GRADE_BANDS = "[90,100]:高级客服; [80,90):中级客服; [70,80):初级客服; <70:不合格"
COEFFICIENTS = "A:1.2; B:1; C:0.8; D:0.5; E:0"
COMMISSION = "≥60%:6‰; [55%,60%):4‰; <55%:2‰"
WEIGHTS = (0.4, 0.3, 0.2, 0.1)
RANGE_RULE = (("≥50%", 10), ("[45%,50%)", 8), ("[40%,45%)", 6), ("<40%", 0))
AGENTS = (  # 工号, 转化率, 响应秒, 协作分, 态度分, 差评, 等级, 销售额
    ("KF001", 0.52, 28.0, 95, 88, 0, "A", 120000),
    ("KF002", 0.47, 31.0, 120, 70, 1, "B", 86000.5),
    ("KF003", 0.41, 46.0, 60, 100, 2, "C", 45000),
    ("KF004", "abc", 30.0, 80, 80, 0, "B", 99999.99),  # text in a number cell
    ("KF005", 0.3, 45.0, 100, 90, 3, "D", 150000),
    ("KF006", None, 20.0, 70, 75, 0, "A", 60000),  # blank rate, no 空 tier
    ("KF007", 47, 33.3, 85, 95, 0, "Z", 30000),  # 47 against a %-rule; unknown grade
    ("KF008", 0.5, 45.0, 100, 100, 0, "E", 100005),
)
COLUMNS = {  # header → formula for row {r}
    "转化率得分": "=KPI_TIER(B{r},规则!$B$1)",
    "响应得分": "=KPI_TIER(C{r},规则!$B$7)",
    "协作得分": "=IF(D{r}>100,100,D{r})",
    "态度得分": "=ROUND(E{r}*1.005,2)",
    "KPI得分": "=KPI_SCORE(J{r}:M{r},规则!$B$5:$E$5,-F{r}*5)",
    "复核得分": "=SUMPRODUCT(J{r}:M{r},规则!$B$5:$E$5)-F{r}*5",
    "等级": "=KPI_GRADE(N{r},规则!$B$2)",
    "80/20工资": "=KPI_PAY(\"80/20\",规则!$B$6,N{r},0.8)",
    "等级系数工资": "=KPI_PAY(\"等级系数\",3000,G{r},规则!$B$3)",
    "提成": "=KPI_PAY(\"提成\",H{r},N{r},规则!$B$4,B{r})",
    "按分奖金": "=KPI_PAY(\"按分\",2600,N{r},100,0.7)",
    "达标": "=IF(N{r}>=80,\"达标\",\"未达标\")",
    "转化率得分或-1": "=IFERROR(J{r},-1)",
    "迟到扣分": "=KPI_DEDUCT(F{r},\"免1次; 每次-3\")",
    "完成率": "=KPI_RATE(\"\",H{r},100000)",
    "说明": "=KPI_EXPLAIN(B{r},规则!$B$1)",
    "档位(区间表)": "=KPI_TIER(B{r},规则!$A$9:$B$12)",
    "保留两位": "=ROUND(H{r}/7,2)",
}
ARRAY_COLUMNS = {  # header → array formula over the whole agent range
    "转化率得分(数组)": "=KPI_TIER(B2:B9,规则!$B$1)",
    "响应奖金池": "=KPI_POOL(3000,K2:K9,H2:H9)",
}
TOTALS = (  # row 12 on: summary formulas
    "=SUMPRODUCT(K2:K9,E2:E9)",
    "=SUM(L2:L9)",
    "=ROUND(AVERAGE(K2:K9),2)",
    '=COUNTIF(K2:K9,">=80")',
    '=SUMPRODUCT(L2:L9,规则!$B$8:$I$8)',
)
ROUND_CASES = (  # Excel's ROUND: ties away from zero on the shown decimal
    "=ROUND(1.005,2)", "=ROUND(73.195,2)", "=ROUND(-2.5,0)", "=ROUND(2.345,2)",
    "=ROUND(1234.5,-1)", "=ROUND(0.285,2)", "=ROUND(-0.125,2)", "=ROUND(2.675,2)",
)


def build_hand_made(path: Path) -> None:
    """The hand-made workbook (b): 规则 (rules, weights, a rule range) and 考核 (agents)."""
    workbook = openpyxl.Workbook()
    rules = workbook.active
    rules.title = "规则"
    for row, text in enumerate((TIER_RULE, GRADE_BANDS, COEFFICIENTS, COMMISSION), start=1):
        rules.cell(row, 1, f"rule {row}")
        rules.cell(row, 2, text)
    for col, weight in enumerate(WEIGHTS, start=2):
        rules.cell(5, col, weight)
    rules["B6"] = 5000
    rules["B7"] = SECONDS_RULE
    for col, factor in enumerate((1, 2, 3, 1, 0.5, 1, 2, 1), start=2):
        rules.cell(8, col, factor)  # a row of factors for a SUMPRODUCT across sheets
    for row, (condition, result) in enumerate(RANGE_RULE, start=9):
        rules.cell(row, 1, condition)
        rules.cell(row, 2, result)
    sheet = workbook.create_sheet("考核")
    inputs = ("工号", "转化率", "响应秒", "协作分", "态度分", "差评", "等级", "销售额")
    for col, header in enumerate((*inputs, "", *COLUMNS, *ARRAY_COLUMNS), start=1):
        sheet.cell(1, col, header or None)
    for row, values in enumerate(AGENTS, start=2):
        for col, value in enumerate(values, start=1):
            sheet.cell(row, col, value)
    first_formula_col = len(inputs) + 2  # J
    last = 1 + len(AGENTS)
    for offset, text in enumerate(COLUMNS.values()):
        for row in range(2, last + 1):
            sheet.cell(row, first_formula_col + offset, text.format(r=row))
    col = first_formula_col + len(COLUMNS)
    for text in ARRAY_COLUMNS.values():
        letter = openpyxl.utils.get_column_letter(col)
        sheet.cell(2, col).value = ArrayFormula(f"{letter}2:{letter}{last}", text)
        col += 1
    for offset, text in enumerate(TOTALS):
        sheet.cell(last + 3 + offset, 11, text)
    for offset, text in enumerate(ROUND_CASES):
        sheet.cell(last + 3 + offset, 13, text)
    workbook.save(path)


def test_hand_made_workbook_agrees(engine: None, tmp_path: Path) -> None:
    path = tmp_path / "hand-made.xlsx"
    build_hand_made(path)
    computed, compared, mismatches, skipped = compare(path)
    expected_cells = (len(COLUMNS) + len(ARRAY_COLUMNS)) * len(AGENTS) + len(TOTALS) + len(
        ROUND_CASES)
    print(f"hand-made: {compared} formula cells compared, {len(skipped)} excluded")
    assert not skipped
    assert compared == expected_cells
    assert not mismatches, "\n".join(mismatches[:20])
    values = computed.result.values["考核"]
    round_row = 1 + len(AGENTS) + 3
    assert [values[(round_row + i, 13)] for i in range(len(ROUND_CASES))] == [
        1.01, 73.2, -3.0, 2.35, 1230.0, 0.29, -0.13, 2.68]
    codes = {kind for kind in (type(v).__name__ for v in values.values())}
    assert "float" in codes and "str" in codes
    assert any(isinstance(v, KpiError) for v in values.values()), "bad inputs give errors"


def test_excel_round_override() -> None:
    """The ROUND given to ``formulas`` is Excel's, not Python's or numpy's."""
    assert excel_round(1.005, 2) == 1.01
    assert excel_round(73.195, 2) == 73.2
    assert excel_round(-2.5, 0) == -3.0
    assert excel_round(2.5, 0) == 3.0
    assert excel_round(1234.5, -1) == 1230.0
    assert excel_round(1235, -1) == 1240.0
    assert excel_round(0.1 + 0.2, 15) == 0.3
