"""The worksheet functions over whole ranges, without xlwings.

Each function takes its arguments as Excel sends them — a scalar or a 2-D list / array of
float, str, bool, None (blank) and error text such as ``#DIV/0!`` — and returns a 2-D object
array whose cells are values or :class:`KpiError` instances. :mod:`kpi_xl.udfs` wraps these
for Excel; the headless recalc engine calls them directly, once per formula column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kpi_xl.core import pay, pool
from kpi_xl.core.column import Column
from kpi_xl.core.deduct import deduct
from kpi_xl.core.errors import KpiError, RuleError, ValueProblem
from kpi_xl.core.money import MoneyColumn
from kpi_xl.core.notation import TierKind, parse_rule
from kpi_xl.core.scoring import weighted_total
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import Kind, fold, format_number, read_column

Grid = np.ndarray


def as_grid(argument: object) -> Grid:
    """Any argument as a 2-D array: a scalar is 1×1, a flat list is one column. An array of
    finite floats stays one (the core reads it in a single pass); anything else becomes an
    object array."""
    if isinstance(argument, np.ndarray):
        numeric = argument.dtype == np.float64 and bool(np.isfinite(argument).all())
        grid = argument if numeric else argument.astype(object, copy=False)
    elif isinstance(argument, list | tuple):
        grid = _grid_from_rows(argument)
    else:
        grid = np.empty((1, 1), dtype=object)
        grid[0, 0] = argument
    return grid.reshape(-1, 1) if grid.ndim == 1 else grid


def _grid_from_rows(rows: list | tuple) -> Grid:
    if not rows:
        return np.empty((0, 1), dtype=object)
    if not isinstance(rows[0], list | tuple | np.ndarray):  # a flat list: one column
        grid = np.empty((len(rows), 1), dtype=object)
        grid[:, 0] = rows
        return grid
    width = len(rows[0])
    if all(len(row) == width for row in rows):  # rectangular, as Excel sends ranges
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = rows
        return grid
    grid = np.full((len(rows), max(len(row) for row in rows)), None, dtype=object)
    for index, row in enumerate(rows):
        grid[index, : len(row)] = list(row)
    return grid


def column_to_grid(column: Column, shape: tuple[int, ...]) -> Grid:
    """A core Column back into the caller's shape, errors in their cells."""
    cells = column.values.astype(object)
    failed = column.failed
    if failed.any():
        cells[failed] = column.errors[failed]
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
    grids = np.broadcast_arrays(as_grid(rate), as_grid(numerator), as_grid(denominator))
    shape = grids[0].shape
    ready_cells, counts_top, counts_bottom = (read_column(grid.ravel()) for grid in grids)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = counts_top.numbers / counts_bottom.numbers
    # the common cases in one pass: a ready rate, or two good counts; the rest cell by cell
    ready = ready_cells.kinds == Kind.NUMBER
    counted = ((ready_cells.kinds == Kind.BLANK) & (counts_top.kinds == Kind.NUMBER)
               & (counts_bottom.kinds == Kind.NUMBER) & (counts_bottom.numbers > 0)
               & (counts_top.numbers >= 0))
    result = np.where(ready, ready_cells.numbers, ratios).astype(object)
    for index in np.flatnonzero(~(ready | counted)).tolist():
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
        if part.kinds[index] == Kind.TEXT:
            label = part.labels[index]
            return ValueProblem(f'"{label}" 不是数字, 请输入数字', f"{label!r} is not a number")
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
        shown = format_number(float(numerator if numerator < 0 else denominator))
        return ValueProblem(f"分子或分母为负数 ({shown}), 无法计算比率: 请检查输入",
                            f"a negative numerator or denominator ({shown}); check the input")
    return float(numerator / denominator)


def _scalar(argument: object) -> object:
    """A parameter cell: a 1×1 range is its value; a blank is None."""
    grid = as_grid(argument)
    if grid.size != 1:
        raise ValueProblem("此参数应为单个单元格", "this parameter must be a single cell")
    value = grid[0, 0]
    return None if isinstance(value, str) and not value.strip() else value


def _guarded(shape: tuple[int, ...], compute: Callable[[], Column | MoneyColumn]) -> Grid:
    """Run a core computation; a rule or parameter error fills every cell of the result."""
    try:
        result = compute()
    except KpiError as error:
        return _error_grid(shape, error)
    column = result.to_column() if isinstance(result, MoneyColumn) else result
    return column_to_grid(column, (len(column), 1))


def kpi_score(scores: object, weights: object, adjustments: object = None) -> Grid:
    """KPI_SCORE: Σ points × weight per row, plus adjustments, floored at 0."""
    points = as_grid(scores)
    extra = None if adjustments is None else as_grid(adjustments)
    return _guarded((points.shape[0], 1), lambda: weighted_total(points, as_grid(weights), extra))


def kpi_deduct(count: object, rule: object) -> Grid:
    """KPI_DEDUCT: points (≤ 0) for occurrence counts under a deduction rule."""
    counts = as_grid(count)

    def compute() -> Column:
        text = _scalar(rule)
        if not isinstance(text, str):
            raise RuleError("扣分规则应为文字, 如 免2次; 每次-3", "a deduction rule is text")
        return deduct(counts.ravel(), text)

    grid = _guarded((counts.size, 1), compute)
    return grid.reshape(counts.shape)


def _coefficients(param: object) -> dict[str, float | str]:
    """A grade → coefficient rule (``A:1.2; B:1; …``) as a mapping."""
    if param is None:
        return dict(pay.DEFAULT_GRADE_COEFFICIENTS)
    rule = parse_rule(param)
    if any(t.kind is not TierKind.LABEL or isinstance(t.result, str) for t in rule.tiers):
        raise RuleError("系数规则应为 等级:系数, 如 A:1.2; B:1; C:0.8",
                        "a coefficient rule is grade:coefficient, e.g. A:1.2; B:1")
    return {str(t.label): t.result for t in rule.tiers}


