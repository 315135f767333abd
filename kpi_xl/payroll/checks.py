"""Input cells checked against their column's kind, a cell at a time and a column at a time.

:func:`input_problem` says what is wrong with one cell, in the words HR reads on 异常. The
column-wide screens (:func:`suspect_cells`, :func:`error_cells`) clear in bulk the cells that
certainly have no problem — floats within the kind's bounds, values among the choices — and
return the rest, so the per-cell checks (and their messages, in their order) run only where a
problem may be.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from itertools import repeat
from operator import is_

import numpy as np

from kpi_xl.core.errors import KpiError
from kpi_xl.core.tiers import unit_slip
from kpi_xl.core.values import Kind, date_problem, format_number, read_cell
from kpi_xl.payroll.grid import is_error, text_of
from kpi_xl.templates.model import KIND_NOUNS, NEGATIVE_HINTS, Bounds, Input

SECONDS_PER_DAY = 86_400


def input_problem(spec: Input, value: object) -> str | None:
    """What is wrong with a (non-blank, non-error) input cell for its kind, or ``None``: a
    value outside the dropdown of a choice/yesno column (or, where a formula compares it as
    typed, a value only folding to one), text in a number column, a number outside the kind's
    :class:`~kpi_xl.templates.model.Bounds` (a rate above 100%, a negative count or amount, a
    fractional count, an implausible magnitude, a time of day in a seconds column)."""
    if spec.allowed:
        return _choice_problem(spec, value)
    if _padded(spec, value):
        return (f"“{spec.header}”为 \"{value}\": 含空格, 公式 (SUMIF) 按原文比较, 会当作另一个"
                f"{spec.header}; 请改为 \"{str(value).strip()}\" (spaces around the text)")
    bounds = spec.limits
    if bounds is None:
        return None
    if isinstance(value, dt.date | dt.time):  # classic xlwings: a date- or time-formatted cell
        return f"“{spec.header}”: {date_problem(value).zh}"
    kind, number, label, _ = read_cell(value)
    if kind == Kind.TEXT:
        return f"“{spec.header}”应为数字, 现为文本 \"{label}\" (text in a number cell)"
    if kind != Kind.NUMBER:
        return None
    return _number_problem(spec, bounds, value, number)


def _choice_problem(spec: Input, value: object) -> str | None:
    header, folded = spec.header, text_of(value)
    matched = next((choice for choice in spec.allowed if text_of(choice) == folded), None)
    if matched is None:
        return (f"“{header}”应为 {'/'.join(spec.allowed)} 之一, 现为 \"{folded}\" "
                f"(not one of the allowed values)")
    if not spec.exact_text or value == matched:
        return None
    typed = text_of(value) if not isinstance(value, str) else value
    why = ("是数字, 不是文本" if not isinstance(value, str) else
           "含空格" if typed.strip() != typed else "写法不同 (全角/半角)")
    return (f"“{header}”为 \"{typed}\": {why}, 公式读不出; 请改为 \"{matched}\" "
            f"(the formula compares the text as typed)")


def _number_problem(spec: Input, bounds: Bounds, value: object, number: float) -> str | None:
    header = spec.header
    noun = KIND_NOUNS.get(spec.kind, "数值")
    shown = format_number(number)
    if spec.kind == "rate" and number > 1 and (bounds.high is None or bounds.high <= 1):
        if not (isinstance(value, str) and "%" in text_of(value)) and 2 <= number <= 100:
            return f"“{header}”{unit_slip(number).zh} (a rate above 100%)"
        return (f"“{header}”为 {format_number(number * 100)}%, 比率应在 0%–100% 之间 "
                f"(a rate above 100%)")
    if bounds.low is not None and number < bounds.low:
        if bounds.low == 0:
            hint = NEGATIVE_HINTS.get(spec.kind, "").format(positive=format_number(-number))
            return (f"“{header}”为 {shown}: {noun}不能为负数{'; ' + hint if hint else ''} "
                    f"(must not be negative)")
        return f"“{header}”为 {shown}: {noun}不能小于 {format_number(bounds.low)} (too small)"
    if bounds.least is not None and 0 < number < bounds.least:
        return _too_small(spec, bounds.least, number)
    if bounds.whole and not float(number).is_integer():
        return f"“{header}”为 {shown}: {noun}应为整数 (must be a whole number)"
    if bounds.high is not None and number > bounds.high:
        return (f"“{header}”为 {format_number(number, grouped=True)}, 超出合理范围 "
                f"(≤ {bounds.high:,.0f}): 请检查是否多输了位数 (implausibly large)")
    return None


def _too_small(spec: Input, least: float, number: float) -> str:
    """A positive number below the kind's plausible least: in a seconds column, a time of day
    (1:01 typed is 0.000706 of a day; the file keeps no format to tell)."""
    shown = format_number(number) if number >= 0.01 else f"{number:.1g}"
    if spec.kind != "seconds":
        return (f"“{spec.header}”为 {shown}: 小于 {format_number(least)}, 不合理, 请检查 "
                f"(implausibly small)")
    seconds = round(number * SECONDS_PER_DAY)
    clock = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if (
        seconds >= 3600) else f"{seconds // 60}:{seconds % 60:02d}"
    return (f"“{spec.header}”为 {shown} 秒, 像是时间格式 ({clock})? 请填秒数, 如 {seconds} "
            f"(a time of day, not seconds)")


def float_cells(values: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """The cells as float64 (NaN where a cell is no float) and where a cell is a finite
    float: the cells every bulk path takes as they are."""
    if set(map(type, values)) <= {float, type(None)}:
        numbers = np.array(values, dtype=np.float64)  # None → NaN
    else:
        numbers = np.array([v if type(v) is float else math.nan for v in values],
                           dtype=np.float64)
    return numbers, np.isfinite(numbers)


def error_cells(values: Sequence[object]) -> list[int]:
    """The positions of the error values (:func:`~kpi_xl.payroll.grid.is_error`)."""
    if not any(issubclass(kind, str | KpiError) for kind in set(map(type, values))):
        return []
    errors = _errors(set(values))
    if not errors:
        return []
    return np.flatnonzero(_member(values, errors)).tolist()


def suspect_cells(spec: Input, values: Sequence[object], *, blank_ok: bool) -> np.ndarray:
    """Where a column of ``spec`` may hold a problem (a bool per cell): a blank unless
    ``blank_ok``, an error value, or a value the bulk test cannot clear. Every other cell
    certainly passes: it is no error and :func:`input_problem` finds nothing in it."""
    bounds = spec.limits
    if spec.allowed and spec.exact_text:
        suspect = ~_member(values, set(spec.allowed))
    elif spec.allowed:
        choices = {text_of(choice) for choice in spec.allowed}
        suspect = ~_member(values, {value for value in set(values) if isinstance(value, str)
                                    and text_of(value) in choices})
    elif bounds is None:
        distinct = set(values)
        padded = {value for value in distinct if _padded(spec, value)}
        suspect = ~_member(values, distinct - _errors(distinct) - padded - {None})
    else:
        numbers, fine = float_cells(values)
        if spec.kind == "rate" and (bounds.high is None or bounds.high <= 1):
            fine &= numbers <= 1
        if bounds.low is not None:
            fine &= numbers >= bounds.low
        if bounds.whole:
            fine &= numbers == np.floor(numbers)
        if bounds.high is not None:
            fine &= numbers <= bounds.high
        if bounds.least is not None:
            fine &= (numbers <= 0) | (numbers >= bounds.least)
        suspect = ~fine
    if blank_ok:
        suspect &= ~_blank(values)
    return suspect


PADDING_MATTERS = frozenset({"team"})
"""Text kinds the templates' formulas match as typed (SUMIF over 团队), where a stray space
makes another team: the 工号 has its own check (``payroll.compute``)."""


def _padded(spec: Input, value: object) -> bool:
    return spec.kind in PADDING_MATTERS and isinstance(value, str) and value != value.strip()


def _errors(values: set[object]) -> set[object]:
    """The error values among ``values`` (every Excel error code holds a ``#``)."""
    return {value for value in values if isinstance(value, KpiError) or (
        isinstance(value, str) and "#" in value and is_error(value))}


def _member(values: Sequence[object], found: set[object]) -> np.ndarray:
    """Per cell, whether its value is in ``found`` (equal, so a float never matches text)."""
    return np.fromiter(map(found.__contains__, values), dtype=bool, count=len(values))


def _blank(values: Sequence[object]) -> np.ndarray:
    """Per cell, whether it is blank (``None``: a :class:`~kpi_xl.payroll.grid.Sheet` reads
    every blank so)."""
    return np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))
