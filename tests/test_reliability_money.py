"""Money: every pool split sums to the pool to the fen; a refresh twice is byte-identical.

The core splits have their own properties (``test_core_money``, ``test_core_pool``); these
add the layers HR meets: the worksheet functions KPI_POOL / KPI_SHARE over ranges (floats in
and out, blank template rows, error cells), ``split_largest_remainder`` fed Excel floats, and
the refresh's 团队超额奖金 (KPI_SHARE in an array formula on 考核, summed on 工资) for random
sales — plus ``refresh`` run twice on random sample months giving byte-identical output sheets.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_xl.core import pool
from kpi_xl.core.errors import KpiError
from kpi_xl.core.money import split_largest_remainder, to_money
from kpi_xl.functions import kpi_pool, kpi_share
from kpi_xl.templates import new_month
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import XlsxEditor, read_book
from tests.payroll_util import sheet_part
from tests.test_reliability_corpus import BASE, pay_records

CENT = Decimal("0.01")
OUTPUTS = ("工资", "明细", "历史", "异常", "概览")


def fen(value: object) -> Decimal:
    """A float from a result cell as the exact amount it shows (it must be whole fen)."""
    amount = Decimal(repr(value))
    assert amount == amount.quantize(CENT), f"{value!r} is not a whole number of fen"
    return amount


pools = st.integers(min_value=0, max_value=10**9).map(lambda cents: Decimal(cents) / 100)
scores = st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False).map(
    lambda x: round(x, 1)), st.just("#N/A"))


@settings(max_examples=150, deadline=None)
@given(amount=pools, cells=st.lists(scores, min_size=1, max_size=30),
       blanks=st.integers(0, 5), data=st.data(),
       split=st.sampled_from(["1:50%; 2:30%; 3:20%", "其余:100%", "1:40%; 2:30%; 其余:30%",
                              "1:33.3%; 2:33.3%; 其余:33.4%", pool.DEFAULT_SPLIT]))
def test_kpi_pool_pays_out_the_pool_to_the_fen(amount: Decimal, cells: list[object],
                                               blanks: int, data: st.DataObject,
                                               split: str) -> None:
    ties = data.draw(st.lists(st.integers(0, 3), min_size=len(cells), max_size=len(cells)))
    column = [[c] for c in cells] + [[None]] * blanks  # a template range is longer
    grid = kpi_pool(float(amount), column, [[t] for t in ties] + [[None]] * blanks, split)
    values = [row[0] for row in grid.tolist()]
    assert values[len(cells):] == [""] * blanks
    paid = [fen(v) for v in values[: len(cells)] if not isinstance(v, KpiError)]
    errors = [v for v in values[: len(cells)] if isinstance(v, KpiError)]
    assert len(errors) == cells.count("#N/A")  # a bad score is an error, never a 0
    if not paid:
        return
    prizes = pool.rank_pool(amount, cells, ties, split).prize.total()
    assert sum(paid, Decimal(0)) == amount + prizes  # the pool exactly, fixed prizes on top


@settings(max_examples=150, deadline=None)
@given(amount=pools,
       rows=st.lists(st.tuples(st.one_of(st.integers(0, 10**6),
                                         st.floats(0, 1e6, allow_nan=False)),
                               st.sampled_from(["售前一组", "售前二组", "售后"])),
                     min_size=1, max_size=30),
       blanks=st.integers(0, 5))
def test_kpi_share_splits_each_group_to_the_fen(amount: Decimal,
                                                rows: list[tuple[float, str]],
                                                blanks: int) -> None:
    weights = [[w] for w, _ in rows] + [[None]] * blanks
    groups = [[g] for _, g in rows] + [[None]] * blanks
    values = [row[0] for row in kpi_share(float(amount), weights, groups).tolist()]
    assert values[len(rows):] == [""] * blanks
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (_, group), value in zip(rows, values, strict=False):
        assert not isinstance(value, KpiError), value
        totals[group] += fen(value)
    assert all(total == amount for total in totals.values()), totals


@settings(max_examples=200, deadline=None)
@given(total=st.floats(-1e9, 1e9, allow_nan=False),
       weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30))
def test_split_of_an_excel_float_sums_to_its_fen(total: float, weights: list[float]) -> None:
    """Excel hands a float (``1234.565`` shown, ``1234.5649999…`` stored): the parts sum to
    the amount the cell shows, rounded half-up to the fen."""
    parts = split_largest_remainder(total, weights)
    assert sum(parts, Decimal(0)) == to_money(total)
    assert all(p == p.quantize(CENT) for p in parts)


# ----------------------------------------------------------------------------- the refresh
def team_pools(path: Path) -> dict[str, Decimal]:
    """团队 → 团队超额奖金池 as 考核 computed it (the cached value of the pool column)."""
    sheet = read_book(path).sheets["考核"]
    headers = {v: c for (r, c), v in sheet.values.items() if r == 4}
    found: dict[str, Decimal] = {}
    for (r, c), agent in sheet.values.items():
        if c == headers["工号"] and r > 4 and agent:
            team = sheet.values[(r, headers["团队"])]
            found[str(team)] = fen(sheet.cached[(r, headers["团队超额奖金池"])])
    return found


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sales=st.lists(st.integers(0, 60_000_000).map(lambda cents: cents / 100),
                      min_size=8, max_size=8))
def test_refresh_team_bonus_sums_to_each_team_pool(tmp_path: Path, sales: list[float]) -> None:
    """Random 实际销售额 (teams far over or under target): Σ 团队超额奖金 of a team on 工资 is
    that team's pool to the fen, and a second refresh changes no byte of the output sheets."""
    path = tmp_path / "month.xlsx"
    shutil.copy(BASE, path)
    sheet = read_book(path).sheets["考核"]
    column = next(c for (r, c), v in sheet.values.items() if r == 4 and v == "实际销售额")
    editor = XlsxEditor(path)
    editor.set_cells("考核", {(5 + i, column): value for i, value in enumerate(sales)})
    editor.save(backup=False)
    refresh_file(path)
    first = {name: sheet_part(path, name) for name in OUTPUTS}
    pools_by_team = team_pools(path)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for record in pay_records(path):
        bonus = record["团队超额奖金"]
        assert not isinstance(bonus, str), record  # sales are valid: never an error here
        paid[str(record["团队"])] += fen(bonus)
    assert paid == {team: amount for team, amount in pools_by_team.items()}
    refresh_file(path)
    assert {name: sheet_part(path, name) for name in OUTPUTS} == first


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), agents=st.integers(3, 14), history=st.integers(0, 2))
def test_refresh_twice_is_byte_identical_on_random_months(tmp_path: Path, seed: int,
                                                          agents: int, history: int) -> None:
    path = new_month("taobao-cs", tmp_path / f"m{seed}.xlsx", sample=True, agents=agents,
                     history_months=history, seed=seed)
    refresh_file(path)
    first = {name: sheet_part(path, name) for name in OUTPUTS}
    once = pay_records(path)
    refresh_file(path)
    assert {name: sheet_part(path, name) for name in OUTPUTS} == first
    assert pay_records(path) == once
    total = sum((fen(r["应发工资"]) for r in once if r["应发工资"] is not None), Decimal(0))
    headers_row = read_book(path).sheets["工资"].values
    total_row = next(r for (r, c), v in headers_row.items() if c == 1 and v == "合计")
    net_col = next(c for (r, c), v in headers_row.items() if r == 4 and v == "应发工资")
    assert fen(headers_row[(total_row, net_col)]) == total  # the 合计 row adds up to the fen
