"""Multi-month rules over the history table (one row per agent per month).

The history is a :class:`History`: equal-length columns ``months`` (月份: ``YYYY-MM``;
``2024-3``, ``2024/03``, ``2024年3月`` and dates also read), ``agents`` (工号), ``scores`` (得分)
and ``grades`` (等级), the cells as a sheet holds them. Rows that are entirely blank are ignored
(the tail of an Excel table). Every rule is a pure function of the history and the month being
judged. A flag rule returns :class:`Flags`: one verdict per agent who has a record in that
month, in the order of their first row of it — the flag (``""`` when none, or the
:class:`KpiError` that prevents judging the agent) and the basis (the months that led to it).

* :func:`elimination_flags` — S1 "两次低于70分,淘汰": months below 70 among the months on record
  up to the judged month (optionally only the last ``window`` calendar months): the first →
  ``淘汰预警``, the second → ``淘汰``. The two months need not be consecutive.
* :func:`run_flags` — N calendar-consecutive months whose grade is in a set (a missing month
  breaks the run): :func:`promotion_flags` (S3: 3 months at 中级/高级 → ``晋升``) and
  :func:`telesales_elimination_flags` (电销: 3 D months in a row → ``淘汰``).
* :func:`quarter_sums` / :func:`quarter_prizes` — S5: the sum of each agent's monthly scores in
  a quarter, top 3 get 800/600/300 (paid in the first month of the next quarter:
  :func:`quarter_due`); :class:`QuarterSums` / :class:`QuarterPrizes`.

Flags describe the state as of the judged month (a 淘汰预警 stays shown until a second month
below 70 turns it into 淘汰; a 晋升 shows in every month that closes a qualifying run). An agent
whose considered rows hold a bad score/grade, a bad month or a duplicate month gets the error
instead of a flag — never a silent "no flag".

The rules work on whole columns (numpy): each distinct month text and 工号 is read once, agents
are numbered in order of appearance, and the per-agent work is array indexing, so 100,000
agents × 12 months cost numpy passes, not per-row Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import NamedTuple

import numpy as np

from kpi_xl.core.column import merge_errors, present
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import Amount
from kpi_xl.core.pool import QUARTERLY_PRIZES, top_n_prizes
from kpi_xl.core.scoring import labels_of, numbers_of
from kpi_xl.core.values import fold, format_numbers

AGENT = "工号"
SCORE = "得分"
GRADE = "等级"

WARNING = "淘汰预警"
ELIMINATION = "淘汰"
PROMOTION = "晋升"
PROMOTION_GRADES: tuple[str, ...] = ("中级客服", "高级客服", "中级", "高级")

_MONTH = re.compile(r"^(?P<y>\d{4})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*月?|(?P<m2>\d{2}))$")
_QUARTER = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/ ]?\s*Q\s*(?P<q>[1-4])|年?\s*第?\s*(?P<q2>[1-4一二三四])\s*季度?)$",
    re.IGNORECASE,
)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def month_number(value: object) -> int:
    """``2024-03`` → 2024 × 12 + 2 (a month count, so consecutive months differ by 1).

    Also reads ``2024-3``, ``2024/03``, ``2024.03``, ``2024年3月``, ``202403`` and dates.
    Raises :class:`KpiError` for anything else.
    """
    if isinstance(value, dt.date):  # datetimes too (and pandas' Timestamp, a datetime)
        return value.year * 12 + value.month - 1
    text = fold(str(value)) if value is not None else ""
    match = _MONTH.match(text)
    if match is not None:
        month = int(match["m"] or match["m2"])
        if 1 <= month <= 12:
            return int(match["y"]) * 12 + month - 1
    raise ValueProblem(f"月份 \"{text}\" 应写成 YYYY-MM, 如 2024-03",
                       f"month {text!r} must be written YYYY-MM, e.g. 2024-03")


def month_text(number: int) -> str:
    """The inverse of :func:`month_number`: 24290 → ``2024-03``."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def quarter_of(month: object) -> str:
    """``2024-05`` → ``2024Q2``."""
    number = month_number(month)
    return f"{number // 12:04d}Q{number % 12 // 3 + 1}"


def _quarter_months(quarter: object) -> tuple[str, range]:
    """A quarter label (``2024Q2``, ``2024-Q2``, ``2024年第二季度``) or a month in it."""
    text = fold(str(quarter))
    match = _QUARTER.match(text)
    if match is None:
        label = quarter_of(quarter)
        match = _QUARTER.match(label)
        assert match is not None
    digit = match["q"] or match["q2"]
    q = _CHINESE_DIGITS.get(digit) or int(digit)
    first = int(match["y"]) * 12 + (q - 1) * 3
    return f"{match['y']}Q{q}", range(first, first + 3)


