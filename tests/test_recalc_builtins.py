"""Each builtin of the recalc engine, with numbers worked by hand, incl. error propagation."""

from __future__ import annotations

import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc import recalculate
from kpi_xl.workbook.model import BookData, SheetData

# Data sheet used by most tests:
#   A      B        C     D
# 1 10     张三      5     TRUE
# 2 20     李四      (blank) "3"
# 3 30     张三丰    -2.5  #N/A
# 4 40     王五      0     abc
# 5 (blank) 张三      7
DATA = {
    (1, 1): 10.0, (2, 1): 20.0, (3, 1): 30.0, (4, 1): 40.0,
    (1, 2): "张三", (2, 2): "李四", (3, 2): "张三丰", (4, 2): "王五", (5, 2): "张三",
    (1, 3): 5.0, (3, 3): -2.5, (4, 3): 0.0, (5, 3): 7.0,
    (1, 4): True, (2, 4): "3", (3, 4): "#N/A", (4, 4): "abc",
}


def calc(formula: str, extra: dict | None = None, *, array: bool = False) -> object:
    """Value of ``formula`` typed in Z1 of a sheet holding DATA (``array``: as an array
    formula, which a function given a computation on a range needs, as in Excel)."""
    sheet = SheetData("S", values={**DATA, **(extra or {})}, formulas={(1, 26): formula},
                      array_formulas={(1, 26): "Z1"} if array else {})
    result = recalculate(BookData({"S": sheet}), functions={}, rowwise=frozenset())
    assert not result.not_computable, result.not_computable
    return result.values["S"][(1, 26)]


def code(value: object) -> str | None:
    return value.code if isinstance(value, KpiError) else None


@pytest.mark.parametrize(("formula", "expected"), [
    ("=1+2*3", 7.0), ("=(1+2)*3", 9.0), ("=2^3^2", 64.0), ("=-2^2", 4.0), ("=2^-1", 0.5),
    ("=50%", 0.5), ("=A1%", 0.1), ("=10-A2/4", 5.0), ("=A1&\"元\"", "10元"),
    ("=\"a\"&TRUE&1.5", "aTRUE1.5"), ("=C2+1", 1.0), ("=C2&\"x\"", "x"), ("=D2*2", 6.0),
    ("=D1+1", 2.0), ("=1/3&\"\"", "0.333333333333333"), ("=0.1+0.2=0.3", True),
    ("=\"abc\"=\"ABC\"", True), ("=\"a\"<\"b\"", True), ("=1<\"a\"", True),
    ("=\"a\"<TRUE", True), ("=C2=0", True), ("=C2=\"\"", True), ("=A1<>10", False),
    ("=A1>=10", True), ("=A1<=9", False), ("=\"张三\"&B2", "张三李四"),
])
def test_operators(formula: str, expected: object) -> None:
    assert calc(formula) == expected


@pytest.mark.parametrize(("formula", "error"), [
    ("=1/0", "#DIV/0!"), ("=A1/C4", "#DIV/0!"), ("=B1+1", "#VALUE!"), ("=-D4", "#VALUE!"),
    ("=D3+1", "#N/A"), ("=D3&\"x\"", "#N/A"), ("=1/0+D3", "#DIV/0!"), ("=D3+1/0", "#N/A"),
    ("=#REF!", "#REF!"), ("=D3>1", "#N/A"), ("=0^-1", "#DIV/0!"), ("=(-8)^0.5", "#NUM!"),
])
def test_operator_errors(formula: str, error: str) -> None:
    assert code(calc(formula)) == error


