"""Weighted totals, adjustments, floors/caps and vetoes over columns of points.

Also the small readers the pay/score core shares: :func:`numbers_of` (cells → a numeric
:class:`Column` whose bad cells carry their own error), :func:`labels_of`, :func:`flags_of`
and :func:`broadcast`. Grade bands are tier rules (``core.notation`` / ``core.tiers``); there
is no grade parser here.

Weights: fractions that total 1 (``0.3, 0.2, …``) or percent points that total 100
(``30, 20, …``); text such as ``"30%"`` is read as 0.3. Anything else is an error naming the
total, e.g. ``权重合计 95%, 应为 100%``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kpi_xl.core.column import Column, merge_errors, no_errors, present
from kpi_xl.core.errors import KpiError, RuleError, ValueProblem
from kpi_xl.core.values import (
    Kind,
    ValueColumn,
    format_number,
    format_numbers,
    read_cell,
    read_column,
)

CellsLike = ValueColumn | Column | np.ndarray | Sequence[object]
Name = str | tuple[str, str]
"""What a column is called in messages: Chinese, or (Chinese, English)."""

WEIGHT_TOLERANCE = 1e-9
VETO_REASON = "单项否决"


def _cells(data: CellsLike) -> ValueColumn:
    if isinstance(data, ValueColumn):
        return data
    if isinstance(data, Column):
        return read_column(list(data.cells()))
    if isinstance(data, np.ndarray):
        return read_column(data.ravel())
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        return read_column([data])
    return read_column(np.asarray(data, dtype=object).ravel())


def numbers_of(data: CellsLike, what: Name, *, blank: float | None = None) -> Column:
    """Cells → numeric :class:`Column`; a bad cell gets its own error, never a silent 0.

    Excel error values pass through with their code. Text is an error naming ``what``. A blank
    is an error unless ``blank`` gives the number it stands for (e.g. 0 for an empty
    adjustment cell). A numeric :class:`Column` keeps its values and errors as they are.
    """
    if isinstance(data, Column) and data.values.dtype.kind == "f":
        values = data.values.astype(np.float64, copy=True)
        errors = data.errors.copy()
        blanks = np.isnan(values) & ~present(errors)
        if blanks.any():
            if blank is None:
                errors[blanks] = _blank_error(what)
            else:
                values[blanks] = blank
        return Column(values, errors)
    cells = _cells(data)
    values = cells.numbers.astype(np.float64, copy=True)
    errors = cells.errors.copy()
    kinds = cells.kinds
    blanks = kinds == Kind.BLANK
    if blanks.any():
        if blank is None:
            errors[blanks] = _blank_error(what)
        else:
            values[blanks] = blank
    for index in np.flatnonzero(kinds == Kind.TEXT):
        label = cells.labels[index]
        zh, en = names(what)
        errors[index] = ValueProblem(
            f"{zh}应为数字, 收到文本 \"{label}\"", f"{en} must be a number, got text {label!r}"
        )
    values[kinds == Kind.TEXT] = np.nan
    values[kinds == Kind.ERROR] = np.nan
    return Column(values, errors)


def names(what: Name) -> tuple[str, str]:
    """(Chinese, English) of a column name; a bare Chinese name is used for both."""
    return (what, what) if isinstance(what, str) else what


def _blank_error(what: Name) -> KpiError:
    zh, en = names(what)
    return ValueProblem(f"{zh}为空, 请填写", f"{en} is blank; fill it in")


def labels_of(data: CellsLike, what: Name) -> Column:
    """Cells → a label :class:`Column` (object values, folded text; numbers written as HR would).

    Blanks are errors naming ``what``; Excel error values pass through.
    """
    cells = _cells(data)
    values = np.full(len(cells), None, dtype=object)
    errors = cells.errors.copy()
    kinds = cells.kinds
    text = kinds == Kind.TEXT
    values[text] = cells.labels[text]
    numeric = kinds == Kind.NUMBER
    values[numeric] = format_numbers(cells.numbers[numeric])
    for index in np.flatnonzero(kinds == Kind.BLANK).tolist():
        errors[index] = _blank_error(what)
    return Column(values, errors)


_TRUE_WORDS = frozenset({"TRUE", "是", "Y", "YES", "√", "✓", "✔", "全勤", "否决", "VETO", "V"})
_FALSE_WORDS = frozenset({"FALSE", "否", "N", "NO", "×", "✗", "非全勤", "缺勤", "无"})


def flags_of(data: CellsLike, what: Name, *, blank: bool | None = None) -> Column:
    """Cells → yes/no :class:`Column` (values 1.0 / 0.0).

    Yes: TRUE, 1, 是, Y, √, 全勤, 否决; no: FALSE, 0, 否, N, ×, 缺勤, 无. Other numbers and
    text are errors; a blank is an error unless ``blank`` says what it means.
    """
    cells = _cells(data)
    values = np.full(len(cells), np.nan)
    errors = cells.errors.copy()
    for index, kind in enumerate(cells.kinds):
        if kind == Kind.ERROR:
            continue
        if kind == Kind.BLANK:
            if blank is None:
                errors[index] = _blank_error(what)
            else:
                values[index] = float(blank)
            continue
        if kind == Kind.NUMBER:
            number = float(cells.numbers[index])
            if number in (0.0, 1.0):
                values[index] = number
                continue
            shown = format_number(number)
        else:
            word = str(cells.labels[index]).upper()
            if word in _TRUE_WORDS:
                values[index] = 1.0
                continue
            if word in _FALSE_WORDS:
                values[index] = 0.0
                continue
            shown = str(cells.labels[index])
        zh, en = names(what)
        errors[index] = ValueProblem(
            f"{zh}应为 是/否 (TRUE/FALSE, 1/0), 收到 \"{shown}\"",
            f"{en} must be yes/no (TRUE/FALSE, 1/0), got {shown!r}",
        )
    return Column(values, errors)


def broadcast(column: Column, size: int, what: Name) -> Column:
    """A one-cell column repeated to ``size`` rows; other lengths must equal ``size``."""
    if len(column) == size:
        return column
    if len(column) == 1:
        values = np.repeat(column.values, size)
        errors = np.full(size, column.errors[0], dtype=object)
        return Column(values, errors)
    zh, en = names(what)
    raise ValueProblem(
        f"{zh}有 {len(column)} 行, 应为 1 行或 {size} 行",
        f"{en} has {len(column)} rows; expected 1 or {size}",
    )


def common_rows(*ranges: tuple[Name, int], single_ok: bool = True,
                unit: tuple[str, str] = ("行", "rows")) -> int:
    """The row count that named ranges share; with ``single_ok`` a one-row range repeats.

    The one check for ranges that go row by row together: a mismatch raises
    :class:`ValueProblem` naming both counts, ``加减分有 3 行, 得分有 2 行, 行数应相同``.
    ``unit`` = ``("列", "columns")`` checks column counts the same way.
    """
    shared: tuple[Name, int] | None = None
    for what, count in ranges:
        if single_ok and count == 1:
            continue
        if shared is None:
            shared = (what, count)
        elif count != shared[1]:
            (zh, en), (zh0, en0) = names(what), names(shared[0])
            either = f" (或只有 1 {unit[0]})" if single_ok else ""
            raise ValueProblem(
                f"{zh}有 {count} {unit[0]}, {zh0}有 {shared[1]} {unit[0]}, {unit[0]}数应相同"
                f"{either}",
                f"the {en} has {count} {unit[1]}, the {en0} {shared[1]}; they must match",
            )
    return 1 if shared is None else shared[1]


def _table(points: object, what: str) -> tuple[np.ndarray, np.ndarray]:
    """n×k cells → (values n×k with NaN at bad cells, first error per row)."""
    array = np.asarray(points)
    if array.dtype.kind not in "fiu":
        array = np.asarray(points, dtype=object)
    else:
        array = array.astype(np.float64)  # the fast path: NaN = blank → error
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueProblem(f"{what}应为二维区域", f"{what} must be a 2-D range")
    rows, cols = array.shape
    values = np.full((rows, cols), np.nan)
    errors = [no_errors(rows)]
    for j in range(cols):
        column = numbers_of(array[:, j], (f"{what}第{j + 1}列", f"score column {j + 1}"))
        values[:, j] = column.values
        errors.append(column.errors)
    return values, merge_errors(*errors)


def read_weights(weights: object) -> np.ndarray:
    """Weights as fractions that total 1 (within 1e-9).

    Accepted: fractions totalling 1 (0.3, 0.2 …) or percent points totalling 100 (30, 20 …);
    ``"30%"`` text is 0.3. Raises :class:`KpiError` for a non-number, a negative weight or any
    other total (``权重合计 95%, 应为 100%``).
    """
    cells = np.asarray(weights, dtype=object).ravel()
    numbers = np.empty(cells.shape[0])
    for index, cell in enumerate(cells):
        kind, number, label, error = read_cell(cell)
        if error is not None:
            raise error
        if kind != Kind.NUMBER:
            shown = "空" if kind == Kind.BLANK else f"\"{label}\""
            raise RuleError(
                f"第{index + 1}个权重应为数字, 收到 {shown}",
                f"weight {index + 1} must be a number, got {'blank' if label is None else label}",
            )
        if number < 0:
            raise RuleError(
                f"第{index + 1}个权重不能为负数: {format_number(number)}",
                f"weight {index + 1} cannot be negative: {format_number(number)}",
            )
        numbers[index] = number
    total = float(numbers.sum())
    if abs(total - 1.0) <= WEIGHT_TOLERANCE:
        return numbers
    if abs(total - 100.0) <= 100.0 * WEIGHT_TOLERANCE:
        return numbers / 100.0
    shown = format_number(total if total > 2.0 else total * 100.0)
    raise RuleError(f"权重合计 {shown}%, 应为 100%", f"weights total {shown}%, must be 100%")


def weighted_total(
    points: object,
    weights: object,
    adjustments: object | None = None,
    *,
    floor: float | None = 0.0,
    maximum: float | None = None,
) -> Column:
    """Σ points × weight per row, plus the adjustments (added after weighting), floored/capped.

    ``points``: n×k cells (0–100 points per KPI); ``weights``: k (see :func:`read_weights`);
    ``adjustments``: n×m point adjustments (差评 −50, praise +2 …) — blank adjustment cells are
    0, text or error cells are errors. A bad cell in a row makes that row's total the (first,
    left to right) error. The total is floored at ``floor`` (default 0; ``None`` = no floor)
    and capped at ``maximum`` when given.
    """
    values, errors = _table(points, "得分")
    w = read_weights(weights)
    if w.shape[0] != values.shape[1]:
        raise RuleError(
            f"得分有 {values.shape[1]} 列, 权重有 {w.shape[0]} 个, 应一一对应",
            f"{values.shape[1]} score columns but {w.shape[0]} weights; they must match",
        )
    total = values @ w
    if adjustments is not None:
        adjust = np.asarray(adjustments)
        adjust = (adjust.astype(np.float64) if adjust.dtype.kind in "fiu"
                  else np.asarray(adjustments, dtype=object))
        if adjust.ndim <= 1:
            adjust = adjust.reshape(-1, 1)
        common_rows((("得分", "score"), values.shape[0]),
                    (("加减分", "adjustment"), adjust.shape[0]), single_ok=False)
        adjust_errors = [errors]
        for j in range(adjust.shape[1]):
            column = numbers_of(adjust[:, j], (f"加减分第{j + 1}列", f"adjustment column {j + 1}"),
                                blank=0.0)
            total = total + column.values
            adjust_errors.append(column.errors)
        errors = merge_errors(*adjust_errors)
    if floor is not None:
        total = np.maximum(total, floor)
    if maximum is not None:
        total = np.minimum(total, maximum)
    failed = present(errors)
    total[failed] = np.nan
    return Column(total + 0.0, errors)


def apply_veto(
    total: Column | CellsLike, vetoed: CellsLike, *, reason: str = VETO_REASON
) -> tuple[Column, np.ndarray]:
    """单项否决: a vetoed row's total becomes 0, with ``reason`` in the reasons array.

    ``vetoed``: yes/no cells (see :func:`flags_of`; blank = not vetoed). Returns the new total
    and an object array holding ``reason`` where the veto bit, ``None`` elsewhere. Errors in the
    total or the veto cell propagate (an error row is never shown as vetoed).
    """
    scores = numbers_of(total, ("得分", "score"))
    veto_name = ("否决标记", "veto mark")
    veto = broadcast(flags_of(vetoed, veto_name, blank=False), len(scores), veto_name)
    errors = merge_errors(scores.errors, veto.errors)
    failed = present(errors)
    hit = (veto.values == 1.0) & ~failed
    values = np.where(hit, 0.0, scores.values)
    values[failed] = np.nan
    reasons = np.full(len(scores), None, dtype=object)
    reasons[hit] = reason
    return Column(values, errors), reasons


def cap_points(points: Column | CellsLike, maximum: float | np.ndarray) -> Column:
    """Cap band scores at the item maximum (seed S8: band scores above the maximum are capped).

    ``maximum``: a number, or one per row. Errors propagate.
    """
    column = numbers_of(points, ("得分", "score"))
    capped = np.minimum(column.values, np.asarray(maximum, dtype=np.float64))
    return Column(capped, column.errors)

