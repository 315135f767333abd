"""Plain (non-array) formulas whose value is a range or an array, in ``kpi-xl recalc``.

An xlsx stores Excel 365's dynamic-array formulas as array formulas (``t="array"``); a formula
stored without it is a legacy single-cell formula, which Excel computes by implicit
intersection (support.microsoft.com, "Implicit intersection operator: @"): a range gives its
cell on the formula's row or column (#VALUE! when there is none), an array — such as a KPI_
function's result over a whole range — its top-left value. So the recalc stores one value in
the formula's own cell and never writes into other cells.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpi_xl import functions
from kpi_xl.recalc.engine import Engine
from kpi_xl.workbook.headless import problem_lines, recalc_file
from kpi_xl.workbook.model import BookData, SheetData

RULE = "≥50%:100; <50%:0"


def _recalc(tmp_path: Path, cells: dict[str, object],
            arrays: dict[str, str] | None = None) -> tuple[dict[str, object], list[str]]:
    """Save a sheet ``S`` with ``cells`` (and array formulas: anchor → range), recalc it to a
    copy; the copy's cached values and the problem lines."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "S"
    for where, value in cells.items():
        sheet[where] = value
    for anchor, area in (arrays or {}).items():
        sheet[anchor] = openpyxl.worksheet.formula.ArrayFormula(area, str(cells[anchor]))
    source, copy = tmp_path / "book.xlsx", tmp_path / "out.xlsx"
    book.save(source)
    result = recalc_file(source, copy)
    saved = openpyxl.load_workbook(copy, data_only=True)["S"]
    values = {cell.coordinate: cell.value for row in saved.iter_rows() for cell in row
              if cell.value is not None}
    return values, problem_lines(result)


@pytest.mark.parametrize(("formula", "b1"), [
    (f'=KPI_TIER(A1:A2,"{RULE}")', 100),
    ("=KPI_RATE(A1:A2)", 0.6),
    ("=KPI_POOL(1000,A1:A2)", functions.kpi_pool(1000, [[0.6], [0.3]])[0, 0]),
])
def test_a_kpi_function_over_a_range_in_a_plain_formula_shows_its_top_left_value(
        tmp_path: Path, formula: str, b1: object) -> None:
    # the audit's reproducer: KeyError "S!B2 is not a formula cell" from the writer, no file
    values, problems = _recalc(tmp_path, {"A1": 0.6, "A2": 0.3, "B1": formula})
    assert problems == []
    assert values == {"A1": 0.6, "A2": 0.3, "B1": b1}  # nothing written into B2
    formulas = openpyxl.load_workbook(tmp_path / "out.xlsx")["S"]
    assert formulas["B1"].value == formula


def test_a_kpi_function_copied_down_shows_the_same_top_left_value_as_excel(
        tmp_path: Path) -> None:
    # Excel passes the range whole to the function in every row, and each cell shows the
    # top-left of the result (=@KPI_TIER(…) in Excel 365): not the row's own tier
    cells: dict[str, object] = {"A1": 0.6, "A2": 0.3}
    cells |= {f"B{r}": f'=KPI_TIER($A$1:$A$2,"{RULE}")' for r in (1, 2)}
    cells |= {f"C{r}": f'=KPI_TIER($A$1:$A$2,"{RULE}")*2' for r in (1, 2)}
    values, problems = _recalc(tmp_path, cells)
    assert problems == []
    assert [values[c] for c in ("B1", "B2", "C1", "C2")] == [100, 100, 200, 200]


def test_a_range_in_a_plain_formula_is_intersected_with_the_formula_row(
        tmp_path: Path) -> None:
    cells: dict[str, object] = {"A1": 1, "A2": 2, "A3": 3, "A10": 7, "B10": 8, "C10": 9}
    cells |= {"C1": "=A1:A3*10", "C2": "=$A$1:$A$3*10", "C3": "=$A$1:$A$3*10",
              "D2": "=A:A+1", "B1": "=$A$10:$C$10", "F1": '=IF($A$1:$A$3>1,"big","small")',
              "F3": '=IF($A$1:$A$3>1,"big","small")', "G1": "=ROW(A5:A9)",
              "H1": "={5,6}*2", "I1": "=C2+1"}
    values, problems = _recalc(tmp_path, cells)
    assert problems == []
    assert {key: values[key] for key in ("C1", "C2", "C3", "D2", "B1", "F1", "F3", "G1", "H1",
                                         "I1")} == {
        "C1": 10, "C2": 20, "C3": 30, "D2": 3, "B1": 8, "F1": "small", "F3": "big",
        "G1": 5, "H1": 10, "I1": 21}
    assert "C4" not in values and "B2" not in values