@pytest.mark.parametrize(("formula", "expected"), [
    ("=ROUND(1.005,2)", 1.01), ("=ROUND(73.195,2)", 73.2), ("=ROUND(-2.5,0)", -3.0),
    ("=ROUND(1.15*3,1)", 3.5),  # 15 significant digits: 3.45, as Excel and LibreOffice
    ("=ROUND(2.5,0)", 3.0), ("=ROUND(2.675,2)", 2.68), ("=ROUND(1234.5,-2)", 1200.0),
    ("=ROUND(-1.005,2)", -1.01), ("=ROUND(0.285,2)", 0.29), ("=ROUND(C3,0)", -3.0),
    ("=ROUNDUP(3.201,2)", 3.21), ("=ROUNDUP(-3.2,0)", -4.0), ("=ROUNDDOWN(3.299,2)", 3.29),
    ("=ROUNDDOWN(-3.9,0)", -3.0), ("=INT(-2.5)", -3.0), ("=INT(2.9)", 2.0), ("=ABS(C3)", 2.5),
    ("=MOD(7,3)", 1.0), ("=MOD(-7,3)", 2.0), ("=VALUE(\"47%\")", 0.47),
])
def test_maths(formula: str, expected: float) -> None:
    assert calc(formula) == expected


def test_maths_errors() -> None:
    assert code(calc("=ROUND(D3,2)")) == "#N/A"
    assert code(calc("=ROUND(B1,2)")) == "#VALUE!"
    assert code(calc("=MOD(1,0)")) == "#DIV/0!"


@pytest.mark.parametrize(("formula", "expected"), [
    ("=IF(A1>5,\"高\",\"低\")", "高"), ("=IF(A1>50,1)", False), ("=IF(C2,1,2)", 2.0),
    ("=IF(A1,C2,2)", 0.0), ("=IF(\"TRUE\",1,2)", 1.0), ("=IF(A1>5,,1)", 0.0),
    ("=IFERROR(1/0,\"除零\")", "除零"), ("=IFERROR(D3,0)", 0.0), ("=IFERROR(5,0)", 5.0),
    ("=IFNA(D3,\"无\")", "无"), ("=ISBLANK(C2)", True), ("=ISBLANK(C1)", False),
    ("=ISNUMBER(D2)", False), ("=ISNUMBER(A1)", True), ("=ISERROR(D3)", True),
    ("=ISERROR(A1)", False), ("=ISTEXT(B1)", True), ("=ISNA(D3)", True),
    ("=AND(A1>5,C1>1)", True), ("=AND(A1>5,C1>9)", False), ("=OR(A1>50,C1>1)", True),
    ("=OR(A1:A4>35)", True), ("=AND(A1:A4>5)", True), ("=NOT(A1>5)", False),
    ("=_xlfn.IFS(A1>50,1,A1>5,2,TRUE,3)", 2.0),
    ("=_xlfn.SWITCH(B1,\"李四\",1,\"张三\",2,9)", 2.0), ("=_xlfn.SWITCH(A1,1,1,9)", 9.0),
])
def test_logic(formula: str, expected: object) -> None:
    assert calc(formula, array=":" in formula) == expected  # OR(A1:A4>35): array formula


def test_logic_errors() -> None:
    assert code(calc("=IF(D3,1,2)")) == "#N/A"
    assert code(calc("=IF(B1,1,2)")) == "#VALUE!"
    assert code(calc("=IFNA(1/0,0)")) == "#DIV/0!"
    assert code(calc("=_xlfn.IFS(A1>50,1)")) == "#N/A"
    assert code(calc("=_xlfn.SWITCH(A1,1,1)")) == "#N/A"
    assert code(calc("=AND(A1:A4>5,D3)", array=True)) == "#N/A"
    assert code(calc("=AND(B1:B5)")) == "#VALUE!"
    assert calc("=IF(A1>5,1,1/0)") == 1.0  # the branch not taken does not matter


@pytest.mark.parametrize(("formula", "expected"), [
    ("=SUM(A1:A5)", 100.0), ("=SUM(A1:A5,C1:C5)", 109.5), ("=SUM(A1,\"5\",TRUE)", 16.0),
    ("=SUM(D1:D2)", 0.0), ("=SUM(A:A)", 100.0), ("=MIN(A1:C5)", -2.5), ("=MAX(A1:C5)", 40.0),
    ("=MAX(B1:B5)", 0.0), ("=AVERAGE(A1:A5)", 25.0), ("=AVERAGE(C1:C5)", 2.375),
    ("=COUNT(A1:D5)", 8.0), ("=COUNT(A1,\"2\",\"x\")", 2.0), ("=COUNTA(A1:D5)", 17.0),
    ("=SUMPRODUCT(A1:A4,C1:C4)", -25.0), ("=SUMPRODUCT((B1:B5=\"张三\")*A1:A5)", 10.0),
    ("=SUMPRODUCT(A1:A2,D1:D2)", 0.0),
])
def test_aggregates(formula: str, expected: float) -> None:
    assert calc(formula) == pytest.approx(expected)


