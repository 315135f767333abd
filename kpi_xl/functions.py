"""The worksheet functions over whole ranges, without xlwings.

Each function takes its arguments as Excel sends them — a scalar or a 2-D list / array of
float, str, bool, None (blank) and error text such as ``#DIV/0!`` — and returns a 2-D object
array whose cells are values or :class:`KpiError` instances. :mod:`kpi_xl.udfs` wraps these
for Excel; the headless recalc engine calls them directly, once per formula column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from kpi_xl.core import pay, pool
from kpi_xl.core.column import Column
from kpi_xl.core.deduct import deduct
from kpi_xl.core.errors import KpiError, RuleError, ValueProblem
from kpi_xl.core.money import MoneyColumn
from kpi_xl.core.notation import TierKind, parse_rule
from kpi_xl.core.scoring import Name, common_rows, names, weighted_total
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import (
    Kind,
    cell_error,
    date_problem,
    fold,
    format_number,
    read_cell,
    read_column,
)

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
    return _dates_as_errors(grid.reshape(-1, 1) if grid.ndim == 1 else grid)


_DATE_TYPES = (dt.date, dt.time)


def _dates_as_errors(grid: Grid) -> Grid:
    """Date and time cells as the error saying a date is not a number.

    Classic xlwings sends a date-formatted cell as a ``datetime``; Office.js (Lite) and the
    headless recalc send its serial number (46327), which cannot be told from a number, so
    only this path can say what is wrong."""
    if grid.dtype != object or not any(
        issubclass(kind, _DATE_TYPES) for kind in set(map(type, grid.flat))
    ):
        return grid
    checked = grid.copy()
    for index, cell in enumerate(grid.flat):
        if isinstance(cell, _DATE_TYPES):
            checked.flat[index] = date_problem(cell)
    return checked


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


RATE, NUMERATOR, DENOMINATOR = ("比率", "rate"), ("分子", "numerator"), ("分母", "denominator")
SCORES, TIEBREAK, POOL, SPLIT = ("得分", "score"), ("同分比较列", "tie-break"), (
    "奖金池", "pool"), ("分配规则", "split rule")
WEIGHTS, TOTAL, GROUPS = ("权重", "weight"), ("总额", "total"), ("分组", "group")
SCHEME, BASE, PARAM = ("方案", "scheme"), ("基数", "base"), ("参数", "parameter")
CONVERSION, THRESHOLD = ("转化率", "conversion rate"), ("门槛比例", "threshold")
DEDUCT_RULE = ("扣分规则", "deduction rule")


def _common_shape(grids: list[tuple[Name, Grid]]) -> tuple[int, int]:
    """The shape of range arguments that go cell by cell together; a single cell repeats.
    Ranges of other shapes raise, naming the row (or column) counts."""
    ranges = [(what, grid) for what, grid in grids if grid.size != 1]
    if not ranges:
        return 1, 1
    rows = common_rows(*((what, grid.shape[0]) for what, grid in ranges), single_ok=False)
    columns = common_rows(*((what, grid.shape[1]) for what, grid in ranges), single_ok=False,
                          unit=("列", "columns"))
    return rows, columns


def kpi_rate(rate: object, numerator: object = None, denominator: object = None) -> Grid:
    """KPI_RATE: the platform's ready rate where given, else numerator / denominator.

    A ready value must be a number ≥ 0; it is not checked for a unit slip (47 for 47%): the
    same function reads ready 客单价 (average order value, 260 元), so its result is not always
    a percentage — KPI_TIER's check against a %-rule catches the slip where it is scored.
    The ranges must have the same shape (or be single cells)."""
    grids = [(RATE, as_grid(rate)), (NUMERATOR, as_grid(numerator)),
             (DENOMINATOR, as_grid(denominator))]
    try:
        shape = _common_shape(grids)
    except KpiError as error:
        return _error_grid(next(g.shape for _, g in grids if g.size != 1), error)
    ready_cells, counts_top, counts_bottom = (
        read_column(np.broadcast_to(grid, shape).ravel()) for _, grid in grids)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = counts_top.numbers / counts_bottom.numbers
    # the common cases in one pass: a ready rate, or two good counts; the rest cell by cell
    ready = (ready_cells.kinds == Kind.NUMBER) & (ready_cells.numbers >= 0)
    counted = ((ready_cells.kinds == Kind.BLANK) & (counts_top.kinds == Kind.NUMBER)
               & (counts_bottom.kinds == Kind.NUMBER) & (counts_bottom.numbers > 0)
               & (counts_top.numbers >= 0))
    result = np.where(ready, ready_cells.numbers, ratios).astype(object)
    for index in np.flatnonzero(~(ready | counted)).tolist():
        result[index] = _one_rate(ready_cells, counts_top, counts_bottom, index)
    return result.reshape(shape)


def _one_rate(ready, top, bottom, index: int) -> object:
    kind = ready.kinds[index]
    if kind == Kind.NUMBER:  # a ready number left for here is a negative one
        shown = format_number(float(ready.numbers[index]))
        return ValueProblem(f"比率不能为负数: {shown}, 请检查输入",
                            f"a rate cannot be negative: {shown}; check the input")
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


def _scalar(argument: object, what: Name) -> object:
    """A parameter cell: a 1×1 range is its value; a blank is None; an Excel error in it
    (the recalc's KpiError or classic xlwings' text) raises as itself."""
    grid = as_grid(argument)
    if grid.size != 1:
        zh, en = names(what)
        raise ValueProblem(f"{zh}应为单个单元格, 收到 {grid.shape[0]} 行 {grid.shape[1]} 列",
                           f"the {en} must be a single cell")
    value = grid[0, 0]
    if (error := cell_error(value)) is not None:
        raise error
    return None if isinstance(value, str) and not value.strip() else value


def _option(argument: object, what: Name, default: object) -> object:
    """An optional parameter cell: omitted or blank gives ``default``."""
    value = None if argument is None else _scalar(argument, what)
    return default if value is None else value


def _given(argument: object) -> bool:
    """An optional rule argument that is there: neither omitted nor one blank cell."""
    grid = as_grid(argument)
    return argument is not None and (grid.size != 1 or _option(grid, PARAM, None) is not None)


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
        text = _scalar(rule, DEDUCT_RULE)
        if text is None:
            raise RuleError("扣分规则未填写, 应为文字, 如 免2次; 每次-3",
                            "the deduction rule is blank; write e.g. 免2次; 每次-3")
        if not isinstance(text, str):
            raise RuleError("扣分规则应为文字, 如 免2次; 每次-3", "a deduction rule is text")
        return deduct(counts.ravel(), text)

    grid = _guarded((counts.size, 1), compute)
    return grid.reshape(counts.shape)


def _coefficients(param: object) -> dict[str, float | str]:
    """A grade → coefficient rule (``A:1.2; B:1; …``, text or range) as a mapping; omitted
    or blank gives the default coefficients."""
    if not _given(param):
        return dict(pay.DEFAULT_GRADE_COEFFICIENTS)
    rule = parse_rule(as_grid(param))
    if any(t.kind is not TierKind.LABEL or isinstance(t.result, str) for t in rule.tiers):
        raise RuleError("系数规则应为 等级:系数, 如 A:1.2; B:1; C:0.8",
                        "a coefficient rule is grade:coefficient, e.g. A:1.2; B:1")
    return {str(t.label): t.result for t in rule.tiers}


def _commission_rate(param: object, conversion: list[object] | None, rows: int) -> object:
    """The 提点 rate: a number, or a rule (text or range) tiered on the conversion rates."""
    if not _given(param):
        raise RuleError("提成方案需要提点规则或比例", "commission needs a rate rule or a rate")
    if as_grid(param).size == 1:
        kind, number, _, _ = read_cell(_scalar(param, PARAM))
        if kind == Kind.NUMBER:
            return [number] * rows
    if conversion is None:
        raise ValueProblem("提成方案需要转化率 (第5个参数)", "commission needs the conversion rate")
    return kpi_tier(np.asarray(conversion, dtype=object), param).ravel()


_SCHEMES = {"80/20": "split", "split": "split", "等级系数": "coefficient", "系数": "coefficient",
            "coefficient": "coefficient", "提成": "commission", "commission": "commission",
            "按分": "pro-rata", "pro-rata": "pro-rata", "按分数": "pro-rata"}
_SCHEME_CHOICES = ("应为 80/20、等级系数、提成 或 按分", "use 80/20, 等级系数, 提成 or 按分")


def _scheme(scheme: object) -> str:
    value = _scalar(scheme, SCHEME)
    if value is None:
        raise RuleError(f"方案未填写, {_SCHEME_CHOICES[0]}",
                        f"the scheme is blank; {_SCHEME_CHOICES[1]}")
    name = _SCHEMES.get(fold(str(value)).lower())
    if name is None:
        raise RuleError(f"未知方案 \"{value}\", {_SCHEME_CHOICES[0]}",
                        f"unknown scheme; {_SCHEME_CHOICES[1]}")
    return name


def kpi_pay(scheme: object, base: object, score: object, param: object = None,
            basis: object = None) -> Grid:
    """KPI_PAY: pay by one of the seed sheets' schemes, half-up to 0.01 元.

    ``base``, ``score`` (and the conversion rates of 提成) are one column each, the same
    number of rows, or a single cell that repeats. An omitted or blank ``param``/``basis``
    takes the scheme's default (80%, the default coefficients, 总分 130, threshold 70%)."""
    bases, scores = as_grid(base), as_grid(score)
    rows = max(_rows_of(bases), _rows_of(scores))
    return _guarded((rows, 1), lambda: _pay(_scheme(scheme), bases, scores, param, basis))


