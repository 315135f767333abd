"""The seed pay schemes over columns; money as ``Decimal`` (:class:`MoneyColumn`).

Every scheme takes columns (or single cells, repeated to the column length) and returns a
:class:`~kpi_xl.core.money.MoneyColumn`; ``.to_column()`` is the float view for Excel. Each
amount is computed exactly in decimal from the cells as Excel shows them and rounded once,
half-up to the fen. A bad cell (blank, text, negative where a negative makes no sense, an Excel
error) gives that row an error, never a silent 0. Parameters that HR edits in the workbook are
arguments with the catalogue's values as defaults.

Schemes: :func:`pay_split` (S7 80/20), :func:`pay_grade_coefficient` (S2 等级系数 × Q),
:func:`pay_commission` (S5 提成), :func:`pay_pro_rata` (S6 按分), :func:`taobao_pay` (S1 pay
lines incl. the team excess bonus) and :func:`apply_wage_law` (《工资支付暂行规定》§16 and the
minimum wage).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import cache
from itertools import repeat
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from kpi_xl.core.column import Column, merge_errors, present
from kpi_xl.core.errors import KpiError, NoTierMatch, RuleError, ValueProblem
from kpi_xl.core.money import (
    CENT,
    ZERO,
    Amount,
    MoneyColumn,
    split_largest_remainder,
    to_decimal,
    to_money,
)
from kpi_xl.core.scoring import (
    CellsLike,
    Name,
    broadcast,
    flags_of,
    labels_of,
    names,
    numbers_of,
)
from kpi_xl.core.values import ValueColumn, fold, format_number, shown_decimals

GRADE = ("等级", "grade")
TEAM = ("团队", "team")
FULL_ATTENDANCE = ("全勤", "full attendance")
HUNDRED = Decimal(100)
ONE = Decimal(1)

_money_of = np.frompyfunc(to_money, 1, 1)


@dataclass(frozen=True)
class _Inputs:
    """Aligned decimal inputs: an object array of Decimal per input, and the merged errors."""

    columns: list[np.ndarray]
    errors: np.ndarray

    @property
    def good(self) -> np.ndarray:
        return ~present(self.errors)


def _length(item: object) -> int:
    if isinstance(item, MoneyColumn | Column | ValueColumn):
        return len(item)
    if isinstance(item, np.ndarray):
        return int(item.size)
    if isinstance(item, str | bytes) or not isinstance(item, Sequence):
        return 1
    return int(np.asarray(item, dtype=object).size)


def _column_size(*items: object) -> int:
    """The common row count of the inputs (single cells are repeated)."""
    sizes = {_length(item) for item in items}
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueProblem(
            f"各列行数不一致: {sorted(sizes)}",
            f"the columns have different lengths: {sorted(sizes)}",
        )
    return sizes.pop() if sizes else 1


def _numbers(data: CellsLike | MoneyColumn, what: Name, size: int, *,
             negative_ok: bool = False) -> Column:
    if isinstance(data, MoneyColumn):
        data = data.to_column()
    column = broadcast(numbers_of(data, what), size, what)
    if negative_ok:
        return column
    values = column.values
    negative = np.isfinite(values) & (values < 0)
    if not negative.any():
        return column
    errors = column.errors.copy()
    zh, en = names(what)
    for index in np.flatnonzero(negative):
        shown = format_number(float(values[index]))
        errors[index] = ValueProblem(f"{zh}不能为负数: {shown}",
                                     f"{en} cannot be negative: {shown}")
    return Column(np.where(negative, np.nan, values), errors)


def _decimals(column: Column) -> np.ndarray:
    """Object array of exact decimals (as the cell shows them); 0 at error cells."""
    out = np.full(len(column), ZERO, dtype=object)
    good = np.isfinite(column.values)
    if good.any():
        out[good] = shown_decimals(column.values[good])
    return out


def _gather(*columns: Column) -> _Inputs:
    return _Inputs([_decimals(c) for c in columns], merge_errors(*(c.errors for c in columns)))


def _result(amounts: np.ndarray, inputs: _Inputs) -> MoneyColumn:
    good = inputs.good
    out = np.full(amounts.shape[0], None, dtype=object)
    if good.any():
        out[good] = _money_of(amounts[good])
    return MoneyColumn(out, inputs.errors)


def _share_parameter(value: Amount, what: str) -> Decimal:
    """A share parameter: 0.8, "80%" or 80 (percent points, read as 0.8); must be in 0–100%."""
    share = to_decimal(value)
    if share > ONE:
        share = share / HUNDRED
    if not ZERO <= share <= ONE:
        raise RuleError(f"{what}应在 0–100% 之间, 收到 {value}",
                        f"{what} must be between 0 and 100%, got {value}")
    return share


# ---------------------------------------------------------------- S7 80/20

def pay_split(target_wage: CellsLike, coefficient: CellsLike,
              fixed_share: Amount = Decimal("0.8")) -> MoneyColumn:
    """S7: 工资 = 目标工资 × 80% + 目标工资 × 20% × KPI考核系数.

    ``fixed_share`` is the fixed part (default 80%; 0.8, ``"80%"`` and 80 all mean 80%).
    The coefficient is 0–1; a value ≥ 10 is read as points out of 100 (score 85 → 0.85). A value
    strictly between 1 and 10 is ambiguous (a coefficient above 1, or a score below 10?) and is
    an error asking for the coefficient as 0–1. There is no cap: a score above 100 pays above
    the target wage.
    """
    share = _share_parameter(fixed_share, "固定工资比例")
    size = _column_size(target_wage, coefficient)
    base = _numbers(target_wage, ("目标工资", "target wage"), size)
    coef = _numbers(coefficient, ("KPI考核系数", "KPI coefficient"), size)
    values = coef.values
    ambiguous = np.isfinite(values) & (values > 1) & (values < 10)
    if ambiguous.any():
        errors = coef.errors.copy()
        for index in np.flatnonzero(ambiguous):
            shown = format_number(float(values[index]))
            errors[index] = ValueProblem(
                f"KPI考核系数 {shown} 含义不明: 系数请写 0–1 (如 0.85), 或写得分 (如 85)",
                f"KPI coefficient {shown} is ambiguous: write a coefficient 0–1 (0.85) "
                "or a score (85)",
            )
        coef = Column(np.where(ambiguous, np.nan, values), errors)
    inputs = _gather(base, coef)
    wage, factor = inputs.columns
    points = coef.values > 1
    factor = np.where(points, factor / HUNDRED, factor)
    amounts = wage * share + wage * (ONE - share) * factor
    return _result(amounts, inputs)


# ---------------------------------------------------------------- S2 grade coefficient × Q

def _grade_key(label: object) -> str:
    """Grade labels compare folded and case-insensitively (``b`` = ``B``, ``Ａ`` = ``A``)."""
    return fold(str(label)).upper()


DEFAULT_GRADE_COEFFICIENTS: Mapping[str, Decimal] = MappingProxyType({
    "A": Decimal("1.2"), "B": Decimal("1"), "C": Decimal("0.8"), "D": Decimal("0.5"),
    "E": Decimal("0"),
})


def pay_grade_coefficient(
    q: CellsLike, grades: CellsLike,
    coefficients: Mapping[str, Amount] = DEFAULT_GRADE_COEFFICIENTS,
) -> MoneyColumn:
    """S2: 绩效工资 = 等级系数 × Q (Q = the post's 绩效工资 amount).

    ``coefficients`` maps grade label → coefficient (the notation ``A:1.2; B:1; C:0.8; D:0.5;
    E:0`` read by the lead's parser). Labels compare folded (full-width, spaces). A grade not
    in the mapping is a ``#N/A`` error naming the known grades.
    """
    table = {_grade_key(label): to_decimal(value) for label, value in coefficients.items()}
    for label, value in table.items():
        if value < 0:
            raise RuleError(f"等级 {label} 的系数不能为负数", f"grade {label}'s coefficient < 0")
    size = _column_size(q, grades)
    base = _numbers(q, ("绩效工资Q", "performance pay Q"), size)
    labels = broadcast(labels_of(grades, GRADE), size, GRADE)
    errors = merge_errors(base.errors, labels.errors)
    factor = np.full(size, ZERO, dtype=object)
    known = ", ".join(table)
    for index, label in enumerate(labels.values):
        if errors[index] is not None:
            continue
        value = table.get(_grade_key(label))
        if value is None:
            errors[index] = NoTierMatch(
                f"等级 \"{label}\" 不在系数表中 ({known})",
                f"grade {label!r} is not in the coefficient table ({known})",
            )
        else:
            factor[index] = value
    inputs = _Inputs([_decimals(base), factor], errors)
    return _result(inputs.columns[0] * factor, inputs)


# ---------------------------------------------------------------- S5 commission

def pay_commission(sales: CellsLike, rate: CellsLike, score: CellsLike) -> MoneyColumn:
    """S5: 奖金 = 成交订单金额 × 提点比例 × 绩效得分 / 100.

    ``rate`` comes in already tiered (a column of rates such as 0.006 / ``"6‰"``); a rate above
    100% is an error (a ‰/% slip). Negative sales, rates or scores are errors.
    """
    size = _column_size(sales, rate, score)
    amount = _numbers(sales, ("成交订单金额", "order amount"), size)
    rates = _numbers(rate, ("提点比例", "commission rate"), size)
    values = rates.values
    too_big = np.isfinite(values) & (values > 1)
    if too_big.any():
        errors = rates.errors.copy()
        for index in np.flatnonzero(too_big):
            shown = format_number(float(values[index]))
            errors[index] = ValueProblem(
                f"提点比例 {shown} 大于 100%, 请写成 6‰ 或 0.006",
                f"commission rate {shown} is above 100%; write 6‰ or 0.006",
            )
        rates = Column(np.where(too_big, np.nan, values), errors)
    points = _numbers(score, ("绩效得分", "performance score"), size)
    inputs = _gather(amount, rates, points)
    a, r, p = inputs.columns
    return _result(a * r * p / HUNDRED, inputs)


# ---------------------------------------------------------------- S6 bonus ∝ score

def pay_pro_rata(total_bonus: CellsLike, score: CellsLike, full_score: Amount = 130,
                 threshold: Amount = Decimal("0.7")) -> MoneyColumn:
    """S6: KPI奖金 = 总奖金 × 得分 / 总分; 0 when 得分 < threshold × 总分 (70% of 130 = 91).

    ``threshold`` is a share of 总分 (0.7, ``"70%"`` or 70). A score above 总分 (additions) is
    paid pro rata without a cap. Negative scores are errors.
    """
    full = to_decimal(full_score)
    if full <= 0:
        raise RuleError(f"总分应大于 0, 收到 {full_score}", f"the full score must be > 0, got "
                        f"{full_score}")
    bar = _share_parameter(threshold, "门槛比例") * full
    size = _column_size(total_bonus, score)
    bonus = _numbers(total_bonus, ("总奖金", "total bonus"), size)
    points = _numbers(score, ("得分", "score"), size)
    inputs = _gather(bonus, points)
    b, p = inputs.columns
    below = np.fromiter((value < bar for value in p), dtype=bool, count=size)
    amounts = np.where(below, ZERO, b * p / full)
    return _result(amounts, inputs)


# ---------------------------------------------------------------- S1 taobao pay lines

DEFAULT_POST_BONUS: Mapping[str, Decimal] = MappingProxyType({
    "高级客服": Decimal(400), "中级客服": Decimal(200), "初级客服": Decimal(0),
    "不合格": Decimal(0), "高级": Decimal(400), "中级": Decimal(200), "初级": Decimal(0),
})


@dataclass(frozen=True)
class TaobaoPay:
    """S1 pay lines per agent, each a :class:`MoneyColumn`; ``team_pools`` per team."""

    salary: MoneyColumn
    post_bonus: MoneyColumn
    meal: MoneyColumn
    attendance: MoneyColumn
    team_bonus: MoneyColumn
    total: MoneyColumn
    team_pools: dict[Hashable, Decimal | KpiError]


def _constant(amount: Decimal, size: int) -> MoneyColumn:
    return MoneyColumn.of([amount] * size)


def taobao_pay(
    grades: CellsLike,
    full_attendance: CellsLike,
    teams: CellsLike,
    sales: CellsLike,
    planned_sales: CellsLike | None = None,
    *,
    team_targets: Mapping[str, Amount] | None = None,
    salary: Amount = 1280,
    post_bonus: Mapping[str, Amount] = DEFAULT_POST_BONUS,
    meal_allowance: Amount = 150,
    attendance_bonus: Amount = 100,
    excess_rate: Amount = Decimal("0.01"),
) -> TaobaoPay:
    """S1 薪酬体系: 薪资 + 岗位奖金 (by grade) + 餐补 + 全勤奖 + 团队超额奖金.

    * 岗位奖金 by grade label (高级客服 400 / 中级客服 200 / 初级客服 0 / 不合格 0; the short
      forms 高级/中级/初级 too); an unknown grade is a ``#N/A`` error.
    * 全勤奖 only where ``full_attendance`` is yes (是/TRUE/1/全勤); a blank is an error.
    * 团队超额奖金: per team, pool = to_money(excess_rate × max(0, team sales − team target));
      team sales = Σ the agents' ``sales``; team target = ``team_targets[team]`` when given,
      else Σ the agents' ``planned_sales``. The pool is split among ALL the team's agents
      (whatever their grade) by their share of the team's sales, largest remainder, so the
      parts sum to the pool exactly; a team whose sales are all 0 has a pool of 0. A bad sales
      or plan cell makes the whole team's excess bonus an error (the team total is unknown):
      the bad row shows its own error, its team mates an error naming it.
    * ``total`` = the sum of the lines; any line's error is the total's error.
    """
    size = _column_size(grades, full_attendance, teams, sales,
                        *(() if planned_sales is None else (planned_sales,)))
    salary_line = _constant(to_money(salary), size)
    meal_line = _constant(to_money(meal_allowance), size)

    bonus_table = {_grade_key(k): to_money(v) for k, v in post_bonus.items()}
    labels = broadcast(labels_of(grades, GRADE), size, GRADE)
    bonus_errors = labels.errors.copy()
    bonus_amounts: list[Decimal | None] = []
    for index, label in enumerate(labels.values):
        if bonus_errors[index] is not None:
            bonus_amounts.append(None)
            continue
        amount = bonus_table.get(_grade_key(label))
        if amount is None:
            bonus_errors[index] = NoTierMatch(
                f"等级 \"{label}\" 不在岗位奖金表中 ({', '.join(bonus_table)})",
                f"grade {label!r} is not in the post bonus table",
            )
        bonus_amounts.append(amount)
    post_line = MoneyColumn.of(bonus_amounts, bonus_errors)

    attendance = broadcast(flags_of(full_attendance, FULL_ATTENDANCE), size, FULL_ATTENDANCE)
    bonus = to_money(attendance_bonus)
    attendance_line = MoneyColumn.of(
        [bonus if flag == 1.0 else ZERO for flag in attendance.values], attendance.errors
    )

    team_line, pools = _team_excess(teams, sales, planned_sales, team_targets,
                                    to_decimal(excess_rate), size)

    lines = (salary_line, post_line, meal_line, attendance_line, team_line)
    errors = merge_errors(*(line.errors for line in lines))
    totals: list[Decimal | None] = []
    for index in range(size):
        if errors[index] is not None:
            totals.append(None)
        else:
            totals.append(sum((line.amounts[index] for line in lines), ZERO))
    return TaobaoPay(salary_line, post_line, meal_line, attendance_line, team_line,
                     MoneyColumn.of(totals, errors), pools)


def _team_excess(
    teams: CellsLike, sales: CellsLike, planned_sales: CellsLike | None,
    team_targets: Mapping[str, Amount] | None, rate: Decimal, size: int,
) -> tuple[MoneyColumn, dict[Hashable, Decimal | KpiError]]:
    team = broadcast(labels_of(teams, TEAM), size, TEAM)
    amount = _numbers(sales, ("实际销售额", "sales"), size)
    targets = {fold(str(k)): to_decimal(v) for k, v in (team_targets or {}).items()}
    plan = (None if planned_sales is None
            else _numbers(planned_sales, ("计划销售额", "planned sales"), size))
    sales_d = _decimals(amount)
    plan_d = None if plan is None else _decimals(plan)
    errors = merge_errors(team.errors, amount.errors)
    members: dict[Hashable, list[int]] = {}
    for index, label in enumerate(team.values):
        if team.errors[index] is None:
            members.setdefault(label, []).append(index)
    out: list[Decimal | None] = [None] * size
    pools: dict[Hashable, Decimal | KpiError] = {}
    for label, rows in members.items():
        bad = [row for row in rows if errors[row] is not None]
        target = targets.get(str(label))
        if target is None:
            if plan is None or plan_d is None:
                problem: KpiError | None = ValueProblem(
                    f"团队 \"{label}\" 没有团队目标, 也没有计划销售额",
                    f"team {label!r} has no team target and no planned sales",
                )
                for row in rows:
                    errors[row] = errors[row] or problem
                pools[label] = problem
                continue
            bad += [row for row in rows if plan.errors[row] is not None and row not in bad]
            for row in rows:
                errors[row] = errors[row] or plan.errors[row]
            target = sum((plan_d[row] for row in rows), ZERO)
        if bad:
            first = bad[0]
            problem = ValueProblem(
                f"团队 \"{label}\" 有错误的销售额/计划 (第{first + 1}行), 无法计算团队超额奖金",
                f"team {label!r} has a bad sales/plan cell (row {first + 1}); "
                "the team excess bonus cannot be computed",
            )
            for row in rows:
                errors[row] = errors[row] or problem
            pools[label] = problem
            continue
        team_sales = sum((sales_d[row] for row in rows), ZERO)
        pool = to_money(rate * max(ZERO, team_sales - target))
        pools[label] = pool
        for row, part in zip(rows, split_largest_remainder(pool, [sales_d[r] for r in rows]),
                             strict=True):
            out[row] = part
    return MoneyColumn.of(out, errors), pools


# ---------------------------------------------------------------- the law

DEDUCTION_CAP_SHARE = Decimal("0.2")
FLAG_OVER_20 = "扣款超20%"
FLAG_MINIMUM_WAGE = "低于最低工资"


class WageLaw(NamedTuple):
    """Net pay, the deduction actually applied, and the flags per row ("" when none)."""

    net: MoneyColumn
    deduction: MoneyColumn
    flags: np.ndarray


def apply_wage_law(
    gross: MoneyColumn | CellsLike,
    loss_deduction: MoneyColumn | CellsLike,
    minimum_wage: Amount | None = None,
) -> WageLaw:
    """《工资支付暂行规定》§16 and the minimum wage; flagged, never silently applied.

    * A deduction for losses the employee caused is capped at 20% of the month's wage (gross):
      deduction = min(loss, 20% × gross), the cap rounded *down* to the fen (831.266 → 831.26,
      so the deduction never exceeds 20%); when the cap bites the row is flagged ``扣款超20%``.
    * §16 also says that if the rest falls below the local monthly minimum wage, the minimum
      wage is paid: the deduction is reduced so that net = max(minimum wage, gross − deduction),
      and the row is flagged ``低于最低工资``. Gross pay itself is never raised: when gross is
      already below the minimum wage (a partial month, unpaid leave…) no loss deduction is
      taken, net = gross, and the row is flagged ``低于最低工资`` for HR to check.
    * ``flags`` holds the flags joined with ``"; "`` (empty string when none). Negative gross or
      deductions are errors; a blank deduction is 0 (no deduction).
    """
    gross_col = gross.to_column() if isinstance(gross, MoneyColumn) else gross
    loss_col = loss_deduction.to_column() if isinstance(loss_deduction, MoneyColumn) \
        else loss_deduction
    size = _column_size(gross_col, loss_col)
    wage = _numbers(gross_col, ("应发工资", "gross pay"), size)
    loss = numbers_of(loss_col, ("扣款", "deduction"), blank=0.0)
    loss = _numbers(loss, ("扣款", "deduction"), size)
    minimum = None if minimum_wage is None else to_money(minimum_wage)
    inputs = _gather(wage, loss)
    rows = np.flatnonzero(inputs.good)
    pays, losses = (column[rows] for column in inputs.columns)
    law = cache(_wage_law)  # rows repeat: a few thousand distinct gross pays, a few deductions
    found = list(map(law, pays, losses, repeat(minimum)))
    net = np.full(size, None, dtype=object)
    applied = np.full(size, None, dtype=object)
    flags = np.full(size, "", dtype=object)
    if found:
        net[rows], applied[rows], flags[rows] = zip(*found, strict=True)
    return WageLaw(MoneyColumn.of(net, inputs.errors), MoneyColumn.of(applied, inputs.errors),
                   flags)


def _wage_law(gross: Decimal, loss: Decimal, minimum: Decimal | None
              ) -> tuple[Decimal, Decimal, str]:
    """One row of :func:`apply_wage_law`: net pay, the deduction applied and the flags."""
    wage = to_money(gross)
    deduction = to_money(loss)
    cap = (wage * DEDUCTION_CAP_SHARE).quantize(CENT, rounding=ROUND_DOWN)  # never above 20%
    flags: list[str] = []
    if deduction > cap:
        deduction = cap
        flags.append(FLAG_OVER_20)
    if minimum is not None and wage - deduction < minimum:
        deduction = max(ZERO, wage - minimum) if wage >= minimum else ZERO
        flags.append(FLAG_MINIMUM_WAGE)
    return wage - deduction, deduction if deduction else ZERO, "; ".join(flags)