def test_aggregate_errors() -> None:
    assert code(calc("=SUM(A1:D5)")) == "#N/A"
    assert code(calc("=SUM(\"x\",1)")) == "#VALUE!"
    assert code(calc("=AVERAGE(B1:B5)")) == "#DIV/0!"
    assert code(calc("=MAX(A1,D3)")) == "#N/A"
    assert code(calc("=SUMPRODUCT(A1:A4,C1:C3)")) == "#VALUE!"
    assert calc("=COUNT(D1:D5)") == 0.0  # errors are not counted and do not propagate


@pytest.mark.parametrize(("formula", "expected"), [
    ("=COUNTIF(A1:A5,\">15\")", 3.0), ("=COUNTIF(A1:A5,20)", 1.0),
    ("=COUNTIF(B1:B5,\"张三\")", 2.0), ("=COUNTIF(B1:B5,\"张*\")", 3.0),
    ("=COUNTIF(B1:B5,\"<>张三\")", 3.0), ("=COUNTIF(C1:C5,\"\")", 1.0),
    ("=COUNTIF(C1:C5,\"<>\")", 4.0), ("=COUNTIF(A1:A5,\">=\"&A2)", 3.0),
    ("=COUNTIF(D1:D5,TRUE)", 1.0), ("=COUNTIF(A1:A5,C2)", 0.0), ("=COUNTIF(C1:C5,C2)", 1.0),
    ("=COUNTIFS(A1:A5,\">15\",B1:B5,\"张*\")", 1.0),
    ("=SUMIF(B1:B5,\"张三\",A1:A5)", 10.0), ("=SUMIF(A1:A5,\">15\")", 90.0),
    ("=SUMIFS(A1:A5,B1:B5,\"<>王五\",C1:C5,\">-5\")", 40.0),
    ("=AVERAGEIF(B1:B5,\"张*\",A1:A5)", 20.0), ("=AVERAGEIF(A1:A5,\"<25\")", 15.0),
])
def test_criteria(formula: str, expected: float) -> None:
    assert calc(formula) == pytest.approx(expected)


def test_criteria_errors() -> None:
    assert code(calc("=AVERAGEIF(A1:A5,\">99\")")) == "#DIV/0!"
    assert code(calc("=COUNTIF(A1:A5,D3)")) == "#N/A"
    assert code(calc("=SUMIF(A1:A4,\">0\",D1:D4)")) == "#N/A"
    assert code(calc("=COUNTIFS(A1:A5,1,B1:B4,1)")) == "#VALUE!"


@pytest.mark.parametrize(("formula", "expected"), [
    ("=RANK(A2,A1:A5)", 3.0), ("=RANK(A2,A1:A5,1)", 2.0), ("=_xlfn.RANK.EQ(A4,A1:A4)", 1.0),
    ("=RANK(5,{5,7,5,1})", 2.0), ("=RANK(1,{5,7,5,1})", 4.0), ("=RANK(5,{5,7,5,1},1)", 2.0),
    ("=MATCH(\"王五\",B1:B5,0)", 4.0), ("=MATCH(25,A1:A4)", 2.0),
    ("=MATCH(\"张三*\",B1:B5,0)", 1.0),
    ("=MATCH(25,{40,30,20,10},-1)", 2.0), ("=INDEX(A1:A5,3)", 30.0), ("=INDEX(A1:D5,4,2)", "王五"),
    ("=INDEX(A1:C1,3)", 5.0), ("=INDEX(A1:A5,5)", 0.0),
    ("=VLOOKUP(30,A1:C4,3,FALSE)", -2.5), ("=VLOOKUP(35,A1:B4,2)", "张三丰"),
    ("=VLOOKUP(\"李四\",B1:C5,1,0)", "李四"), ("=HLOOKUP(\"张三\",A1:D2,2,FALSE)", "李四"),
    ("=LOOKUP(25,A1:A4,B1:B4)", "李四"), ("=LOOKUP(99,{0,60,80},{\"C\",\"B\",\"A\"})", "A"),
    ("=LOOKUP(60,{0,60,80},{\"C\",\"B\",\"A\"})", "B"),
])
def test_lookups(formula: str, expected: object) -> None:
    assert calc(formula) == expected


