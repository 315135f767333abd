"""KPI_ functions through a stub registry: one call per group, results placed right."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.recalc import recalculate
from kpi_xl.recalc.engine import Engine
from kpi_xl.workbook.model import BookData, SheetData

ROWS = range(5, 105)  # 100 agents


class Stub:
    """A registry whose functions record every call (name, argument shapes)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[int, ...]]]] = []

    def record(self, name: str, *args: object) -> None:
        self.calls.append((name, [np.shape(a) for a in args]))

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)

    def kpi_tier(self, value: object, rule: object) -> np.ndarray:
        """Stub rule: rate ≥ threshold → 100, else 60; text → error."""
        self.record("KPI_TIER", value, rule)
        values = np.asarray(value, dtype=object).reshape(-1, 1)
        out = np.empty(values.shape, dtype=object)
        for i, v in enumerate(values[:, 0]):
            if isinstance(v, KpiError):  # an error cell comes in as its error: pass it on
                out[i, 0] = v
            elif isinstance(v, str):
                out[i, 0] = ValueProblem(f"不是数字: {v}", f"not a number: {v}")
            else:
                out[i, 0] = 100.0 if (v or 0.0) >= float(rule) else 60.0  # type: ignore[arg-type]
        return out

    def kpi_score(self, scores: object, weights: object) -> np.ndarray:
        self.record("KPI_SCORE", scores, weights)
        matrix = np.asarray(scores, dtype=float).reshape(-1, np.size(weights))
        return (matrix @ np.asarray(weights, dtype=float).reshape(-1, 1)).astype(object)

    def kpi_pool(self, pool: object, scores: object) -> np.ndarray:
        """Non-row-wise: pool split in proportion to scores."""
        self.record("KPI_POOL", pool, scores)
        column = np.asarray(scores, dtype=float).reshape(-1, 1)
        return (float(pool) * column / column.sum()).astype(object)  # type: ignore[arg-type]

    def kpi_fail(self, value: object) -> np.ndarray:
        self.record("KPI_FAIL", value)
        raise KpiError("规则写错了", "bad rule", code="#VALUE!")

    @property
    def functions(self) -> dict[str, object]:
        return {"KPI_TIER": self.kpi_tier, "KPI_SCORE": self.kpi_score,
                "KPI_POOL": self.kpi_pool, "KPI_FAIL": self.kpi_fail}


ROWWISE = frozenset({"KPI_TIER", "KPI_SCORE", "KPI_FAIL"})


def agents() -> SheetData:
    sheet = SheetData("考核")
    sheet.values[(1, 6)] = 0.5  # F1: tier threshold
    sheet.values[(1, 10)] = 10_000.0  # J1: bonus pool
    for col, weight in ((4, 0.5), (5, 0.3), (6, 0.2)):
        sheet.values[(2, col)] = weight  # D2:F2 weights
    for r in ROWS:
        sheet.values[(r, 2)] = (r % 10) / 10  # B: rate 0.0 … 0.9
        for col in (4, 5, 6):
            sheet.values[(r, col)] = float(60 + (r * col) % 40)  # D:F scores
    return sheet


def run(sheet: SheetData, stub: Stub) -> tuple:
    engine = Engine(BookData({sheet.name: sheet}), stub.functions, ROWWISE)  # type: ignore[arg-type]
    return engine.run(), engine


def test_rowwise_function_is_called_once_per_group() -> None:
    sheet = agents()
    for r in ROWS:
        sheet.formulas[(r, 3)] = f"=KPI_TIER(B{r},$F$1)"
        sheet.formulas[(r, 7)] = f"=ROUND(KPI_SCORE(D{r}:F{r},$D$2:$F$2)*1.1,1)"
    stub = Stub()
    result, engine = run(sheet, stub)
    assert engine.group_count == 2
    assert stub.count("KPI_TIER") == 1 and stub.count("KPI_SCORE") == 1
    shapes = dict(stub.calls)
    assert shapes["KPI_TIER"] == [(100, 1), ()]  # per-row cells stacked, the rule as it is
    assert shapes["KPI_SCORE"] == [(100, 3), (1, 3)]
    values = result.values["考核"]
    for r in ROWS:
        assert values[(r, 3)] == (100.0 if (r % 10) / 10 >= 0.5 else 60.0)
        d, e, f = (float(60 + (r * col) % 40) for col in (4, 5, 6))
        exact = Decimal(repr((0.5 * d + 0.3 * e + 0.2 * f) * 1.1))
        expected = float(exact.quantize(Decimal("0.1"), ROUND_HALF_UP))
        assert values[(r, 7)] == pytest.approx(expected)
    assert not result.problems and not result.not_computable