def _pay(name: str, bases: Grid, scores: Grid, param: object, basis: object) -> MoneyColumn:
    columns = [(BASE, _agent_column(bases, BASE)), (SCORES, _agent_column(scores, SCORES))]
    if name == "commission" and basis is not None:
        columns.append((CONVERSION, _agent_column(basis, CONVERSION)))
    rows = common_rows(*((what, cells.size) for what, cells in columns))
    base_cells, score_cells, *conversion = (_repeated(cells, rows) for _, cells in columns)
    if name == "split":
        return pay.pay_split(base_cells, score_cells, _option(param, PARAM, 0.8))
    if name == "coefficient":
        return pay.pay_grade_coefficient(base_cells, score_cells, _coefficients(param))
    if name == "commission":
        rate = _commission_rate(param, conversion[0] if conversion else None, rows)
        return pay.pay_commission(base_cells, rate, score_cells)
    return pay.pay_pro_rata(base_cells, score_cells, _option(param, PARAM, 130),
                            _option(basis, THRESHOLD, 0.7))


def _rows_of(grid: Grid) -> int:
    """Rows of the column a per-agent range gives (a row of cells reads as a column)."""
    return grid.size if min(grid.shape) <= 1 else grid.shape[0]


def _agent_column(argument: object, what: Name) -> np.ndarray:
    """A per-agent range as its cells, one per agent: a column (or a row); a block of several
    rows and columns is an error, not a silently flattened list."""
    grid = as_grid(argument)
    if min(grid.shape) > 1:
        zh, en = names(what)
        raise ValueProblem(f"{zh}应为一列, 收到 {grid.shape[0]} 行 {grid.shape[1]} 列",
                           f"{en} must be one column, got {grid.shape[0]}×{grid.shape[1]}")
    return grid.ravel()


