"""Multi-month rules over the history table (one row per agent per month).

The history is a :class:`pandas.DataFrame` with the columns ``月份`` (``YYYY-MM``; ``2024-3``,
``2024/03``, ``2024年3月`` and dates also read), ``工号``, ``得分`` and ``等级``. Rows that are
entirely blank are ignored (the tail of an Excel table). Every rule is a pure function of the
history and the month being judged, returning one row per agent who has a record in that
month: a DataFrame indexed by 工号 with the columns ``标记`` (the flag, ``""`` when none, or the
:class:`KpiError` that prevents judging the agent) and ``依据`` (the months that led to it).

* :func:`elimination_flags` — S1 "两次低于70分,淘汰": months below 70 among the months on record
  up to the judged month (optionally only the last ``window`` calendar months): the first →
  ``淘汰预警``, the second → ``淘汰``. The two months need not be consecutive.
* :func:`run_flags` — N calendar-consecutive months whose grade is in a set (a missing month
  breaks the run): :func:`promotion_flags` (S3: 3 months at 中级/高级 → ``晋升``) and
  :func:`telesales_elimination_flags` (电销: 3 D months in a row → ``淘汰``).
* :func:`quarter_sums` / :func:`quarter_prizes` — S5: the sum of each agent's monthly scores in
  a quarter, top 3 get 800/600/300 (paid in the first month of the next quarter:
  :func:`quarter_due`).

Flags describe the state as of the judged month (a 淘汰预警 stays shown until a second month
below 70 turns it into 淘汰; a 晋升 shows in every month that closes a qualifying run). An agent
whose considered rows hold a bad score/grade, a bad month or a duplicate month gets the error
instead of a flag — never a silent "no flag".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from itertools import repeat

import numpy as np
import pandas as pd

from kpi_xl.core.column import present
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import Amount
from kpi_xl.core.pool import QUARTERLY_PRIZES, top_n_prizes
from kpi_xl.core.scoring import labels_of, numbers_of
from kpi_xl.core.values import fold, format_numbers

MONTH = "月份"
AGENT = "工号"
SCORE = "得分"
GRADE = "等级"
FLAG = "标记"
BASIS = "依据"

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
    if isinstance(value, dt.date | pd.Timestamp):
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


def _prepare(history: pd.DataFrame, needed: Sequence[str]) -> pd.DataFrame:
    """Normalised rows: agent (text), month number, score/grade, and a per-row error."""
    missing = [name for name in (MONTH, AGENT, *needed) if name not in history.columns]
    if missing:
        raise ValueProblem(f"历史表缺少列: {', '.join(missing)}",
                           f"the history table lacks the columns {', '.join(missing)}")
    frame = history.reset_index(drop=True)
    cells = {name: _cells(frame[name]) for name in (MONTH, AGENT, *needed)}
    keep = np.flatnonzero(~_blank_rows(list(cells.values())))
    cells = {name: column[keep] for name, column in cells.items()}
    agents = labels_of(cells[AGENT], (AGENT, "staff id"))
    for index, error in enumerate(agents.errors):
        if error is not None:
            raise ValueProblem(f"历史表第{keep[index] + 1}行的工号有问题: {error.zh}",
                               f"history row {keep[index] + 1}: bad staff id ({error.en})")
    rows = pd.DataFrame({"agent": agents.values, "row": keep})
    months, errors = _months(cells[MONTH])
    rows["month"] = months
    if SCORE in needed:
        scores = numbers_of(cells[SCORE], (SCORE, "score"))
        rows["score"] = scores.values
        errors = _first_error(errors, scores.errors)
    if GRADE in needed:
        grades = labels_of(cells[GRADE], (GRADE, "grade"))
        rows["grade"] = grades.values
        errors = _first_error(errors, grades.errors)
    duplicate = rows.duplicated(["agent", "month"], keep=False).to_numpy() & (months >= 0)
    for index in np.flatnonzero(duplicate):
        if errors[index] is None:
            shown = month_text(int(months[index]))
            errors[index] = ValueProblem(
                f"工号 {rows.at[index, 'agent']} 在 {shown} 有多行记录",
                f"staff {rows.at[index, 'agent']} has several rows for {shown}",
            )
    rows["error"] = errors
    return rows


def _cells(series: pd.Series) -> np.ndarray:
    """A history column as cells; pandas' missing markers (NaN, NA, NaT) become blanks."""
    out = np.empty(len(series), dtype=object)
    out[:] = series.tolist()
    out[pd.isna(out)] = None
    return out


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


