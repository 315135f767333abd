"""The workbook model's column stores behave exactly like the dicts they replace.

A sheet of 100,000 agents is held by column (``CellColumns``), formulas filled down as one
text per run of rows (``FormulaRuns``) and computed results as one list per run
(``ValueRuns``); every one of them must read, write and delete like a plain dict.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kpi_xl.core.cells import row_pattern
from kpi_xl.workbook.model import (
    CellColumns,
    FormulaRuns,
    Formulas,
    SheetData,
    ValueRuns,
)

ROWS = st.integers(min_value=1, max_value=40)
OPERATIONS = st.lists(st.tuples(st.sampled_from(["set", "run", "delete"]), ROWS,
                                st.integers(min_value=1, max_value=6)), max_size=60)


def assert_reads_as(runs: FormulaRuns | ValueRuns, expected: dict) -> None:
    """``runs`` holds what the dict ``expected`` holds, rows in order."""
    assert list(runs.items()) == sorted(expected.items())
    assert len(runs) == len(expected)
    assert list(runs) == sorted(expected)


def formula_text(row: int, kind: int) -> str:
    """Formula texts of the shapes a column holds: relative rows, a row number that is also
    a constant or an absolute reference, none at all."""
    return ["=A{r}*2", "=B{r}+{r}", "=$C$5+A{r}", "=C1", "=SUM($D$5:$D$15)-D{r}",
            "=IF($A{r}=\"\",\"\",KPI_TIER(T{r},规则!$C$10))"][kind % 6].format(r=row)


@given(OPERATIONS)
def test_formula_runs_read_and_write_like_a_dict(operations: list[tuple[str, int, int]]) -> None:
    runs, expected = FormulaRuns(), {}
    for operation, row, kind in operations:
        text = formula_text(row, kind)
        if operation == "set":
            runs[row] = text
            expected[row] = text
        elif operation == "run":
            for offset in range(kind):
                below = runs.last_row() + 1 + offset
                runs.append(below, row_pattern(formula_text(below, row), below))
                expected[below] = formula_text(below, row)
        elif row in expected:
            del runs[row]
            del expected[row]
        assert_reads_as(runs, expected)


def test_a_filled_down_column_is_one_run_whatever_its_absolute_rows() -> None:
    runs = FormulaRuns()
    for row in range(5, 10_005):
        runs[row] = formula_text(row, 5)
    # row 10's number is also in 规则!$C$10: that row is a run of its own
    assert [(start, end) for start, end, _ in runs.runs()] == [
        (5, 9), (10, 10), (11, 10_004)]
    assert runs[10] == formula_text(10, 5) and runs[777] == formula_text(777, 5)


@given(OPERATIONS)
def test_value_runs_read_and_write_like_a_dict(operations: list[tuple[str, int, int]]) -> None:
    runs: ValueRuns[float] = ValueRuns()
    expected: dict[int, float] = {}
    for operation, row, size in operations:
        if operation == "set":
            runs[row] = row * 1.5
            expected[row] = row * 1.5
        elif operation == "run":
            values = [row + offset / 10 for offset in range(size)]
            runs.put_run(row, values)
            expected.update(zip(range(row, row + size), values, strict=True))
        elif row in expected:
            del runs[row]
            del expected[row]
        assert_reads_as(runs, expected)


@given(st.dictionaries(st.tuples(ROWS, ROWS), st.floats(allow_nan=False)))
def test_cell_columns_equal_the_dict_they_were_made_from(cells: dict) -> None:
    columns = CellColumns(cells)
    assert columns == cells
    in_columns = sorted(cells, key=lambda cell: (cell[1], cell[0]))
    assert list(columns) == in_columns
    assert list(columns.items()) == [(cell, cells[cell]) for cell in in_columns]
    assert list(columns.values()) == [cells[cell] for cell in in_columns]
    for cell in list(cells)[::2]:
        del columns[cell]
        assert cell not in columns and columns.get(cell) is None


def test_sheet_data_files_plain_dicts_by_column() -> None:
    sheet = SheetData("S", values={(1, 1): 2.0}, formulas={(2, 1): "=A1*2", (3, 1): "=A2*2"})
    assert isinstance(sheet.values, CellColumns) and isinstance(sheet.formulas, Formulas)
    assert sheet.formulas == {(2, 1): "=A1*2", (3, 1): "=A2*2"}
    assert sheet.max_row == 3 and sheet.max_column == 1
    assert sheet.formulas.mention(["A2"]) and not sheet.formulas.mention(["规则"])