def quarter_due(month: object) -> str | None:
    """The quarter whose prizes are paid in ``month`` (its first month), else ``None``.

    S5: the quarterly prizes are paid in the first month of the next quarter:
    ``quarter_due("2024-04")`` → ``2024Q1``; ``quarter_due("2024-05")`` → ``None``.
    """
    number = month_number(month)
    if number % 3:
        return None
    return quarter_of(month_text(number - 1))


@dataclass(frozen=True, eq=False)
class History:
    """The history table by column: row i is ``months[i]``, ``agents[i]``, ``scores[i]``,
    ``grades[i]``, each cell as the sheet holds it (``None``, blank text or NaN: blank).

    ``scores`` or ``grades`` may be left out (``None``) when no rule that reads them is run: a
    rule that needs a missing column raises "历史表缺少列".
    """

    months: Sequence[object]
    agents: Sequence[object]
    scores: Sequence[object] | None = None
    grades: Sequence[object] | None = None

    def __post_init__(self) -> None:
        sizes = {len(column) for column in (self.months, self.agents, self.scores, self.grades)
                 if column is not None}
        if len(sizes) > 1:
            raise ValueError(f"the history columns differ in length: {sorted(sizes)}")

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[object]]) -> History:
        """From ``(月份, 工号, 得分, 等级)`` rows."""
        table = list(rows)
        if not table:
            return cls((), (), (), ())
        months, agents, scores, grades = zip(*table, strict=True)
        return cls(months, agents, scores, grades)


def agent_labels(agents: Sequence[object]) -> list[object]:
    """Each 工号 as the rules name agents in their results: text folded, a number (or a text
    that reads as one: ``00123``) written as HR would (``123``); ``None`` for a blank."""
    return labels_of(_cells(agents), (AGENT, "staff id")).values.tolist()


class Flag(NamedTuple):
    """One agent's verdict: ``flag`` is ``""`` (none), the flag text, or the :class:`KpiError`
    that prevents judging the agent; ``basis`` the months that led to the flag (else ``""``)."""

    agent: str
    flag: str | KpiError
    basis: str


@dataclass(frozen=True)
class Flags:
    """A flag rule's verdicts, one per judged agent (each agent with a row in the judged month,
    in the order of their first row of it); iterating gives :class:`Flag` rows."""

    agents: tuple[str, ...]
    flags: tuple[str | KpiError, ...]
    bases: tuple[str, ...]

    def __iter__(self) -> Iterator[Flag]:
        return map(Flag, self.agents, self.flags, self.bases)


@dataclass(frozen=True)
class QuarterSums:
    """S5 per agent with a record in the quarter (in order of their first row of it): the sum
    of the monthly 得分 (季度得分, or the first error among the agent's rows of the quarter) and
    how many months are on record (月数)."""

    agents: tuple[str, ...]
    scores: tuple[float | KpiError, ...]
    months: tuple[int, ...]


@dataclass(frozen=True)
class QuarterPrizes(QuarterSums):
    """:class:`QuarterSums` with 名次 (competition rank, or the error for an agent that cannot
    be ranked) and 奖金 (Decimal, or the error)."""

    ranks: tuple[int | KpiError, ...]
    prizes: tuple[Decimal | KpiError, ...]


@dataclass(frozen=True)
class _Rows:
    """The non-blank rows of a history, read: agents numbered in order of first appearance."""

    names: np.ndarray
    """Object array: each distinct agent's label (工号 text), by number."""
    agent: np.ndarray
    """int64 per row: the agent's number."""
    month: np.ndarray
    """int64 per row: :func:`month_number`, -1 where the month cannot be read."""
    value: np.ndarray
    """Per row: the score (float64) or the grade label (object)."""
    error: np.ndarray
    """Object per row: ``None`` or the KpiError of a bad month, value or duplicate month."""