def test_kpi_errors_are_cached_codes_with_one_message_each() -> None:
    sheet = agents()
    sheet.values[(7, 2)] = "九成"
    sheet.values[(8, 2)] = "#DIV/0!"
    for r in ROWS:
        sheet.formulas[(r, 3)] = f"=KPI_TIER(B{r},$F$1)"
        sheet.formulas[(r, 4 + 4)] = f"=C{r}*2"  # H: propagates C's errors
    stub = Stub()
    result, _ = run(sheet, stub)
    values = result.values["考核"]
    assert isinstance(values[(7, 3)], KpiError) and values[(7, 3)].code == "#VALUE!"
    assert isinstance(values[(7, 8)], KpiError)  # propagated …
    cells = sorted(p.cell for p in result.problems)
    assert cells == ["B8", "C7"]  # … but listed once, where it arose (B8: typed #DIV/0!)
    assert "九成" in next(p.message for p in result.problems if p.cell == "C7")
    assert stub.calls[0][0] == "KPI_TIER"


def test_raised_kpi_error_fills_the_group() -> None:
    sheet = agents()
    for r in ROWS:
        sheet.formulas[(r, 3)] = f"=KPI_FAIL(B{r})"
    stub = Stub()
    result, _ = run(sheet, stub)
    assert stub.count("KPI_FAIL") == 1
    assert all(result.values["考核"][(r, 3)].code == "#VALUE!" for r in ROWS)
    assert len(result.problems) == len(ROWS)


def test_pool_as_array_formula_then_used_downstream() -> None:
    sheet = agents()
    for r in ROWS:
        sheet.formulas[(r, 7)] = f"=SUM(D{r}:F{r})"  # G: total score
        sheet.formulas[(r, 9)] = f"=H{r}*2"  # I reads the array formula's cells
    sheet.formulas[(5, 8)] = "=KPI_POOL($J$1,G5:G104)"
    sheet.array_formulas[(5, 8)] = "H5:H104"
    sheet.values[(6, 8)] = 123.0  # a stale cached value inside the array range
    stub = Stub()
    result, _ = run(sheet, stub)
    assert stub.count("KPI_POOL") == 1
    assert stub.calls[-1][1] == [(), (100, 1)]
    values = result.values["考核"]
    totals = np.array([values[(r, 7)] for r in ROWS])
    pool = np.array([values[(r, 8)] for r in ROWS])
    assert pool == pytest.approx(10_000 * totals / totals.sum())
    assert [values[(r, 9)] for r in ROWS] == pytest.approx(list(2 * pool))


def test_pool_in_a_plain_cell_is_its_top_left_share() -> None:
    # as an array formula over K5:K104 it fills the range: see the test above
    sheet = agents()
    for r in ROWS:
        sheet.formulas[(r, 7)] = f"=SUM(D{r}:F{r})"
        sheet.formulas[(r, 12)] = f"=K{r}+1"
    sheet.formulas[(5, 11)] = "=KPI_POOL($J$1,G5:G104)"  # plain: K5 alone
    stub = Stub()
    result, _ = run(sheet, stub)
    values = result.values["考核"]
    assert stub.count("KPI_POOL") == 1 and stub.calls[-1][1] == [(), (100, 1)]
    totals = [values[(r, 7)] for r in ROWS]
    assert values[(5, 11)] == pytest.approx(10_000 * totals[0] / sum(totals))
    assert [r for r in ROWS if (r, 11) in values] == [5]
    assert values[(5, 12)] == pytest.approx(values[(5, 11)] + 1)
    assert all(values[(r, 12)] == 1.0 for r in ROWS[1:])  # K6:K104 stay blank


def test_plain_pool_leaves_the_cells_below_it_alone() -> None:
    sheet = agents()
    for r in ROWS:
        sheet.formulas[(r, 7)] = f"=SUM(D{r}:F{r})"
    sheet.formulas[(5, 11)] = "=KPI_POOL($J$1,G5:G104)"
    sheet.values[(50, 11)] = "手填"
    result, _ = run(sheet, Stub())
    values = result.values["考核"]
    assert isinstance(values[(5, 11)], float)  # no #SPILL!: nothing to spill
    assert [r for r in ROWS if (r, 11) in values] == [5]
    assert not result.problems and not result.not_computable


def test_non_rowwise_with_per_row_arguments_is_called_per_row() -> None:
    sheet = agents()
    for r in range(5, 10):
        sheet.formulas[(r, 7)] = f"=INDEX(KPI_POOL(B{r},$D$5:$D$8),1)"
    stub = Stub()
    result, _ = run(sheet, stub)
    assert stub.count("KPI_POOL") == 5
    d5, total = agents().values[(5, 4)], sum(agents().values[(r, 4)] for r in range(5, 9))
    for r in range(5, 10):
        assert result.values["考核"][(r, 7)] == pytest.approx((r % 10) / 10 * d5 / total)


def test_registry_names_with_prefixes_and_default_import_is_lazy() -> None:
    sheet = agents()
    sheet.formulas[(5, 3)] = "=_xll.KPI_TIER(B5,$F$1)"
    sheet.formulas[(6, 3)] = "=KPIXL.KPI_TIER(B6,$F$1)"
    stub = Stub()
    result = recalculate(BookData({"考核": sheet}), stub.functions, ROWWISE)  # type: ignore[arg-type]
    assert result.values["考核"] == {(5, 3): 100.0, (6, 3): 100.0}