def _commission_rate(param: object, basis: object, rows: int) -> object:
    """The 提点 rate: a number, or a rule tiered on the conversion column ``basis``."""
    if isinstance(param, int | float):
        return [param] * rows
    if param is None:
        raise RuleError("提成方案需要提点规则或比例", "commission needs a rate rule or a rate")
    if basis is None:
        raise ValueProblem("提成方案需要转化率 (第5个参数)", "commission needs the conversion rate")
    return kpi_tier(basis, param).ravel()


_SCHEMES = {"80/20": "split", "split": "split", "等级系数": "coefficient", "系数": "coefficient",
            "coefficient": "coefficient", "提成": "commission", "commission": "commission",
            "按分": "pro-rata", "pro-rata": "pro-rata", "按分数": "pro-rata"}


def kpi_pay(scheme: object, base: object, score: object, param: object = None,
            basis: object = None) -> Grid:
    """KPI_PAY: pay by one of the seed sheets' schemes, half-up to 0.01 元."""
    bases, scores = as_grid(base), as_grid(score)
    rows = max(bases.shape[0], scores.shape[0])

    def compute() -> MoneyColumn:
        name = _SCHEMES.get(fold(str(_scalar(scheme))).lower())
        base_cells, score_cells = _rows(bases, rows), _rows(scores, rows)
        option = _scalar(param) if param is not None else None
        if name == "split":
            return pay.pay_split(base_cells, score_cells, 0.8 if option is None else option)
        if name == "coefficient":
            return pay.pay_grade_coefficient(base_cells, score_cells, _coefficients(param))
        if name == "commission":
            rule = param if option is None or isinstance(option, str) else option
            rate = _commission_rate(rule, None if basis is None else _rows(as_grid(basis), rows),
                                    rows)
            return pay.pay_commission(base_cells, rate, score_cells)
        if name == "pro-rata":
            threshold = None if basis is None else _scalar(basis)
            return pay.pay_pro_rata(base_cells, score_cells, 130 if option is None else option,
                                    0.7 if threshold is None else threshold)
        raise RuleError(f"未知方案 \"{_scalar(scheme)}\", 应为 80/20、等级系数、提成 或 按分",
                        "unknown scheme; use 80/20, 等级系数, 提成 or 按分")

    return _guarded((rows, 1), compute)


def _rows(grid: Grid, rows: int) -> list[object]:
    """One cell per row: a single cell repeats down the rows."""
    cells = grid.ravel().tolist()
    return cells * rows if len(cells) == 1 else cells


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


_blank_cells = np.frompyfunc(_is_blank, 1, 1)


def _on_agent_rows(keys: np.ndarray, compute: Callable[[np.ndarray], Grid]) -> Grid:
    """Run a whole-column function on the rows that hold an agent; rows whose key cells are
    all blank (the unused rows of a template's range) stay blank instead of erring."""
    used = ~_blank_cells(keys).astype(bool).all(axis=1)
    result = np.full((keys.shape[0], 1), "", dtype=object)
    if used.any():
        result[used] = compute(used)
    return result


def kpi_pool(pool_amount: object, scores: object, tiebreak: object = None,
             split: object = None) -> Grid:
    """KPI_POOL: each agent's share of a bonus pool by rank, plus fixed prizes."""
    score_cells = as_grid(scores).ravel()
    ties = None if tiebreak is None else as_grid(tiebreak).ravel()

    def compute(used: np.ndarray) -> Grid:
        def share() -> MoneyColumn:
            rule = pool.DEFAULT_SPLIT if split is None else _scalar(split)
            return pool.rank_pool(_scalar(pool_amount), score_cells[used],
                                  None if ties is None else ties[used], rule).amount

        return _guarded((int(used.sum()), 1), share)

    return _on_agent_rows(score_cells.reshape(-1, 1), compute)


def kpi_share(total: object, weights: object, groups: object = None) -> Grid:
    """KPI_SHARE: split an amount (per group) by weights, exact to the fen."""
    weight_cells = as_grid(weights).ravel()
    totals = as_grid(total).ravel()
    group_cells = None if groups is None else as_grid(groups).ravel()
    keys = weight_cells.reshape(-1, 1) if group_cells is None else np.column_stack(
        (weight_cells, group_cells))

    def compute(used: np.ndarray) -> Grid:
        def share() -> MoneyColumn:
            amount = totals[0] if totals.size == 1 else totals[used]
            return pool.share_column(amount, weight_cells[used],
                                     None if group_cells is None else group_cells[used])

        return _guarded((int(used.sum()), 1), share)

    return _on_agent_rows(keys, compute)


FUNCTIONS: dict[str, Callable[..., Grid]] = {
    "KPI_TIER": kpi_tier,
    "KPI_EXPLAIN": kpi_explain,
    "KPI_SCORE": kpi_score,
    "KPI_GRADE": kpi_grade,
    "KPI_PAY": kpi_pay,
    "KPI_DEDUCT": kpi_deduct,
    "KPI_RATE": kpi_rate,
    "KPI_POOL": kpi_pool,
    "KPI_SHARE": kpi_share,
}
"""Excel name → implementation; the recalc engine and the UDF module both use this."""

ROWWISE: frozenset[str] = frozenset(FUNCTIONS) - {"KPI_POOL", "KPI_SHARE"}
"""Functions whose row i depends only on row i of their range arguments."""
