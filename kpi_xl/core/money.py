"""Money as :class:`decimal.Decimal`: half-up to 0.01 元, largest-remainder splits to the fen.

Floats appear only at the Excel boundary. A float is read through its ``repr`` (the shortest
text that round-trips, which is what Excel shows), so ``73.195`` is the decimal 73.195 and
rounds to 73.20 exactly as Excel's ``ROUND(73.195, 2)`` does; rounding is half away from zero
for negative amounts too (``-73.195`` → ``-73.20``).

Splits (:func:`split_largest_remainder`) hand out whole fen: every part is floored to the fen
and the fen left over go, one each, to the parts with the largest remainders (ties to the lower
index), so the parts always add up to the total exactly.

A :class:`MoneyColumn` is the money counterpart of :class:`~kpi_xl.core.column.Column`: an
object array of ``Decimal`` (``None`` at errors) plus the per-cell errors; ``to_column()`` gives
the float view that goes back to Excel.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

from kpi_xl.core.column import Column, no_errors, present
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.values import read_number, shown_decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

Amount = Decimal | float | int | str
Weight = Decimal | float | int | Fraction


def to_decimal(value: Amount | np.floating | np.integer) -> Decimal:
    """The decimal a cell holds as Excel sees it: floats to 15 significant digits (0.1 → 0.1),
    text read as a number.

    Raises :class:`KpiError` for NaN, infinity, booleans and text that is not a number.
    """
    if isinstance(value, bool | np.bool_):
        raise ValueProblem(
            f"金额应为数字, 收到 {value}", f"an amount must be a number, got {value}"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueProblem("金额不是有限数字", "the amount is not a finite number")
        return value
    if isinstance(value, int | np.integer):
        return Decimal(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueProblem("金额不是有限数字", "the amount is not a finite number",
                               code="#NUM!")
        return shown_decimal(number)
    if isinstance(value, str):
        number = read_number(value)
        if number is None:
            raise ValueProblem(
                f"金额应为数字, 收到文本 \"{value}\"",
                f"an amount must be a number, got text {value!r}",
            )
        return shown_decimal(number.value)
    if value is None:
        raise ValueProblem("金额未填写, 请填写数字", "the amount is blank; enter a number")
    raise ValueProblem(f"金额应为数字, 收到 \"{value}\"",
                       f"an amount must be a number, got {value!r}")


def to_money(value: Amount | np.floating | np.integer) -> Decimal:
    """Round to the fen, half away from zero (Excel ``ROUND(x, 2)``): 73.195 → 73.20."""
    try:
        rounded = to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # beyond the decimal context's precision
        raise ValueProblem("金额过大", "the amount is too large", code="#NUM!") from exc
    return ZERO if rounded == 0 else rounded  # no "-0.00"


def _ratio(weight: Weight) -> tuple[int, int]:
    """A weight as its exact (numerator, denominator) in lowest terms."""
    exact = weight if isinstance(weight, Fraction) else to_decimal(weight)
    numerator, denominator = exact.as_integer_ratio()
    if numerator < 0:
        shown = f"{numerator / denominator:g}"
        raise ValueProblem(f"分配权重不能为负数, 收到 {shown}",
                           f"a split weight cannot be negative, got {shown}")
    return numerator, denominator


def split_largest_remainder(total: Amount, weights: Sequence[Weight]) -> list[Decimal]:
    """Split ``total`` (rounded to the fen) in proportion to ``weights``, exact to the fen.

    * Each part is floored to the fen; the fen left over go one each to the largest
      remainders, ties to the lower index. The parts sum to ``to_money(total)`` exactly.
    * Zero weights get 0.00. When **all** weights are zero the total is split equally among
      all parts (a team whose sales are all 0 still shares its amount; choose weights
      explicitly when that is not wanted).
    * Negative or non-finite weights are errors (:class:`KpiError`); so is a non-zero total
      with no parts. A negative total gives parts that are all ≤ 0.

    The arithmetic is on integers: the weights brought to a common denominator.
    """
    cents = int(to_money(total) * 100)
    ratios = [_ratio(weight) for weight in weights]
    if not ratios:
        if cents == 0:
            return []
        raise ValueProblem("没有可分配的对象", "there is nothing to split the amount between")
    common = math.lcm(*(denominator for _, denominator in ratios))
    scaled = [numerator * (common // denominator) for numerator, denominator in ratios]
    weight_sum = sum(scaled)
    if weight_sum == 0:
        scaled = [1] * len(scaled)
        weight_sum = len(scaled)
    sign = -1 if cents < 0 else 1
    magnitude = abs(cents)
    parts = [divmod(magnitude * weight, weight_sum) for weight in scaled]
    floors = [floor for floor, _ in parts]
    left = magnitude - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-parts[i][1], i))
    for index in order[:left]:
        floors[index] += 1
    return [_cents_to_money(sign * part) for part in floors]


def _cents_to_money(cents: int) -> Decimal:
    return ZERO if cents == 0 else Decimal(cents).scaleb(-2)


def split_by_group(
    totals: Mapping[Hashable, Amount] | Sequence[Amount],
    weights: Sequence[Weight],
    groups: Sequence[Hashable],
) -> list[Decimal]:
    """Per group, split that group's total among its rows by weight (largest remainder).

    ``totals`` is either a mapping group → amount, or one amount per row (every row of a group
    must then carry the same amount — a team's pool written on each agent's row). Groups are
    independent: each group's parts sum exactly to its own total.
    """
    if len(weights) != len(groups):
        raise ValueProblem(
            f"权重有 {len(weights)} 行, 分组有 {len(groups)} 行, 行数应相同",
            f"{len(weights)} weights but {len(groups)} group labels; they must match",
        )
    members: dict[Hashable, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    group_total: dict[Hashable, Decimal] = {}
    if isinstance(totals, Mapping):
        for group in members:
            if group not in totals:
                raise ValueProblem(f"分组 \"{group}\" 没有总额", f"group {group!r} has no total")
            group_total[group] = to_money(totals[group])
    else:
        if len(totals) != len(groups):
            raise ValueProblem(
                f"总额有 {len(totals)} 行, 分组有 {len(groups)} 行, 行数应相同",
                f"{len(totals)} totals but {len(groups)} group labels; they must match",
            )
        for group, rows in members.items():
            amounts = {to_money(totals[row]) for row in rows}
            if len(amounts) > 1:
                raise ValueProblem(
                    f"分组 \"{group}\" 的总额不一致: {', '.join(map(str, sorted(amounts)))}",
                    f"group {group!r} has different totals on its rows",
                )
            group_total[group] = amounts.pop()
    result: list[Decimal] = [ZERO] * len(groups)
    for group, rows in members.items():
        parts = split_largest_remainder(group_total[group], [weights[row] for row in rows])
        for row, part in zip(rows, parts, strict=True):
            result[row] = part
    return result


_money_of = np.frompyfunc(to_money, 1, 1)
_float_of = np.frompyfunc(float, 1, 1)


def money_array(values: np.ndarray) -> np.ndarray:
    """Floats (or Decimals) → object array of money; NaN stays ``None`` (an error cell)."""
    values = np.asarray(values)
    out = np.full(values.shape[0], None, dtype=object)
    if values.dtype.kind == "f":
        good = np.isfinite(values)
    else:
        good = np.fromiter((v is not None for v in values), dtype=bool, count=values.shape[0])
    if good.any():
        out[good] = _money_of(values[good])
    return out


@dataclass(frozen=True)
class MoneyColumn:
    """``amounts[i]`` (a ``Decimal`` to the fen) unless ``errors[i]`` holds a :class:`KpiError`.

    ``amounts`` is an object array with ``None`` at error cells.
    """

    amounts: np.ndarray
    errors: np.ndarray

    @classmethod
    def of(cls, amounts: Sequence[Decimal | None] | np.ndarray,
           errors: np.ndarray | None = None) -> MoneyColumn:
        """Build from amounts (already money) and optional errors; amounts at errors → None."""
        array = np.empty(len(amounts), dtype=object)
        array[:] = list(amounts)
        errs = no_errors(len(array)) if errors is None else errors
        failed = present(errs)
        array[failed] = None
        return cls(array, errs)

    def __len__(self) -> int:
        return int(self.amounts.shape[0])

    @property
    def failed(self) -> np.ndarray:
        """Boolean mask of cells holding an error."""
        return present(self.errors)

    def to_column(self) -> Column:
        """The float view for Excel: NaN at errors."""
        values = np.full(len(self), np.nan)
        good = ~self.failed
        if good.any():
            values[good] = _float_of(self.amounts[good]).astype(np.float64)
        return Column(values, self.errors)

    def cells(self) -> list[Decimal | KpiError]:
        """Each cell as its Decimal or its KpiError."""
        return [e if e is not None else a for a, e in zip(self.amounts, self.errors, strict=True)]

    def total(self) -> Decimal:
        """Sum of the cells without errors."""
        return sum((a for a, e in zip(self.amounts, self.errors, strict=True) if e is None),
                   ZERO)
