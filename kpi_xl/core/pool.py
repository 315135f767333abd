"""Rank pools (S3), top-N prizes (S5) and plain shares (KPI_SHARE), exact to the fen.

S3: the bonus pool (6‰ of 静默下单销售额) goes 40% + 200 元 to the top scorer, 30% + 100 元 to
the second, and the remaining 30% equally to the rest; ties are broken by personal sales. The
split is written as a small notation, ``1:40%+200; 2:30%+100; 其余:30%``:

* ``rank:share[+fixed]`` — rank is 1, 2, … (``第1名`` also reads), share a percentage (or a
  fraction ≤ 1), fixed an optional prize in 元 paid on top of the pool;
* ``其余:share[+fixed]`` (``rest``, ``其他``, ``剩余``) — that share split equally among everyone
  below the ranked positions (each also gets the fixed amount);
* the shares must total 100%; ranks must run 1, 2, … without gaps.

Ranking and ties: scores descending, then the tiebreak (sales) descending; scores are compared
rounded to 9 decimals so binary noise does not break a tie. Agents still tied occupy a block
of positions and share those positions' amounts (percentage AND fixed) equally, to the fen.
Ranks are competition ranks (1, 1, 3).

Fewer agents than positions: the shares of positions nobody holds (and the 其余 share when
nobody is below the ranked positions) are redistributed over the held positions in proportion
to their shares, so the whole pool is always paid out; the unheld fixed prizes are not paid
(they are not part of the pool).

The percentage parts sum EXACTLY to the pool (largest remainder over all agents); the fixed
prizes come on top. Agents whose score (or tiebreak) cell is bad are excluded and carry that
error; the pool is shared among the others. With no valid agent nothing is paid.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np

from kpi_xl.core.column import Column, merge_errors, present
from kpi_xl.core.errors import KpiError, RuleError, ValueProblem
from kpi_xl.core.money import (
    ZERO,
    Amount,
    MoneyColumn,
    split_largest_remainder,
    to_decimal,
    to_money,
)
from kpi_xl.core.scoring import CellsLike, Name, broadcast, labels_of, numbers_of
from kpi_xl.core.values import Scale, fold, format_number, read_number, shown_decimal

DEFAULT_SPLIT = "1:40%+200; 2:30%+100; 其余:30%"
MONTHLY_PRIZES: tuple[int, ...] = (300, 200, 100)
QUARTERLY_PRIZES: tuple[int, ...] = (800, 600, 300)
TIE_DECIMALS = 9

_REST_WORDS = frozenset({"其余", "其他", "剩余", "REST", "OTHERS", "OTHER"})
_ENTRY = re.compile(
    r"^(?:第\s*)?(?P<rank>\d+|其余|其他|剩余|rest|others?)\s*(?:名)?\s*:\s*"
    r"(?P<share>[^+]+?)\s*(?:\+\s*(?P<fixed>.+?))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Place:
    """One position's share of the pool (exact fraction) and its fixed prize."""

    share: Fraction
    fixed: Decimal


@dataclass(frozen=True)
class SplitRule:
    """Ranked positions 1…k, and the share for everyone below them (``rest``)."""

    places: tuple[Place, ...]
    rest: Place | None

    def format(self) -> str:
        """The canonical text of the rule."""
        def one(place: Place) -> str:
            text = f"{format_number(float(place.share), Scale.PERCENT)}"
            return text + (f"+{format_number(float(place.fixed))}" if place.fixed else "")
        parts = [f"{rank}:{one(place)}" for rank, place in enumerate(self.places, start=1)]
        if self.rest is not None:
            parts.append(f"其余:{one(self.rest)}")
        return "; ".join(parts)


def _share(text: str, where: tuple[str, str]) -> Fraction:
    number = read_number(text)
    if number is None or number.value < 0 or (number.scale is Scale.PLAIN and number.value > 1):
        raise RuleError(f"{where[0]}: 份额 \"{text}\" 应为百分比, 如 40%",
                        f"{where[1]}: share {text!r} must be a percentage such as 40%")
    return Fraction(shown_decimal(number.value))