def _prepare(history: History, needed: str) -> _Rows:
    """The history's rows read for a rule that needs the column ``needed`` (得分 or 等级).

    A row whose 月份, 工号 and ``needed`` are all blank is skipped; a bad 工号 stops the rule.
    """
    column = history.scores if needed == SCORE else history.grades
    if column is None:
        raise ValueProblem(f"历史表缺少列: {needed}",
                           f"the history table lacks the columns {needed}")
    columns = [_cells(history.months), _cells(history.agents), _cells(column)]
    months = _text_months(columns[0])
    blank = np.zeros(len(months), dtype=bool)
    unread = np.flatnonzero(months < 0)  # a row with a month text is not blank
    blank[unread] = _blank_rows([cells[unread] for cells in columns])
    keep = np.flatnonzero(~blank)
    month_cells, agent_cells, value_cells = (cells[keep] for cells in columns)
    agents = labels_of(agent_cells, (AGENT, "staff id"))
    failed = np.flatnonzero(present(agents.errors))
    if failed.size:
        index, error = int(failed[0]), agents.errors[failed[0]]
        raise ValueProblem(f"历史表第{keep[index] + 1}行的工号有问题: {error.zh}",
                           f"history row {keep[index] + 1}: bad staff id ({error.en})")
    names, agent = _numbered(agents.values)
    month = months[keep]
    errors = _read_other_months(month_cells, month)
    if needed == SCORE:
        values = numbers_of(value_cells, (SCORE, "score"))
    else:
        values = labels_of(value_cells, (GRADE, "grade"))
    errors = merge_errors(errors, values.errors)
    for index in _duplicates(agent, month).tolist():
        if errors[index] is None:
            name, shown = names[agent[index]], month_text(int(month[index]))
            errors[index] = ValueProblem(f"工号 {name} 在 {shown} 有多行记录",
                                         f"staff {name} has several rows for {shown}")
    return _Rows(names, agent, month, values.values, errors)


def _cells(column: Sequence[object]) -> np.ndarray:
    """A history column as an object array; NaN (the only cell unequal to itself) is a blank."""
    cells = np.empty(len(column), dtype=object)
    cells[:] = column
    cells[np.not_equal(cells, cells)] = None
    return cells


def _text_months(cells: np.ndarray) -> np.ndarray:
    """Each cell's month number where it is a month text (each distinct text read once), else
    -1 (left to :func:`_read_other_months`)."""
    values = cells.tolist()
    months = np.full(len(values), -1, dtype=np.int64)
    texts = np.flatnonzero(np.fromiter(map(isinstance, values, repeat(str)), dtype=bool,
                                       count=len(values)))
    written = cells[texts].tolist()
    known = {text: _month_or_missing(text) for text in set(written)}
    months[texts] = np.fromiter(map(known.__getitem__, written), dtype=np.int64,
                                count=texts.size)
    return months


def _month_or_missing(text: str) -> int:
    try:
        return month_number(text)
    except KpiError:
        return -1