def _repeated(cells: np.ndarray, rows: int) -> list[object]:
    """One cell per row: a single cell repeats down the rows."""
    values = cells.tolist()
    return values * rows if len(values) == 1 else values


def _aligned(main: tuple[Name, np.ndarray],
             *others: tuple[Name, np.ndarray | None]) -> list[np.ndarray | None]:
    """``others`` row by row with ``main`` (a single cell repeats); other lengths raise."""
    rows = main[1].size
    common_rows((main[0], rows), *((what, cells.size) for what, cells in others
                                    if cells is not None and cells.size != 1), single_ok=False)
    return [cells if cells is None or cells.size != 1 else np.repeat(cells, rows)
            for _, cells in others]


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
    """KPI_POOL: each agent's share of a bonus pool by rank, plus fixed prizes on top.

    The percentage parts add up to the pool exactly; the fixed prizes of the split rule (by
    default +200 for 1st and +100 for 2nd) are paid in addition, so with the default rule
    the column totals pool + 300. ``tiebreak`` has the scores' rows (or is one cell); an
    omitted or blank ``split`` is the default ``1:40%+200; 2:30%+100; 其余:30%``."""
    try:
        score_cells = _agent_column(scores, SCORES)
        tie_column = None if tiebreak is None else _agent_column(tiebreak, TIEBREAK)
        ties, = _aligned((SCORES, score_cells), (TIEBREAK, tie_column))
    except KpiError as error:
        return _error_grid((_rows_of(as_grid(scores)), 1), error)

    def compute(used: np.ndarray) -> Grid:
        def share() -> MoneyColumn:
            rule = _option(split, SPLIT, pool.DEFAULT_SPLIT)
            amount = _scalar(pool_amount, POOL)
            if amount is None:
                raise ValueProblem("奖金池未填写, 请填写金额", "the pool is blank; enter an amount")
            return pool.rank_pool(amount, score_cells[used],
                                  None if ties is None else ties[used], rule).amount

        return _guarded((int(used.sum()), 1), share)

    return _on_agent_rows(score_cells.reshape(-1, 1), compute)


def kpi_share(total: object, weights: object, groups: object = None) -> Grid:
    """KPI_SHARE: split an amount (per group) by weights, exact to the fen.

    ``total`` and ``groups`` have the weights' rows, or are one cell. A group whose weights
    are all 0 is split equally (see :func:`kpi_xl.core.pool.share_column`)."""
    try:
        weight_cells = _agent_column(weights, WEIGHTS)
        group_column = None if groups is None else _agent_column(groups, GROUPS)
        totals, group_cells = _aligned((WEIGHTS, weight_cells),
                                       (TOTAL, _agent_column(total, TOTAL)), (GROUPS, group_column))
    except KpiError as error:
        return _error_grid((_rows_of(as_grid(weights)), 1), error)
    per_row_groups = group_column is not None and group_column.size == weight_cells.size
    keys = np.column_stack((weight_cells, group_cells)) if per_row_groups else (
        weight_cells.reshape(-1, 1))

    def compute(used: np.ndarray) -> Grid:
        def share() -> MoneyColumn:
            return pool.share_column(totals[used], weight_cells[used],
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