def test_lookup_errors() -> None:
    assert code(calc("=RANK(99,A1:A5)")) == "#N/A"
    assert code(calc("=RANK(B1,A1:A5)")) == "#VALUE!"
    assert code(calc("=MATCH(\"赵六\",B1:B5,0)")) == "#N/A"
    assert code(calc("=MATCH(5,A1:A4)")) == "#N/A"
    assert code(calc("=INDEX(A1:A5,9)")) == "#REF!"
    assert code(calc("=VLOOKUP(99,A1:C4,2,FALSE)")) == "#N/A"
    assert code(calc("=VLOOKUP(10,A1:C4,5,FALSE)")) == "#REF!"
    assert code(calc("=VLOOKUP(D3,A1:C4,2,FALSE)")) == "#N/A"
    assert code(calc("=LOOKUP(5,A1:A4,B1:B4)")) == "#N/A"


@pytest.mark.parametrize(("formula", "expected"), [
    ("=LEN(B3)", 3.0), ("=LEN(A1)", 2.0), ("=TRIM(\"  a   b \")", "a b"),
    ("=CONCAT(B1:B2,\"-\",A1)", "张三李四-10"), ("=CONCATENATE(B1,\"得分\",C1)", "张三得分5"),
    ("=_xlfn.CONCAT(A1,\"%\")", "10%"), ("=TEXT(0.4567,\"0.0%\")", "45.7%"),
    ("=TEXT(1234.5,\"#,##0.00\")", "1,234.50"), ("=TEXT(2.5,\"0\")", "3"),
    ("=TEXT(B1,\"0.00\")", "张三"), ("=TEXT(-0.125,\"0.00\")", "-0.13"),
    ("=ROW()", 1.0), ("=ROW(C7)", 7.0), ("=COLUMN()", 26.0), ("=COLUMN(D1)", 4.0),
    ("=SUMPRODUCT(ROW(A1:A3))", 6.0),
])
def test_text_and_position(formula: str, expected: object) -> None:
    assert calc(formula) == expected


def test_text_errors() -> None:
    assert code(calc("=LEN(D3)")) == "#N/A"
    assert code(calc("=CONCAT(A1:A5,D3)")) == "#N/A"


def test_names_and_sheets() -> None:
    rules = SheetData("规则", values={(4, 3): 0.8, (4, 4): 2.0, (5, 4): 3.0})
    data = SheetData("考核", values={(5, 1): 100.0}, formulas={
        (5, 2): "=A5*'规则'!$C$4", (5, 3): "=A5*系数", (5, 4): "=SUM(规则!D4:D5)+SUM(区间)",
    })
    book = BookData({"考核": data, "规则": rules},
                    defined_names={"系数": "规则!$C$4", "区间": "'规则'!$D$4:$D$5"})
    result = recalculate(book, functions={}, rowwise=frozenset())
    assert result.values["考核"] == {(5, 2): 80.0, (5, 3): 80.0, (5, 4): 10.0}


def test_unsupported_is_not_computable() -> None:
    sheet = SheetData("S", values={(1, 1): 2.0}, formulas={
        (1, 2): "=OFFSET(A1,1,0)", (1, 3): "=B1+1", (1, 4): "=A1*2", (1, 5): "=[1]Other!A1",
        (1, 6): "=未定义名称*2", (1, 7): "=TEXT(A1,\"yyyy-mm-dd\")"})
    result = recalculate(BookData({"S": sheet}), functions={}, rowwise=frozenset())
    assert result.values["S"] == {(1, 4): 4.0}
    assert {p.cell for p in result.not_computable} == {"B1", "C1", "E1", "F1", "G1"}
    by_cell = {p.cell: p.message for p in result.not_computable}
    assert "OFFSET" in by_cell["B1"]
    assert "B1" in by_cell["C1"]
