"""历史 for the refresh: merge this month's rows (idempotently) and run the template's
multi-month rules (:class:`~kpi_xl.templates.model.HistoryRule`) through ``core.history``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import repeat
from operator import is_, itemgetter

import numpy as np

from kpi_xl.core import history as core
from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.payroll.grid import (
    Sheet,
    ambiguous_month,
    ambiguous_month_message,
    identity,
    month_text_of,
)
from kpi_xl.payroll.rules import RuleBook, grade_list, window_months
from kpi_xl.templates.layout import HISTORY_HEADERS
from kpi_xl.templates.model import HistoryRule

HistoryRow = tuple[object, ...]
"""月份, 工号, 姓名, 团队, KPI得分, 等级, 应发工资."""


@lru_cache(maxsize=4096, typed=True)
def _month_key(value: object) -> int | None:
    """The month number of a 月份 as 历史 keeps it; ``None`` when it cannot be read, or is a
    number that may be either of two months (2026.1: never guessed)."""
    if ambiguous_month(value) is not None:
        return None
    try:
        return core.month_number(value)
    except KpiError:
        return None


@lru_cache(maxsize=4096, typed=True)
def _read_month(value: object) -> tuple[object, str | None]:
    """A 月份 cell as 历史 keeps it (``YYYY-MM`` when it can be read; as it is when it cannot, or
    when it is a number that may be either of two months) and, when it cannot, why not."""
    if ambiguous_month(value) is not None:
        return value, ""  # the message names the cell: see read_history
    month = month_text_of(value)
    try:
        return core.month_text(core.month_number(month)), None
    except KpiError as error:
        return month, str(error)


def unclear_month(value: object) -> str:
    """What the history rules are given for a month :func:`ambiguous_month` cannot tell: a text
    no rule reads as a month, so the agent's rules report the row rather than use a guess (the
    rules' error for the agent quotes it)."""
    either = ambiguous_month(value)
    assert either is not None
    return f"{value!r} ({either[0]}/{either[1]}?)"


@dataclass(frozen=True)
class MonthProblem:
    """A 历史 row whose 月份 cannot be read: the cell, the 工号, the message for 异常, the text
    the history rules' error for that agent quotes (to list the row once), and the month cell
    when it is a number that may be either of two months (else ``None``)."""

    cell: str
    agent: str
    message: str
    quoted: str
    ambiguous: float | None = None


def unclear_months(problems: Sequence[MonthProblem]) -> dict[object, str]:
    """The ambiguous month numbers among ``problems``, each with the text the rules get."""
    return {problem.ambiguous: problem.quoted for problem in problems
            if problem.ambiguous is not None}


def _agent_id(value: object) -> str | None:
    """A 工号 cell as 历史 keeps it: its text (:func:`identity`), ``None`` when blank."""
    return None if value is None else identity(value)


def read_history(sheet: Sheet) -> tuple[list[HistoryRow], list[MonthProblem]]:
    """The rows of 历史 below its header (columns found by header text), blanks skipped; and a
    :class:`MonthProblem` for every row whose 月份 cannot be read (``9月``), or is a number that
    may be either of two months (2026.1: 2026-10 typed in a General cell, or 2026-01?)."""
    top = sheet.header_row(HISTORY_HEADERS[0])
    if top is None:
        return [], []
    columns = sheet.header_columns(top)
    month_col = columns[HISTORY_HEADERS[0]]
    rows = sheet.rows_below(top)
    cells = [sheet.column(columns[h], rows) if h in columns else [None] * len(rows)
             for h in HISTORY_HEADERS]
    blank = np.logical_and.reduce([np.fromiter(map(is_, column, repeat(None)), dtype=bool,
                                               count=len(rows)) for column in cells])
    if blank.any():
        kept = np.flatnonzero(~blank).tolist()
        rows = list(map(rows.__getitem__, kept))
        cells = [list(map(column.__getitem__, kept)) for column in cells]
    months, errors = zip(*map(_read_month, cells[0]), strict=True) if rows else ((), ())
    agents = list(map(lru_cache(maxsize=None, typed=True)(_agent_id), cells[1]))  # per 工号 once
    problems = [_month_problem(coordinate(r, month_col), agent, month, error)
                for r, agent, month, error in zip(rows, agents, months, errors, strict=True)
                if error is not None]
    return list(zip(months, agents, *cells[2:], strict=True)), problems


def _month_problem(cell: str, agent: str | None, month: object, error: str) -> MonthProblem:
    """The problem of one 历史 row whose 月份 (as kept) could not be read: ``error``, or the
    month is ambiguous (``error`` empty)."""
    who = "" if agent is None else agent
    ambiguous = ambiguous_month_message(month)
    if ambiguous is None:
        return MonthProblem(cell, who, error, error)
    zh, en = ambiguous
    return MonthProblem(cell, who, f"{zh}; 改正前此行不计入任何月份, 读到它的历史规则 "
                                   f"(淘汰/晋升/季度奖) 对此人不作判断, 待核 ({en}; until then "
                                   f"the history rules that read this row do not judge the agent)",
                        unclear_month(month), month)  # type: ignore[arg-type]  # a float


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


