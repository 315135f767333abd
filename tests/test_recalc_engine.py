"""Grouping, ordering, row-by-row fallback, cycles and reporting of the recalc engine."""

from __future__ import annotations

import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc.engine import Engine, RecalcResult
from kpi_xl.recalc.parser import parse
from kpi_xl.recalc.template import Template
from kpi_xl.workbook.model import BookData, SheetData


def run(sheets: list[SheetData], names: dict[str, str] | None = None,
        **options: object) -> tuple[RecalcResult, Engine]:
    book = BookData({s.name: s for s in sheets}, defined_names=names or {})
    engine = Engine(book, {}, frozenset(), **options)  # type: ignore[arg-type]
    return engine.run(), engine


def test_template_renders_the_next_rows_exactly() -> None:
    text = "=IF(C5>'规则'!$C$4,SUM(D5:K5)*{1,2}/C$3,\"C5\")+$A5+C4"
    template = Template(text, parse(text, 5))
    assert template.render(5) == text
    assert template.render(12) == "=IF(C12>'规则'!$C$4,SUM(D12:K12)*{1,2}/C$3,\"C5\")+$A12+C11"


def test_uniform_columns_become_one_group_each() -> None:
    sheet = SheetData("S")
    for r in range(2, 1002):
        sheet.values[(r, 1)] = float(r)
        sheet.formulas[(r, 2)] = f"=A{r}*2+$A$2"
        sheet.formulas[(r, 3)] = f"=B{r}-A{r - 1}" if r > 2 else "=B2"
    result, engine = run([sheet])
    assert engine.group_count == 3  # B2:B1001, C2, C3:C1001
    values = result.values["S"]
    assert values[(10, 2)] == 22.0 and values[(10, 3)] == 22.0 - 9.0 and values[(2, 3)] == 6.0


def test_running_total_is_evaluated_row_by_row() -> None:
    sheet = SheetData("S")
    for r in range(2, 12):
        sheet.values[(r, 1)] = float(r)
        sheet.formulas[(r, 2)] = f"=B{r - 1}+A{r}"  # B1 blank
        sheet.formulas[(r, 3)] = f"=SUM($A$2:A{r})"  # expanding range
        sheet.formulas[(r, 4)] = f"=C{r}-B{r}"
    result, _ = run([sheet])
    values = result.values["S"]
    for r in range(2, 12):
        expected = float(sum(range(2, r + 1)))
        assert values[(r, 2)] == expected and values[(r, 3)] == expected
        assert values[(r, 4)] == 0.0


def test_upward_references_are_ordered_too() -> None:
    sheet = SheetData("S", values={(6, 1): 1.0})
    for r in range(1, 6):
        sheet.formulas[(r, 1)] = f"=A{r + 1}*2"
    result, _ = run([sheet])
    assert [result.values["S"][(r, 1)] for r in range(1, 6)] == [32.0, 16.0, 8.0, 4.0, 2.0]


def test_cycles_are_not_computable_and_so_are_their_readers() -> None:
    sheet = SheetData("S", values={(1, 1): 1.0}, formulas={
        (1, 2): "=C1+1", (1, 3): "=B1*2", (1, 4): "=B1+A1", (1, 5): "=A1*3",
        (2, 2): "=SUM(B:B)",
    })
    result, _ = run([sheet])
    assert result.values["S"] == {(1, 5): 3.0}
    messages = {p.cell: p.message for p in result.not_computable}
    assert set(messages) == {"B1", "C1", "D1", "B2"}
    assert "循环引用" in messages["B1"] and "循环引用" in messages["C1"]
    assert "循环引用" in messages["B2"]
    assert "cannot be computed" in messages["D1"]


def test_cross_sheet_dependencies_and_names() -> None:
    rules = SheetData("规则", values={(1, 1): 0.5}, formulas={(2, 1): "=A1*2"})
    data = SheetData("数据")
    for r in range(1, 6):
        data.values[(r, 1)] = float(r)
        data.formulas[(r, 2)] = f"=A{r}*规则!$A$2+系数"
    result, _ = run([data, rules], names={"系数": "'规则'!$A$1"})
    assert [result.values["数据"][(r, 2)] for r in range(1, 6)] == [1.5, 2.5, 3.5, 4.5, 5.5]
    assert result.values["规则"] == {(2, 1): 1.0}