def _read_other_months(cells: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Reads the cells :func:`_text_months` left at -1 (dates, numbers, bad texts) one by one
    into ``months``; returns the error of each cell that is no month (each its own)."""
    errors = np.full(len(cells), None, dtype=object)
    for index in np.flatnonzero(months < 0).tolist():
        try:
            months[index] = month_number(cells[index])
        except KpiError as error:
            errors[index] = error
    return errors


def _blank_rows(columns: list[np.ndarray]) -> np.ndarray:
    """Rows whose cells are all blank (the tail of an Excel table): a later column is only
    looked at in the rows still blank."""
    blank = _blank_cells(columns[0])
    for column in columns[1:]:
        rows = np.flatnonzero(blank)
        blank[rows] = _blank_cells(column[rows])
    return blank


def _blank_cells(cells: np.ndarray) -> np.ndarray:
    return np.fromiter((v is None or (isinstance(v, str) and not v.strip()) for v in cells),
                       dtype=bool, count=len(cells))


def _numbered(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct labels in order of first appearance, and each row's index among them."""
    size = len(labels)
    first: dict[object, int] = {}  # label → the row where it first appears
    appears = np.fromiter(map(first.setdefault, labels.tolist(), range(size)), dtype=np.int64,
                          count=size)
    starts = np.flatnonzero(appears == np.arange(size))
    number = np.zeros(size, dtype=np.int64)
    number[starts] = np.arange(starts.size)
    return labels[starts], number[appears]


def _duplicates(agent: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Rows (ascending) that share agent and (readable) month with another row."""
    rows = np.flatnonzero(month >= 0)
    if rows.size < 2:
        return rows[:0]
    key = agent[rows] * (int(month[rows].max()) + 1) + month[rows]
    order = np.argsort(key, kind="stable")
    same = key[order][1:] == key[order][:-1]
    shared = np.zeros(rows.size, dtype=bool)
    shared[order[1:][same]] = True
    shared[order[:-1][same]] = True
    return rows[shared]


@dataclass(frozen=True)
class _Judged:
    """The agents a rule answers for, and each row's place among them."""

    agents: np.ndarray
    """Agent numbers, in the order of the result."""
    slot: np.ndarray
    """Per row: the index of its agent in ``agents``, -1 for agents not judged."""

    @property
    def rows(self) -> np.ndarray:
        """Per row: whether its agent is judged."""
        return self.slot >= 0


def _judged(rows: _Rows, months: range, shown: str) -> _Judged:
    """The agents with a row in ``months``, in the order of their first such row."""
    inside = np.flatnonzero((rows.month >= months.start) & (rows.month < months.stop))
    if not inside.size:
        raise ValueProblem(f"历史表中没有 {shown} 的记录", f"the history has no rows for {shown}")
    numbers, first = np.unique(rows.agent[inside], return_index=True)
    agents = numbers[np.argsort(first)]
    slots = np.full(len(rows.names), -1, dtype=np.int64)
    slots[agents] = np.arange(agents.size)
    return _Judged(agents, slots[rows.agent])


def _considered(rows: _Rows, judged: _Judged, low: float, target: int) -> np.ndarray:
    """Rows of judged agents in the months ``low``…``target`` or whose month cannot be read."""
    month = rows.month
    return judged.rows & (((month <= target) & (month >= low)) | (month < 0))


def _first_errors(rows: _Rows, judged: _Judged, among: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Slots of the judged agents with an error in the rows ``among``, and the first error of
    each (in row order)."""
    bad = np.flatnonzero(among & present(rows.error))
    slots, first = np.unique(judged.slot[bad], return_index=True)
    return slots, rows.error[bad[first]]


def _flags(rows: _Rows, judged: _Judged, considered: np.ndarray, flags: np.ndarray,
           bases: np.ndarray) -> Flags:
    """The verdicts, an agent's first error among its considered rows replacing its flag."""
    slots, errors = _first_errors(rows, judged, considered)
    flags[slots] = errors
    bases[slots] = ""
    return Flags(tuple(rows.names[judged.agents].tolist()), tuple(flags.tolist()),
                 tuple(bases.tolist()))


def _no_flags(judged: _Judged) -> tuple[np.ndarray, np.ndarray]:
    """Flags and bases to fill in, all ``""`` (no flag)."""
    return (np.full(judged.agents.size, "", dtype=object),
            np.full(judged.agents.size, "", dtype=object))


def elimination_flags(
    history: History,
    month: object,
    *,
    threshold: float = 70,
    strikes: int = 2,
    window: int | None = None,
    warning: str = WARNING,
    flag: str = ELIMINATION,
) -> Flags:
    """S1 两次低于70分,淘汰: ``flag`` at ``strikes`` months below ``threshold``, else ``warning``
    after at least one.

    Months considered: those on record up to ``month`` — all of them (default) or, with
    ``window``, only the last ``window`` calendar months ending at ``month``. The basis lists
    the months below the threshold with their scores (``2024-01 65分; 2024-03 68分``).
    """
    if strikes < 1:
        raise ValueProblem("淘汰次数应至少为 1", "strikes must be at least 1")
    rows = _prepare(history, SCORE)
    target = month_number(month)
    judged = _judged(rows, range(target, target + 1), month_text(target))
    low = -np.inf if window is None else target - window + 1
    considered = _considered(rows, judged, low, target)
    flags, bases = _no_flags(judged)
    valid = considered & ~present(rows.error)
    below = np.flatnonzero(valid)
    below = below[rows.value[below] < threshold]
    if below.size:
        below = below[np.lexsort((rows.month[below], judged.slot[below]))]
        slots = judged.slot[below]
        starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
        ends = np.r_[starts[1:], below.size]
        lines = _score_lines(rows.month[below], rows.value[below])
        flags[slots[starts]] = np.where(ends - starts >= strikes, flag, warning)
        bases[slots[starts]] = ["; ".join(lines[start:end]) for start, end
                                in zip(starts.tolist(), ends.tolist(), strict=True)]
    return _flags(rows, judged, considered, flags, bases)


def _score_lines(months: np.ndarray, scores: np.ndarray) -> list[str]:
    """``2024-01 65分`` per row; each distinct month and score written once."""
    month_texts = {month: month_text(month) for month in set(months.tolist())}
    return [f"{month_texts[month]} {score}分" for month, score
            in zip(months.tolist(), format_numbers(scores).tolist(), strict=True)]


def run_flags(
    history: History,
    month: object,
    *,
    grades: Iterable[str],
    months: int = 3,
    flag: str,
) -> Flags:
    """``flag`` where the agent's grade is in ``grades`` in each of the ``months`` calendar
    months ending at ``month`` (every month must be on record: a gap breaks the run).

    Grades compare folded and case-insensitively. The basis names the months of the run.
    """
    if months < 1:
        raise ValueProblem("连续月数应至少为 1", "the run length must be at least 1")
    wanted = {fold(str(g)).upper() for g in grades}
    rows = _prepare(history, GRADE)
    target = month_number(month)
    judged = _judged(rows, range(target, target + 1), month_text(target))
    first = target - months + 1
    considered = _considered(rows, judged, first, target)
    flags, bases = _no_flags(judged)
    valid = np.flatnonzero(considered & ~present(rows.error))
    labels = rows.value[valid].tolist()
    hit = {label: fold(str(label)).upper() in wanted for label in set(labels)}
    hits = valid[np.fromiter(map(hit.__getitem__, labels), dtype=bool, count=valid.size)]
    # the valid rows of an agent without errors have distinct months: a count is the run
    done = np.bincount(judged.slot[hits], minlength=judged.agents.size) >= months
    flags[done] = flag
    bases[done] = f"{month_text(first)}–{month_text(target)}"
    return _flags(rows, judged, considered, flags, bases)


def promotion_flags(history: History, month: object, *,
                    grades: Iterable[str] = PROMOTION_GRADES, months: int = 3,
                    flag: str = PROMOTION) -> Flags:
    """S3: three consecutive months at 中级 or 高级 → ``晋升`` (promotion with a raise)."""
    return run_flags(history, month, grades=grades, months=months, flag=flag)


def telesales_elimination_flags(history: History, month: object, *,
                                grades: Iterable[str] = ("D",), months: int = 3,
                                flag: str = ELIMINATION) -> Flags:
    """电销客服: three D (不合格) months in a row → ``淘汰``."""
    return run_flags(history, month, grades=grades, months=months, flag=flag)


def quarter_sums(history: History, quarter: object) -> QuarterSums:
    """S5: per agent with a record in the quarter, the sum of the monthly 得分 and how many
    months are on record (a missing month simply adds nothing — the count shows it). A bad
    score, month or duplicate month in the quarter makes the sum that error.
    """
    label, span = _quarter_months(quarter)
    rows = _prepare(history, SCORE)
    judged = _judged(rows, span, label)
    inside = _considered(rows, judged, span.start, span.stop - 1)
    valid = np.flatnonzero(inside & ~present(rows.error))
    slots = judged.slot[valid]
    sums = _compensated_sums(slots, rows.value[valid], judged.agents.size).tolist()
    counts = np.bincount(slots, minlength=judged.agents.size)
    bad, errors = _first_errors(rows, judged, inside)
    for slot, error in zip(bad.tolist(), errors.tolist(), strict=True):
        sums[slot] = error
    return QuarterSums(tuple(rows.names[judged.agents].tolist()), tuple(sums),
                       tuple(counts.tolist()))


def _compensated_sums(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per group, the sum of its values in row order with Kahan compensation: to the bit the
    sums pandas' (Cython) groupby sum gave when these rules ran on pandas."""
    sums = np.zeros(size)
    if not groups.size:
        return sums
    compensation = np.zeros(size)
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    step = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
    for nth in range(int(step.max()) + 1):  # the nth value of each group: one per group
        rows = order[step == nth]
        group = groups[rows]
        y = values[rows] - compensation[group]
        total = sums[group] + y
        change = total - sums[group] - y
        compensation[group] = np.where(np.isnan(change), 0.0, change)  # an infinite value
        sums[group] = total
    return sums


def quarter_prizes(history: History, quarter: object,
                   prizes: Sequence[Amount] = QUARTERLY_PRIZES) -> QuarterPrizes:
    """S5: the quarter's top ``len(prizes)`` by summed monthly score get 800/600/300.

    Adds the ranks and prizes to :func:`quarter_sums`. Ties share their positions' prizes.
    """
    sums = quarter_sums(history, quarter)
    ranked = top_n_prizes(sums.scores, prizes)
    ranks = [e if e is not None else int(r)
             for r, e in zip(ranked.rank.values.tolist(), ranked.rank.errors, strict=True)]
    return QuarterPrizes(sums.agents, sums.scores, sums.months, tuple(ranks),
                         tuple(ranked.amount.cells()))