def history_table(rows: Sequence[HistoryRow], unclear: Mapping[object, str] | None = None
                  ) -> core.History:
    """The columns the rules read: 月份, 工号, KPI得分, 等级; each month in ``unclear`` (a
    number that may be either of two months) as the text given there, which no rule reads as a
    month (:func:`unclear_month`)."""
    months, *others = (list(map(itemgetter(column), rows)) for column in (0, 1, 4, 5))
    if unclear:
        months = [unclear.get(month, month) if isinstance(month, float) else month
                  for month in months]
    return core.History(months, *others)


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
                book: RuleBook, unclear: Mapping[object, str] | None = None) -> HistoryOutcome:
    """Run every history rule of the template over ``rows`` (this month included); the
    outcome is keyed by 工号 as the payroll writes it (:func:`~kpi_xl.payroll.grid.identity`).
    ``unclear``: the month cells that may be either of two months, each with the text the
    rules get instead (:func:`history_table`)."""
    outcome = HistoryOutcome()
    data = history_table(rows, unclear)
    written = _written_ids(rows)
    for rule in rules:
        try:
            if rule.kind == "quarter_prize":
                outcome.amounts[rule.key] = _quarter_prize(
                    rule, data, month, book, outcome, _unclear_agents(rows, unclear or {}))
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
        for label, flag, basis in result:
            for agent in written.get(label, (label,)):
                if isinstance(flag, KpiError):
                    outcome.errors.setdefault(agent, []).append(f"{rule.flag}: {flag}")
                elif flag:
                    outcome.flags.setdefault(agent, []).append(
                        f"{flag} ({basis})" if basis else flag)
    for key, amounts in outcome.amounts.items():
        outcome.amounts[key] = {agent: amount for label, amount in amounts.items()
                                for agent in written.get(label, (label,))}
    return outcome


def _written_ids(rows: Sequence[HistoryRow]) -> dict[object, list[str]]:
    """The rules' name of each agent (:func:`core.agent_labels`: ``00123`` reads as ``123``)
    → the 工号 texts of 历史 it stands for, so that no flag or prize misses its agent."""
    ids = list(dict.fromkeys(row[1] for row in rows if row[1] is not None))
    written: dict[object, list[str]] = {}
    for label, agent in zip(core.agent_labels(ids), ids, strict=True):
        written.setdefault(label, []).append(agent)
    return written


def _unclear_agents(rows: Sequence[HistoryRow], unclear: Mapping[object, str]
                    ) -> dict[str, tuple[str, ...]]:
    """The 工号 of the rows whose month may be either of two months → the quarters those
    months fall in."""
    found: dict[str, tuple[str, ...]] = {}
    if not unclear:
        return found
    for row in rows:
        either = ambiguous_month(row[0]) if row[0] in unclear else None
        if either is not None and row[1] is not None:
            found[str(row[1])] = found.get(str(row[1]), ()) + tuple(map(core.quarter_of, either))
    return found


def _quarter_prize(rule: HistoryRule, data: core.History, month: str, book: RuleBook,
                   outcome: HistoryOutcome, unclear: Mapping[str, tuple[str, ...]]
                   ) -> dict[str, Decimal | KpiError]:
    """The quarter prizes paid this month; all held (an error each) while a row whose month may
    be either of two months may belong to the quarter: who ranks where is unknown."""
    quarter = core.quarter_due(month)
    if quarter is None:
        return {}
    doubtful = [agent for agent, quarters in unclear.items() if quarter in quarters]
    if doubtful:
        who = "、".join(doubtful)
        error = ValueProblem(f"{quarter} 季度奖待核: 历史中 {who} 有月份是数字的行, 可能属于 "
                             f"{quarter}, 名次无法确定", f"{quarter} prizes on hold: a month of "
                             f"{who} on 历史 is a number that may fall in {quarter}")
        outcome.notes.append(str(error))
        try:
            ranked: tuple[str, ...] = core.quarter_sums(data, quarter).agents
        except KpiError:  # nobody on record in the quarter
            ranked = ()
        return dict.fromkeys([*ranked, *doubtful], error)
    prizes = book.prizes(rule.table)
    try:
        result = core.quarter_prizes(data, quarter, prizes)
    except ValueProblem as error:
        outcome.notes.append(f"{quarter} 季度奖无法计算, 按 0 发放: {error}")
        return {}
    return dict(zip(result.agents, result.prizes, strict=True))