@lru_cache(maxsize=256)
def parse_split(text: str) -> SplitRule:
    """Parse ``1:40%+200; 2:30%+100; 其余:30%`` (see the module docstring)."""
    folded = fold(text)
    tokens = [t.strip() for t in re.split(r"[;\n]", folded) if t.strip()]
    if not tokens:
        raise RuleError("分配规则为空", "the split rule is empty")
    ranked: dict[int, Place] = {}
    rest: Place | None = None
    for number, token in enumerate(tokens, start=1):
        where = (f"第{number}段 \"{token}\"", f"token {number} {token!r}")
        match = _ENTRY.match(token)
        if match is None:
            raise RuleError(f"{where[0]} 无法识别; 应写成 名次:比例+奖金, 如 1:40%+200",
                            f"{where[1]} not understood; write rank:share+prize, e.g. 1:40%+200")
        fixed = ZERO
        if match["fixed"]:
            prize = read_number(match["fixed"])
            if prize is None or prize.value < 0:
                raise RuleError(f"{where[0]}: 奖金 \"{match['fixed']}\" 应为非负数字",
                                f"{where[1]}: prize {match['fixed']!r} must be a number ≥ 0")
            fixed = to_money(prize.value)
        place = Place(_share(match["share"], where), fixed)
        rank = match["rank"]
        if rank.upper() in _REST_WORDS:
            if rest is not None:
                raise RuleError(f"{where[0]}: 其余 重复", f"{where[1]}: rest repeats")
            rest = place
            continue
        position = int(rank)
        if position < 1 or position in ranked:
            raise RuleError(f"{where[0]}: 名次 {position} 无效或重复",
                            f"{where[1]}: rank {position} is invalid or repeats")
        ranked[position] = place
    positions = sorted(ranked)
    if positions != list(range(1, len(positions) + 1)):
        raise RuleError(f"名次应从 1 起连续, 收到 {positions}",
                        f"ranks must run 1, 2, … without gaps, got {positions}")
    total = sum((p.share for p in ranked.values()), Fraction(0)) + (rest.share if rest else 0)
    if abs(total - 1) > Fraction(1, 10**9):
        shown = format_number(float(total), Scale.PERCENT)
        raise RuleError(f"分配比例合计 {shown}, 应为 100%",
                        f"the shares total {shown}, must be 100%")
    return SplitRule(tuple(ranked[p] for p in positions), rest)


@dataclass(frozen=True)
class PoolResult:
    """Per agent: ``amount`` = ``share`` (part of the pool) + ``prize`` (fixed); ``rank``.

    ``rank`` is a float Column (competition rank, NaN and the error at excluded agents).
    """

    amount: MoneyColumn
    share: MoneyColumn
    prize: MoneyColumn
    rank: Column


@dataclass(frozen=True)
class _Ranking:
    order: np.ndarray  # indices of valid rows, best first
    blocks: list[np.ndarray]  # tie blocks of positions into ``order`` (0-based)
    rank: Column
    errors: np.ndarray


def _rank(scores: CellsLike, tiebreak: CellsLike | None,
          names: tuple[Name, Name]) -> _Ranking:
    score = numbers_of(scores, names[0])
    size = len(score)
    if tiebreak is None:
        tb_values = np.zeros(size)
        errors = score.errors
    else:
        tb = broadcast(numbers_of(tiebreak, names[1]), size, names[1])
        tb_values = tb.values
        errors = merge_errors(score.errors, tb.errors)
    valid = ~present(errors)
    rows = np.flatnonzero(valid)
    keyed = np.round(score.values[rows], TIE_DECIMALS)
    tb_keyed = np.round(tb_values[rows], TIE_DECIMALS)
    local = np.lexsort((rows, -tb_keyed, -keyed))
    order = rows[local]
    blocks: list[np.ndarray] = []
    if order.size:
        a, b = keyed[local], tb_keyed[local]
        breaks = np.flatnonzero((a[1:] != a[:-1]) | (b[1:] != b[:-1])) + 1
        blocks = np.split(np.arange(order.size), breaks)
    rank = np.full(size, np.nan)
    for block in blocks:
        rank[order[block]] = block[0] + 1.0
    return _Ranking(order, blocks, Column(rank, errors), errors)


def _amounts_by_block(ranking: _Ranking, weights: list[Fraction], fixed: list[Decimal],
                      pool: Decimal, size: int) -> PoolResult:
    """Tie blocks share their positions' weights and prizes equally; pool split exactly."""
    count = ranking.order.size
    agent_weight: list[Fraction] = [Fraction(0)] * count
    agent_prize: list[Decimal] = [ZERO] * count
    for block in ranking.blocks:
        block_weight = sum((weights[p] for p in block), Fraction(0)) / len(block)
        prizes = split_largest_remainder(sum((fixed[p] for p in block), ZERO), [1] * len(block))
        for position, prize in zip(block, prizes, strict=True):
            agent_weight[position] = block_weight
            agent_prize[position] = prize
    parts = split_largest_remainder(pool, agent_weight) if count else []
    share = np.full(size, None, dtype=object)
    prize = np.full(size, None, dtype=object)
    amount = np.full(size, None, dtype=object)
    for position, row in enumerate(ranking.order):
        share[row] = parts[position]
        prize[row] = agent_prize[position]
        amount[row] = parts[position] + agent_prize[position]
    errors = ranking.errors
    return PoolResult(MoneyColumn.of(amount, errors), MoneyColumn.of(share, errors),
                      MoneyColumn.of(prize, errors), ranking.rank)