def _months(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's month number (-1 where it cannot be read) and the error there.

    A text is read once however many rows hold it; other cells (dates, numbers) and texts
    that are no month are read one by one, so every bad cell gets its own error.
    """
    values = cells.tolist()
    size = len(values)
    months = np.full(size, -1, dtype=np.int64)
    texts = np.flatnonzero(np.fromiter(map(isinstance, values, repeat(str)), dtype=bool,
                                       count=size))
    written = cells[texts].tolist()
    known = {text: _month_or_missing(text) for text in set(written)}
    months[texts] = list(map(known.__getitem__, written))
    errors = np.full(size, None, dtype=object)
    one_by_one = np.ones(size, dtype=bool)
    one_by_one[texts] = months[texts] < 0
    for index in np.flatnonzero(one_by_one).tolist():
        try:
            months[index] = month_number(values[index])
        except KpiError as error:
            errors[index] = error
    return months, errors


def _month_or_missing(text: str) -> int:
    try:
        return month_number(text)
    except KpiError:
        return -1


def _first_error(errors: np.ndarray, more: np.ndarray) -> np.ndarray:
    empty = ~present(errors)
    merged = errors.copy()
    merged[empty] = more[empty]
    return merged


def _judged(rows: pd.DataFrame, target: int) -> pd.Index:
    agents = pd.Index(rows.loc[rows["month"] == target, "agent"].unique(), name=AGENT)
    if agents.empty:
        shown = month_text(target)
        raise ValueProblem(f"历史表中没有 {shown} 的记录", f"the history has no rows for {shown}")
    return agents


def _result(agents: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({FLAG: "", BASIS: ""}, index=agents, dtype=object)


def _apply_errors(result: pd.DataFrame, considered: pd.DataFrame) -> pd.DataFrame:
    bad = considered[considered["error"].notna()]
    first = bad.groupby("agent", sort=False)["error"].first()
    first = first[first.index.isin(result.index)]
    result.loc[first.index, FLAG] = first.to_numpy()
    result.loc[first.index, BASIS] = ""
    return result


def elimination_flags(
    history: pd.DataFrame,
    month: object,
    *,
    threshold: float = 70,
    strikes: int = 2,
    window: int | None = None,
    warning: str = WARNING,
    flag: str = ELIMINATION,
) -> pd.DataFrame:
    """S1 两次低于70分,淘汰: ``flag`` at ``strikes`` months below ``threshold``, else ``warning``
    after at least one.

    Months considered: those on record up to ``month`` — all of them (default) or, with
    ``window``, only the last ``window`` calendar months ending at ``month``. ``依据`` lists the
    months below the threshold with their scores (``2024-01 65分; 2024-03 68分``).
    """
    if strikes < 1:
        raise ValueProblem("淘汰次数应至少为 1", "strikes must be at least 1")
    rows = _prepare(history, (SCORE,))
    target = month_number(month)
    agents = _judged(rows, target)
    low = -np.inf if window is None else target - window + 1
    considered = rows[rows["agent"].isin(agents) & (
        ((rows["month"] <= target) & (rows["month"] >= low)) | (rows["month"] < 0))]
    result = _result(agents)
    valid = considered[considered["error"].isna()]
    below = valid[valid["score"] < threshold].sort_values(["agent", "month"])
    if not below.empty:
        agents_below = below["agent"].to_numpy()
        starts = np.flatnonzero(np.r_[True, agents_below[1:] != agents_below[:-1]])
        ends = np.r_[starts[1:], len(below)]
        lines = _score_lines(below["month"].to_numpy(), below["score"].to_numpy())
        judged = agents_below[starts]
        result.loc[judged, FLAG] = np.where(ends - starts >= strikes, flag, warning)
        result.loc[judged, BASIS] = ["; ".join(lines[start:end]) for start, end
                                     in zip(starts.tolist(), ends.tolist(), strict=True)]
    return _apply_errors(result, considered)


def _score_lines(months: np.ndarray, scores: np.ndarray) -> list[str]:
    """``2024-01 65分`` per row; each distinct month and score written once."""
    month_texts = {month: month_text(month) for month in set(months.tolist())}
    return [f"{month_texts[month]} {score}分" for month, score
            in zip(months.tolist(), format_numbers(scores).tolist(), strict=True)]


def run_flags(
    history: pd.DataFrame,
    month: object,
    *,
    grades: Iterable[str],
    months: int = 3,
    flag: str,
) -> pd.DataFrame:
    """``flag`` where the agent's grade is in ``grades`` in each of the ``months`` calendar
    months ending at ``month`` (every month must be on record: a gap breaks the run).

    Grades compare folded and case-insensitively. ``依据`` lists the months of the run.
    """
    if months < 1:
        raise ValueProblem("连续月数应至少为 1", "the run length must be at least 1")
    wanted = {fold(str(g)).upper() for g in grades}
    rows = _prepare(history, (GRADE,))
    target = month_number(month)
    agents = _judged(rows, target)
    first = target - months + 1
    considered = rows[rows["agent"].isin(agents) & (
        ((rows["month"] <= target) & (rows["month"] >= first)) | (rows["month"] < 0))]
    result = _result(agents)
    valid = considered[considered["error"].isna()]
    grades = valid["grade"]
    hits = valid[grades.isin([g for g in grades.unique() if fold(str(g)).upper() in wanted])]
    counts = hits.groupby("agent", sort=False)["month"].nunique()
    done = counts[counts >= months].index
    if len(done):
        result.loc[done, FLAG] = flag
        result.loc[done, BASIS] = f"{month_text(first)}–{month_text(target)}"
    return _apply_errors(result, considered)


def promotion_flags(history: pd.DataFrame, month: object, *,
                    grades: Iterable[str] = PROMOTION_GRADES, months: int = 3,
                    flag: str = PROMOTION) -> pd.DataFrame:
    """S3: three consecutive months at 中级 or 高级 → ``晋升`` (promotion with a raise)."""
    return run_flags(history, month, grades=grades, months=months, flag=flag)


def telesales_elimination_flags(history: pd.DataFrame, month: object, *,
                                grades: Iterable[str] = ("D",), months: int = 3,
                                flag: str = ELIMINATION) -> pd.DataFrame:
    """电销客服: three D (不合格) months in a row → ``淘汰``."""
    return run_flags(history, month, grades=grades, months=months, flag=flag)


QUARTER_SCORE = "季度得分"
MONTHS_ON_RECORD = "月数"
RANK = "名次"
PRIZE = "奖金"


def quarter_sums(history: pd.DataFrame, quarter: object) -> pd.DataFrame:
    """S5: per agent with a record in the quarter, the sum of the monthly 得分 (``季度得分``)
    and how many months are on record (``月数``; a missing month simply adds nothing — the
    count shows it). A bad score in the quarter makes ``季度得分`` that error.
    """
    label, span = _quarter_months(quarter)
    rows = _prepare(history, (SCORE,))
    inside = rows[rows["month"].isin(list(span)) | (rows["month"] < 0)]
    agents = pd.Index(inside.loc[inside["month"] >= 0, "agent"].unique(), name=AGENT)
    if agents.empty:
        raise ValueProblem(f"历史表中没有 {label} 的记录", f"the history has no rows for {label}")
    inside = inside[inside["agent"].isin(agents)]
    valid = inside[inside["error"].isna()]
    sums = valid.groupby("agent", sort=False)["score"].sum().reindex(agents, fill_value=0.0)
    counts = valid[valid["month"] >= 0].groupby("agent", sort=False)["month"].nunique()
    result = pd.DataFrame({QUARTER_SCORE: sums.astype(object),
                           MONTHS_ON_RECORD: counts.reindex(agents, fill_value=0)},
                          index=agents)
    bad = inside[inside["error"].notna()].groupby("agent", sort=False)["error"].first()
    result.loc[bad.index, QUARTER_SCORE] = bad.to_numpy()
    return result


def quarter_prizes(history: pd.DataFrame, quarter: object,
                   prizes: Sequence[Amount] = QUARTERLY_PRIZES) -> pd.DataFrame:
    """S5: the quarter's top ``len(prizes)`` by summed monthly score get 800/600/300.

    Adds ``名次`` (competition rank; the error for agents that cannot be ranked) and ``奖金``
    (Decimal, or the error) to :func:`quarter_sums`. Ties share their positions' prizes.
    """
    result = quarter_sums(history, quarter)
    cells = result[QUARTER_SCORE].to_numpy(dtype=object)
    ranked = top_n_prizes(cells, prizes)
    result[RANK] = [e if e is not None else int(r)
                    for r, e in zip(ranked.rank.values, ranked.rank.errors, strict=True)]
    result[PRIZE] = ranked.amount.cells()
    return result