def test_errors_are_reported_where_they_arise_once() -> None:
    sheet = SheetData("S")
    for r in range(1, 5):
        sheet.values[(r, 1)] = float(r - 2)  # -1, 0, 1, 2
        sheet.formulas[(r, 2)] = f"=1/A{r}"
        sheet.formulas[(r, 3)] = f"=B{r}+1"
    sheet.values[(5, 1)] = "#N/A"
    sheet.formulas[(5, 2)] = "=A5*2"
    sheet.formulas[(5, 3)] = "=A5+1"
    result, _ = run([sheet])
    values = result.values["S"]
    assert isinstance(values[(2, 2)], KpiError) and values[(2, 2)].code == "#DIV/0!"
    assert values[(2, 3)].code == "#DIV/0!" and values[(5, 3)].code == "#N/A"
    assert sorted((p.cell, p.message) for p in result.problems) == [
        ("A5", "输入是错误值 #N/A, 请先修正来源单元格 (input is the error value #N/A; fix the "
               "source cell first)"),
        ("B2", "除数为零 (division by zero)"),
    ]


def test_chunked_evaluation_matches_whole_group() -> None:
    sheet = SheetData("S")
    for r in range(1, 101):
        sheet.values[(r, 1)] = float(r % 7)
        sheet.formulas[(r, 2)] = f"=SUMPRODUCT(($A$1:$A$100=A{r})*($A$1:$A$100))"
    whole, _ = run([sheet])
    chunked, _ = run([sheet], chunk_elements=250)
    assert whole.values == chunked.values
    assert whole.values["S"][(3, 2)] == 3.0 * sum(1 for r in range(1, 101) if r % 7 == 3)


def test_blank_results_are_zero_and_strings_stay() -> None:
    sheet = SheetData("S", values={(1, 1): "好"}, formulas={
        (1, 2): "=C1", (1, 3): "=D9", (1, 4): "=A1", (1, 5): "=\"\"",
    })
    result, _ = run([sheet])
    assert result.values["S"] == {(1, 2): 0.0, (1, 3): 0.0, (1, 4): "好", (1, 5): ""}


def test_plain_formula_whose_value_stays_an_array_is_not_computable() -> None:
    # a function of no range returning two values: which one Excel shows is not decided here
    sheet = SheetData("S", formulas={(1, 2): "=KPI_PAIR()", (2, 2): "=KPI_PAIR()"})
    result = Engine(BookData({"S": sheet}), {"KPI_PAIR": lambda: [[1.0], [2.0]]},
                    frozenset()).run()
    assert result.values["S"] == {}
    assert [p.cell for p in result.not_computable] == ["B1", "B2"]
    assert all("implicit intersection" in p.message for p in result.not_computable)


def test_plain_formula_is_one_value_and_array_formula_fills_its_range() -> None:
    sheet = SheetData("S", values={(1, 1): 1.0, (2, 1): 2.0, (3, 1): 3.0},
                      formulas={(1, 3): "=A1:A3*10", (1, 4): "=C3+1", (1, 5): "=A1:A2+1"},
                      array_formulas={(1, 5): "E1:E3"})
    result, _ = run([sheet])
    values = result.values["S"]
    assert values[(1, 3)] == 10.0  # implicit intersection: A1*10, nothing in C2:C3
    assert (2, 3) not in values and (3, 3) not in values
    assert values[(1, 4)] == 1.0  # C3 stays blank
    assert [values[(r, 5)] for r in (1, 2)] == [2.0, 3.0]
    assert values[(3, 5)].code == "#N/A"  # the array formula's range beyond its result


@pytest.mark.parametrize("text", ["=SUM(A1:A3", "=1+", "=A1 B1", "=Sheet1:Sheet3!A1", "=@A1"])
def test_syntax_not_understood_is_not_computable(text: str) -> None:
    result, _ = run([SheetData("S", formulas={(1, 2): text})])
    assert result.values["S"] == {}
    assert [p.cell for p in result.not_computable] == ["B1"]
