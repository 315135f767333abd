"""The payroll's column storage reads exactly as the cells it stands for: a sheet filed by
column (``payroll/grid.Sheet``), 明细's tier texts made once per distinct value, and 明细's rows
made when read (``payroll/result.DetailRows``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_xl.core.notation import parse_rule
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import read_column
from kpi_xl.payroll.compute import _disagreements, _explained
from kpi_xl.payroll.grid import Sheet, is_blank
from kpi_xl.payroll.result import DetailRows
from kpi_xl.templates.specs import TEMPLATES
from kpi_xl.workbook.model import CellColumns
from tests.test_payroll_screen import CELLS

RULED = [item for template in TEMPLATES.values() for item in template.items if item.rule]


@settings(max_examples=200, deadline=None)
@given(cells=st.dictionaries(st.tuples(st.integers(1, 40), st.integers(1, 6)), CELLS,
                             max_size=60),
       order=st.randoms(use_true_random=False), within=st.sampled_from([None, 20]),
       picked=st.lists(st.integers(1, 41), unique=True), by_column=st.booleans())
def test_a_sheet_reads_each_cell_as_the_grid_holds_it(cells, order, within, picked,
                                                      by_column):
    items = list(cells.items())
    order.shuffle(items)  # an adapter may hand its cells in any order
    data = dict(items)
    sheet = Sheet(CellColumns(items) if by_column else data, within)

    def expected(row: int, col: int) -> object:
        value = data.get((row, col)) if within is None or row <= within else None
        return None if is_blank(value) else value

    assert sheet.rows == sorted({r for r, _ in data if within is None or r <= within})
    for row in range(42):
        for col in range(8):
            assert sheet.get((row, col)) is expected(row, col)
    for col in range(8):
        filed = [r for r in sheet.rows if (r, col) in data]
        for rows in (sorted(picked), filed):
            assert all(map(lambda a, b: a is b, sheet.column(col, rows),
                           [expected(r, col) for r in rows]))


@settings(max_examples=200, deadline=None)
@given(item=st.sampled_from(RULED),
       values=st.lists(st.one_of(CELLS, st.sampled_from([0.5, 0.95, 1.0, 90.0])), min_size=1,
                       max_size=16),
       points=st.lists(st.sampled_from([None, 0.0, 10.0, 20.0, 85.0, 100.0]), min_size=16,
                       max_size=16))
def test_tier_texts_made_once_per_value_are_each_cells_own(item, values, points):
    rule = parse_rule(item.rule)
    points = points[:len(values)]
    column = read_column(values)
    expected = explain(rule, column).values.tolist()
    for index in _disagreements(evaluate(rule, column), points):
        expected[index] = f"{expected[index]}; 得分按公式计算 ({item.definition})"
    texts = _explained(rule, item, values, points)
    assert texts == expected
    assert len({id(text) for text in texts}) == len(set(texts))  # equal texts: one object


def test_detail_rows_read_by_index_as_they_iterate():
    rows = DetailRows(["a", "b", "c"], ["A", "B", "C"], [
        ("x", [1.0, 2.0, 3.0], ["t1", "t2", "t3"], [10.0, 20.0, 30.0]),
        ("y", [None, "v", 4.0], ["u1", "u2", "u3"], [0.0, 1.0, 2.0])])
    listed = list(rows)
    assert len(rows) == len(listed) == 6
    assert listed[:2] == [("a", "A", "x", 1.0, "t1", 10.0), ("a", "A", "y", None, "u1", 0.0)]
    assert [rows[i] for i in range(-6, 6)] == listed * 2
    assert rows[1:5:2] == listed[1:5:2] and rows[::-1] == listed[::-1]
    with pytest.raises(IndexError):
        rows[6]
    assert list(DetailRows([], [], [])) == [] and list(DetailRows(["a"], ["A"], [])) == []
