"""Property: a column of formulas evaluated as one group equals evaluating every cell alone."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc.engine import Engine
from kpi_xl.workbook.model import BookData, SheetData

FIRST, LAST = 2, 24  # formula rows (inputs fill rows 1 … 25)

cell_values = st.one_of(
    st.integers(-5, 50).map(float),
    st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3)),
    st.just(0.0), st.none(), st.sampled_from(["abc", "3", "张三", "", "#N/A", "#DIV/0!"]),
    st.booleans(),
)

refs = st.one_of(
    st.tuples(st.sampled_from("ABCD"), st.sampled_from(["{rm}", "{r}", "{r}", "{rp}"])).map(
        lambda t: t[0] + t[1]),
    st.sampled_from(["$A$1", "$B$1", "$C$1", "$D$1", "$A{r}", "B$3"]),
)
literals = st.one_of(st.integers(0, 9).map(str), st.sampled_from(["0.5", "\"x\"", "\"2\"",
                                                                  "TRUE", "1.25"]))


def expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(refs, literals)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        operators = st.sampled_from(["+", "-", "*", "/", "^", "&", "=", "<", ">=", "<>"])
        binary = st.tuples(inner, operators, inner).map("({0[0]}{0[1]}{0[2]})".format)
        calls = st.one_of(
            st.tuples(inner, inner, inner).map("IF({0[0]},{0[1]},{0[2]})".format),
            st.tuples(inner, inner).map("IFERROR({0[0]},{0[1]})".format),
            st.tuples(inner, st.integers(-1, 2)).map("ROUND({0[0]},{0[1]})".format),
            inner.map("ABS({})".format), inner.map("-{}".format), inner.map("{}%".format),
            inner.map("LEN({})".format), inner.map("INT({})".format),
            st.tuples(inner, inner).map("MOD({0[0]},{0[1]})".format),
            st.tuples(inner, inner).map("AND({0[0]},{0[1]})".format),
            refs.map("ISBLANK({})".format),
            st.just("SUM(A{r}:D{r})"), st.just("MAX(A{rm}:B{rp})"), st.just("AVERAGE(A{r}:D{r})"),
            st.just("SUMPRODUCT(A{r}:B{r},$C$1:$D$1)"), inner.map("COUNTIF($A$1:$A$25,{})".format),
            st.just("RANK(A{r},$A$1:$A$25)"), st.just("COUNTA(A{rm}:D{r})"),
            inner.map("MATCH({},$B$1:$B$25,0)".format),
            inner.map("VLOOKUP({},$A$1:$D$25,2,FALSE)".format),
            st.tuples(inner, inner).map("_xlfn.IFS({0[0]},{0[1]},TRUE,0)".format),
        )
        return st.one_of(binary, calls)

    return st.recursive(leaves, extend, max_leaves=6)


def values_equal(a: object, b: object) -> bool:
    if isinstance(a, KpiError) or isinstance(b, KpiError):
        return isinstance(a, KpiError) and isinstance(b, KpiError) and a.code == b.code
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cell_values, min_size=100, max_size=100), expressions())
def test_group_evaluation_equals_cell_by_cell(inputs: list[object], expression: str) -> None:
    sheet = SheetData("S")
    for index, value in enumerate(inputs):
        row, col = divmod(index, 4)
        sheet.values[(row + 1, col + 1)] = value
    for r in range(FIRST, LAST + 1):
        sheet.formulas[(r, 5)] = "=" + expression.format(r=r, rm=r - 1, rp=r + 1)
    book = BookData({"S": sheet})
    grouped_engine = Engine(book, {}, frozenset())
    grouped = grouped_engine.run()
    single = Engine(book, {}, frozenset(), group_rows=False).run()
    assert grouped_engine.group_count == 1
    assert sorted(grouped.not_computable, key=str) == sorted(single.not_computable, key=str)
    left, right = grouped.values["S"], single.values["S"]
    assert left.keys() == right.keys()
    for cell in left:
        assert values_equal(left[cell], right[cell]), (cell, left[cell], right[cell])
    assert sorted((p.cell, p.message) for p in grouped.problems) == sorted(
        (p.cell, p.message) for p in single.problems)
