"""The worksheet functions over whole ranges, without xlwings.

Each function takes its arguments as Excel sends them — a scalar or a 2-D list / array of
float, str, bool, None (blank) and error text such as ``#DIV/0!`` — and returns a 2-D object
array whose cells are values or :class:`KpiError` instances. :mod:`kpi_xl.udfs` wraps these
for Excel; the headless recalc engine calls them directly, once per formula column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kpi_xl.core.column import Column
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import Kind, read_column

Grid = np.ndarray


def as_grid(argument: object) -> Grid:
    """Any argument as a 2-D object array: a scalar is 1×1, a flat list is one column."""
    if isinstance(argument, np.ndarray):
        grid = argument.astype(object, copy=False)
    elif isinstance(argument, list | tuple):
        grid = (
            np.empty((len(argument), 1), dtype=object)
            if argument and not isinstance(argument[0], list | tuple | np.ndarray)
            else None
        )
        if grid is not None:
            grid[:, 0] = list(argument)
        else:
            rows = [list(row) for row in argument]
            width = max((len(row) for row in rows), default=0)
            grid = np.full((len(rows), width), None, dtype=object)
            for index, row in enumerate(rows):
                grid[index, : len(row)] = row
    else:
        grid = np.empty((1, 1), dtype=object)
        grid[0, 0] = argument
    if grid.ndim == 1:
        grid = grid.reshape(-1, 1)
    return grid


def column_to_grid(column: Column, shape: tuple[int, ...]) -> Grid:
    """A core Column back into the caller's shape, errors in their cells."""
    cells = np.empty(len(column), dtype=object)
    cells[:] = list(column.cells())
    return cells.reshape(shape)


def _error_grid(shape: tuple[int, ...], error: KpiError) -> Grid:
    grid = np.empty(shape, dtype=object)
    grid.fill(error)
    return grid


def _tiered(value: object, rule: object, evaluator: Callable) -> Grid:
    grid = as_grid(value)
    try:
        parsed = parse_rule(rule)
    except KpiError as error:
        return _error_grid(grid.shape, error)
    return column_to_grid(evaluator(parsed, read_column(grid.ravel())), grid.shape)


def kpi_tier(value: object, rule: object) -> Grid:
    """KPI_TIER: the result of the first tier of ``rule`` that each value meets."""
    return _tiered(value, rule, evaluate)


def kpi_explain(value: object, rule: object) -> Grid:
    """KPI_EXPLAIN: which tier each value met and why, or what is wrong with it."""
    return _tiered(value, rule, explain)


def kpi_grade(score: object, bands: object) -> Grid:
    """KPI_GRADE: the grade label of each score; the bands are a rule with text results."""
    grid = as_grid(score)
    try:
        parsed = parse_rule(bands)
    except KpiError as error:
        return _error_grid(grid.shape, error)
    if parsed.results_are_numbers:
        return _error_grid(
            grid.shape,
            ValueProblem(
                "等级规则的结果应为等级名称, 例如 [90,100]:高级客服",
                "grade bands must give labels, e.g. [90,100]:高级客服",
            ),
        )
    return column_to_grid(evaluate(parsed, read_column(grid.ravel())), grid.shape)


def kpi_rate(rate: object, numerator: object = None, denominator: object = None) -> Grid:
    """KPI_RATE: the platform's ready rate where given, else numerator / denominator."""
    ready = as_grid(rate)
    shape = ready.shape
    ready_cells = read_column(ready.ravel())
    counts_top = read_column(np.broadcast_to(as_grid(numerator), shape).ravel())
    counts_bottom = read_column(np.broadcast_to(as_grid(denominator), shape).ravel())
    result = np.empty(ready_cells.kinds.shape[0], dtype=object)
    for index in range(result.shape[0]):
        result[index] = _one_rate(ready_cells, counts_top, counts_bottom, index)
    return result.reshape(shape)


def _one_rate(ready, top, bottom, index: int) -> object:
    kind = ready.kinds[index]
    if kind == Kind.NUMBER:
        return float(ready.numbers[index])
    if kind == Kind.ERROR:
        return ready.errors[index]
    if kind == Kind.TEXT:
        return ValueProblem(
            f'比率应为数字, 收到 "{ready.labels[index]}"',
            f"a rate must be a number, got {ready.labels[index]!r}",
        )
    for part in (top, bottom):
        if part.kinds[index] == Kind.ERROR:
            return part.errors[index]
        if part.kinds[index] != Kind.NUMBER:
            return ValueProblem(
                "比率为空, 且分子分母不全: 请填比率或两个人数",
                "no rate and the counts are incomplete: enter the rate or both counts",
            )
    numerator, denominator = top.numbers[index], bottom.numbers[index]
    if denominator == 0:
        return KpiError(
            "分母为 0, 无法计算比率 (请检查人数)", "the denominator is 0", code="#DIV/0!"
        )
    if numerator < 0 or denominator < 0:
        return ValueProblem("人数不能为负数", "counts cannot be negative")
    return float(numerator / denominator)


FUNCTIONS: dict[str, Callable[..., Grid]] = {
    "KPI_TIER": kpi_tier,
    "KPI_EXPLAIN": kpi_explain,
    "KPI_GRADE": kpi_grade,
    "KPI_RATE": kpi_rate,
}
"""Excel name → implementation; the recalc engine and the UDF module both use this."""

ROWWISE: frozenset[str] = frozenset({"KPI_TIER", "KPI_EXPLAIN", "KPI_GRADE", "KPI_RATE"})
"""Functions whose row i depends only on row i of their range arguments."""