def test_a_range_off_the_formula_row_is_value_error_naming_the_cell(tmp_path: Path) -> None:
    cells: dict[str, object] = {"A1": 1, "A2": 2, "B5": "=$A$1:$A$2*2", "B6": "=$A$1:$A$2*2",
                                "C1": "=A1:B1", "D1": "=B5+1"}
    values, problems = _recalc(tmp_path, cells)
    assert values["B5"] == values["B6"] == values["C1"] == values["D1"] == "#VALUE!"
    message = ("区域与公式所在的行或列不相交 (隐式交集) (implicit intersection: the range is "
               "not on the formula's row or column)")
    assert problems == [f"S!B5: {message}", f"S!B6: {message}", f"S!C1: {message}"]


def test_a_kpi_function_given_a_computation_on_a_range_is_a_problem(tmp_path: Path) -> None:
    # Excel reduces A1:A2*1 to one value before calling the function: not decided here
    values, problems = _recalc(tmp_path, {"A1": 0.6, "A2": 0.3,
                                          "B1": f'=KPI_TIER(A1:A2*1,"{RULE}")'})
    assert "B1" not in values
    assert len(problems) == 1 and problems[0].startswith("S!B1: 无法离线计算")
    assert "KPI_TIER" in problems[0] and "implicit intersection" in problems[0]


def test_array_formulas_and_aggregates_are_unchanged(tmp_path: Path) -> None:
    cells: dict[str, object] = {"A1": 0.6, "A2": 0.3, "B1": f'=KPI_TIER(A1:A2,"{RULE}")',
                                "C1": f'=SUM(KPI_TIER(A1:A2,"{RULE}"))',
                                "D1": "=SUMPRODUCT(A1:A2*10)", "E1": "=A1:A2*10"}
    values, problems = _recalc(tmp_path, cells, arrays={"B1": "B1:B2", "E1": "E1:E2"})
    assert problems == []
    assert [values[key] for key in ("B1", "B2", "C1", "D1", "E1", "E2")] == [
        100, 0, 100, 9, 6, 3]


def test_engine_grouped_and_cell_by_cell_agree() -> None:
    sheet = SheetData("S", values={(r, 1): float(r) for r in range(1, 6)})
    for r in range(1, 8):
        sheet.formulas[(r, 2)] = "=$A$1:$A$5*2"
        sheet.formulas[(r, 3)] = f"=A{r}:A{r + 1}+B{r}"
    results = [Engine(BookData({"S": sheet}), {}, frozenset(), group_rows=grouped).run()
               for grouped in (True, False)]
    assert results[0].values == results[1].values
    values = results[0].values["S"]
    assert [values[(r, 2)] for r in range(1, 6)] == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert values[(6, 2)].code == "#VALUE!"
    assert values[(3, 3)] == 9.0


def test_an_argument_computing_on_a_range_is_a_problem_outside_array_arguments(
        tmp_path: Path) -> None:
    # legacy Excel: =SUM(A1:A3*B1:B3) typed in row 2 is A2*B2 (implicit intersection), not the
    # 32 a dynamic-array formula gives; SUMPRODUCT, LOOKUP's vectors and INDEX's array are
    # computed as arrays even in a plain formula
    cells: dict[str, object] = {f"A{r}": r for r in (1, 2, 3)} | {f"B{r}": r + 3 for r in (1, 2, 3)}
    cells |= {"C2": "=SUM(A1:A3*B1:B3)", "D2": "=MATCH(1,(A1:A3=2)*1,0)",
              "E2": "=IF(MAX(ABS(A1:A3))>0,1,0)", "F2": "=SUMPRODUCT((A1:A3>1)*B1:B3)",
              "G2": "=LOOKUP(2,1/(A1:A3=2),B1:B3)", "H2": "=INDEX((A1:A3>1)*B1:B3,3)",
              "I2": "=SUM(A1:A3)*2"}
    values, problems = _recalc(tmp_path, cells)
    assert [values[key] for key in ("F2", "G2", "H2", "I2")] == [11, 5, 6, 12]
    assert not {"C2", "D2", "E2"} & set(values)
    assert [line.split(":", 1)[0] for line in problems] == ["S!C2", "S!D2", "S!E2"]
    assert "SUM 的参数是对区域的运算" in problems[0] and "implicit intersection" in problems[0]
    assert "MATCH" in problems[1] and "MAX" in problems[2]