def rank_pool(pool: Amount, scores: CellsLike, tiebreak: CellsLike | None = None,
              split: str | SplitRule = DEFAULT_SPLIT) -> PoolResult:
    """S3 rank pool: each agent's share of ``pool`` by rank under ``split``, plus fixed prizes.

    See the module docstring for ranking, ties, redistribution and errors. The ``share``
    column sums exactly to ``to_money(pool)`` whenever at least one agent is valid.
    """
    rule = parse_split(split) if isinstance(split, str) else split
    total = to_money(pool)
    if total < 0:
        raise ValueProblem(f"奖金池不能为负数: {total}", f"the pool cannot be negative: {total}")
    ranking = _rank(scores, tiebreak, (("得分", "score"), ("销售额", "tiebreak sales")))
    size = len(ranking.rank)
    count = ranking.order.size
    held = len(rule.places)
    weights: list[Fraction] = []
    fixed: list[Decimal] = []
    for position in range(count):
        if position < held:
            weights.append(rule.places[position].share)
            fixed.append(rule.places[position].fixed)
        elif rule.rest is not None:
            weights.append(rule.rest.share / (count - held))
            fixed.append(rule.rest.fixed)
        else:
            weights.append(Fraction(0))
            fixed.append(ZERO)
    # weights of unheld positions (and an unused rest share) are redistributed proportionally
    # — split_largest_remainder normalises by the held total; all-zero → equal split
    return _amounts_by_block(ranking, weights, fixed, total, size)


def top_n_prizes(values: CellsLike, prizes: Sequence[Amount] = MONTHLY_PRIZES,
                 tiebreak: CellsLike | None = None) -> PoolResult:
    """S5: the top ``len(prizes)`` by value (sales, or summed scores) get the fixed prizes.

    Monthly sales top 3 get 300/200/100 (a small team: pass ``prizes=(200,)``); the quarterly
    top 3 of summed monthly scores get 800/600/300 (:data:`QUARTERLY_PRIZES`). Ties (after the
    tiebreak) share their positions' prizes equally, to the fen. Everyone else gets 0.00.
    Bad cells are excluded and carry their error. ``share`` is all 0.00; ``prize`` = ``amount``.
    """
    amounts = [to_money(p) for p in prizes]
    if any(a < 0 for a in amounts):
        raise RuleError("奖金不能为负数", "a prize cannot be negative")
    ranking = _rank(values, tiebreak, (("排名依据", "ranking value"), ("销售额", "tiebreak sales")))
    size = len(ranking.rank)
    count = ranking.order.size
    fixed = [amounts[p] if p < len(amounts) else ZERO for p in range(count)]
    weights = [Fraction(0)] * count
    return _amounts_by_block(ranking, weights, fixed, ZERO, size)


def share_column(total: CellsLike | Amount, weights: CellsLike,
                 groups: CellsLike | None = None) -> MoneyColumn:
    """KPI_SHARE: split ``total`` by ``weights`` (per group when ``groups`` are given).

    ``total``: one amount, or one per row (every row of a group must then show the same
    amount). Each group's parts sum exactly to its total (largest remainder; an all-zero group
    is split equally). A bad weight (blank, text, negative, error) gives its row that error and
    the rest of its group an error naming the row — splitting without it would silently change
    everyone's share. A bad total makes its group an error.
    """
    weight = numbers_of(weights, ("权重", "weight"))
    size = len(weight)
    errors = weight.errors.copy()
    for index in np.flatnonzero(np.isfinite(weight.values) & (weight.values < 0)):
        shown = format_number(float(weight.values[index]))
        errors[index] = ValueProblem(f"权重不能为负数: {shown}", f"a weight cannot be negative: "
                                     f"{shown}")
    amount_cells = [total] if isinstance(total, Decimal | int | float | str) else total
    totals = broadcast(numbers_of(amount_cells, ("总额", "total")), size, ("总额", "total"))
    labels = np.full(size, "", dtype=object)
    if groups is not None:
        group_column = broadcast(labels_of(groups, ("分组", "group")), size, ("分组", "group"))
        labels = group_column.values
        errors = merge_errors(group_column.errors, errors)
    members: dict[Hashable, list[int]] = {}
    for index, label in enumerate(labels):
        if label is not None:  # a row without a group label keeps its own error
            members.setdefault(label, []).append(index)
    out: list[Decimal | None] = [None] * size
    for label, rows in members.items():
        problem = _group_problem(label, rows, errors, totals)
        if problem is not None:
            for row in rows:
                errors[row] = errors[row] or problem
            continue
        amount = to_decimal(float(totals.values[rows[0]]))
        parts = split_largest_remainder(amount, weight.values[rows].tolist())
        for row, part in zip(rows, parts, strict=True):
            out[row] = part
    return MoneyColumn.of(out, errors)


def _group_problem(label: Hashable, rows: list[int], errors: np.ndarray,
                   totals: Column) -> KpiError | None:
    shown = f"\"{label}\"" if label != "" else ""
    for row in rows:
        if errors[row] is not None:
            return ValueProblem(
                f"分组{shown}第{row + 1}行的权重有错误, 无法分配",
                f"group {label!r}: the weight on row {row + 1} is bad; the split cannot be made",
            )
        if totals.errors[row] is not None:
            return totals.errors[row]
    amounts = {to_money(value) for value in set(totals.values[rows].tolist())}
    if len(amounts) > 1:
        return ValueProblem(f"分组{shown}各行的总额不一致", f"group {label!r} has different totals")
    return None
