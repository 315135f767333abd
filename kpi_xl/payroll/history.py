"""历史 for the refresh: merge this month's rows (idempotently) and run the template's
multi-month rules (:class:`~kpi_xl.templates.model.HistoryRule`) through ``core.history``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from kpi_xl.core import history as core
from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.payroll.grid import (
    Grid,
    header_columns,
    header_row,
    identity,
    is_blank,
    month_text_of,
    rows_below,
)
from kpi_xl.payroll.rules import RuleBook, grade_list, window_months
from kpi_xl.templates.layout import HISTORY_HEADERS
from kpi_xl.templates.model import HistoryRule

HistoryRow = tuple[object, ...]
"""月份, 工号, 姓名, 团队, KPI得分, 等级, 应发工资."""


def _month_key(value: object) -> int | None:
    try:
        return core.month_number(value)
    except KpiError:
        return None


def read_history(grid: Grid) -> list[HistoryRow]:
    """The rows of 历史 below its header (columns found by header text), blanks skipped."""
    top = header_row(grid, HISTORY_HEADERS[0])
    if top is None:
        return []
    columns = header_columns(grid, top)
    rows = []
    for r in rows_below(grid, top):
        values = tuple(grid.get((r, columns[h])) if h in columns else None
                       for h in HISTORY_HEADERS)
        if all(is_blank(v) for v in values):
            continue
        month = month_text_of(values[0])
        key = _month_key(month)
        if key is not None:
            month = core.month_text(key)
        rows.append((month, identity(values[1]) if not is_blank(values[1]) else values[1],
                     *values[2:]))
    return rows


def month_problems(grid: Grid) -> list[tuple[str, str, str]]:
    """``(cell, 工号, message)`` for every 历史 row whose 月份 cannot be read (``9月``)."""
    top = header_row(grid, HISTORY_HEADERS[0])
    if top is None:
        return []
    columns = header_columns(grid, top)
    month_col, agent_col = columns[HISTORY_HEADERS[0]], columns.get(HISTORY_HEADERS[1])
    found = []
    for r in rows_below(grid, top):
        if all(is_blank(grid.get((r, columns[h]))) for h in HISTORY_HEADERS if h in columns):
            continue
        agent = grid.get((r, agent_col)) if agent_col is not None else None
        try:
            core.month_number(month_text_of(grid.get((r, month_col))))
        except KpiError as error:
            found.append((coordinate(r, month_col), identity(agent) if not is_blank(agent) else "",
                          str(error)))
    return found


def merge(existing: Sequence[HistoryRow], month: str, current: Sequence[HistoryRow]
          ) -> list[HistoryRow]:
    """Existing rows of other months + this month's rows, in month order (stable; rows whose
    month cannot be read stay, at the end). Refreshing a month again replaces its rows."""
    target = core.month_number(month)
    kept = [row for row in existing if _month_key(row[0]) != target]
    rows = [*kept, *current]
    return sorted(rows, key=_order)


def _order(row: HistoryRow) -> tuple[bool, int]:
    key = _month_key(row[0])
    return key is None, key or 0


def frame(rows: Sequence[HistoryRow]) -> pd.DataFrame:
    return pd.DataFrame({
        core.MONTH: [row[0] for row in rows],
        core.AGENT: [row[1] for row in rows],
        core.SCORE: [row[4] for row in rows],
        core.GRADE: [row[5] for row in rows],
    }, dtype=object)


@dataclass
class HistoryOutcome:
    """Per agent: flags for 备注, errors for 异常, and pay amounts of history pay lines."""

    flags: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    amounts: dict[str, dict[str, Decimal | KpiError]] = field(default_factory=dict)
    """Rule key → agent → amount (agents absent get 0)."""
    notes: list[str] = field(default_factory=list)
    """Problems that concern no single agent."""


def apply_rules(rules: Sequence[HistoryRule], rows: Sequence[HistoryRow], month: str,
                book: RuleBook) -> HistoryOutcome:
    """Run every history rule of the template over ``rows`` (this month included)."""
    outcome = HistoryOutcome()
    data = frame(rows)
    for rule in rules:
        try:
            if rule.kind == "quarter_prize":
                outcome.amounts[rule.key] = _quarter_prize(rule, data, month, book, outcome)
                continue
            if rule.kind == "elimination":
                threshold = book.number(book.resolve(rule.threshold), "淘汰分数线")
                times = book.number(book.resolve(rule.times), "淘汰次数")
                if threshold is None or times is None:
                    continue
                result = core.elimination_flags(
                    data, month, threshold=threshold, strikes=int(times),
                    window=window_months(book.resolve(rule.window)),
                    warning=rule.warning or core.WARNING, flag=rule.flag or core.ELIMINATION)
            else:
                months = book.number(book.resolve(rule.times), "连续月数")
                if months is None:
                    continue
                result = core.run_flags(data, month, grades=grade_list(book.resolve(rule.grades)),
                                        months=int(months), flag=rule.flag)
        except KpiError as error:
            outcome.notes.append(f"{rule.flag or rule.key}: {error}")
            continue
        for agent, flag, basis in zip(result.index, result[core.FLAG], result[core.BASIS],
                                      strict=True):
            if isinstance(flag, KpiError):
                outcome.errors.setdefault(str(agent), []).append(f"{rule.flag}: {flag}")
            elif flag:
                text = f"{flag} ({basis})" if basis else str(flag)
                outcome.flags.setdefault(str(agent), []).append(text)
    return outcome


def _quarter_prize(rule: HistoryRule, data: pd.DataFrame, month: str, book: RuleBook,
                   outcome: HistoryOutcome) -> dict[str, Decimal | KpiError]:
    quarter = core.quarter_due(month)
    if quarter is None:
        return {}
    prizes = book.prizes(rule.table)
    try:
        result = core.quarter_prizes(data, quarter, prizes)
    except ValueProblem as error:
        outcome.notes.append(f"{quarter} 季度奖无法计算, 按 0 发放: {error}")
        return {}
    found: dict[str, Decimal | KpiError] = {}
    for agent, amount in zip(result.index, result[core.PRIZE], strict=True):
        found[str(agent)] = amount
    return found
