"""Evaluating a tier table over a column of values, vectorised.

The numeric tiers' bounds cut the number line into elementary pieces: each bound point and
each open gap between neighbouring points. The first tier holding on a piece holds on every
number in it, so the table is solved once per piece and every value is placed by one
``numpy.searchsorted`` (what ``numpy.digitize`` does) — a column in, a column out, with no
Python loop per cell. Text labels are looked up once per distinct label.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kpi_xl.core.column import Column, no_errors, present
from kpi_xl.core.errors import KpiError, NoTierMatch, ValueProblem
from kpi_xl.core.notation import Rule, Tier, TierKind
from kpi_xl.core.values import Kind, Scale, ValueColumn, format_number, format_numbers, read_column

NO_TIER = -1


@dataclass(frozen=True)
class TierTable:
    """A rule compiled for vectorised lookup."""

    rule: Rule

    @cached_property
    def points(self) -> np.ndarray:
        return np.unique([b.value for b in self.rule.bounds]).astype(np.float64)

    @cached_property
    def piece_tiers(self) -> np.ndarray:
        """Tier index for each piece: gap 0, point 0, gap 1, point 1, …, last gap."""
        points = self.points
        samples: list[float] = []
        for index, point in enumerate(points):
            gap = (points[index - 1] + point) / 2 if index else point - max(1.0, abs(point))
            samples.extend((gap, point))
        last = points[-1] if len(points) else 0.0
        samples.append(last + max(1.0, abs(last)))
        return np.array([self._first_numeric_tier(s) for s in samples], dtype=np.int64)

    def _first_numeric_tier(self, value: float) -> int:
        for index, tier in enumerate(self.rule.tiers):
            if tier.holds_for_number(value):
                return index
        return NO_TIER

    @cached_property
    def label_tiers(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, tier in enumerate(self.rule.tiers):
            if tier.kind is TierKind.LABEL and tier.label is not None:
                found.setdefault(tier.label, index)
        return found

    @cached_property
    def otherwise_tier(self) -> int:
        return next(
            (i for i, t in enumerate(self.rule.tiers) if t.kind is TierKind.OTHERWISE), NO_TIER
        )

    @cached_property
    def blank_tier(self) -> int:
        return next((i for i, t in enumerate(self.rule.tiers) if t.kind is TierKind.BLANK), NO_TIER)

    @cached_property
    def slip_threshold(self) -> float:
        """Above this a number cannot be the rate a %-rule means: ``47`` against 40%…50%."""
        if not self.rule.in_percent:
            return np.inf
        largest = max(abs(b.value) for b in self.rule.bounds)
        return max(1.0, 10.0 * largest)

    @cached_property
    def percent_ceiling(self) -> float:
        """Up to this a number past :attr:`slip_threshold` reads as a percentage typed without
        ``%`` (47 → 47%); beyond it (5.7e6) that reading makes no sense: out of range."""
        largest = max(abs(b.value) for b in self.rule.bounds)
        return 100.0 * max(1.0, 2.0 * largest)

    @cached_property
    def edges(self) -> np.ndarray:
        """Each bound point and the next float above it: ``searchsorted(edges, v, "right")``
        is then the piece index directly (gap 0, point 0, gap 1, …)."""
        points = self.points
        return np.column_stack((points, np.nextafter(points, np.inf))).ravel()

    def tier_indices(self, numbers: np.ndarray) -> np.ndarray:
        """For each number the index of the first tier that holds, or NO_TIER."""
        if not len(self.points):
            return np.full(numbers.shape, self.otherwise_tier, dtype=np.int64)
        return self.piece_tiers[np.searchsorted(self.edges, numbers, side="right")]


@dataclass(frozen=True)
class Matches:
    """Which tier each cell landed in (NO_TIER where it errs), and the per-cell errors."""

    tiers: np.ndarray
    errors: np.ndarray
    cells: ValueColumn


def _table(rule: Rule) -> TierTable:
    return _TABLES.setdefault(rule, TierTable(rule))


_TABLES: dict[Rule, TierTable] = {}


def match(rule: Rule, cells: ValueColumn | object) -> Matches:
    """Find each cell's tier. Errors: blanks without a 空 tier, Excel errors, unit slips,
    text that is no label of the rule, and values no tier holds."""
    column = cells if isinstance(cells, ValueColumn) else read_column(cells)
    table = _table(rule)
    size = len(column)
    tiers = np.full(size, NO_TIER, dtype=np.int64)
    errors = column.errors.copy()
    kinds = column.kinds

    numeric = kinds == Kind.NUMBER
    if numeric.all():  # the common case: a column of numbers, no masks needed
        tiers = table.tier_indices(column.numbers)
    elif numeric.any():
        tiers[numeric] = table.tier_indices(column.numbers[numeric])
    if np.isfinite(table.slip_threshold):
        for index in np.flatnonzero(numeric & (np.abs(column.numbers) > table.slip_threshold)):
            value = float(column.numbers[index])
            errors[index] = (unit_slip(value) if abs(value) <= table.percent_ceiling
                             else out_of_range(value, rule))
            tiers[index] = NO_TIER

    text = np.flatnonzero(kinds == Kind.TEXT)
    if text.size:
        labels = column.labels[text]
        for label in set(labels.tolist()):
            tiers[text[labels == label]] = table.label_tiers.get(label, table.otherwise_tier)

    tiers[kinds == Kind.BLANK] = table.blank_tier

    for index in np.flatnonzero((tiers == NO_TIER) & (kinds != Kind.ERROR)):
        if errors[index] is None:
            errors[index] = _no_tier_error(rule, column, int(index))
    return Matches(tiers, errors, column)


def unit_slip(value: float) -> KpiError:
    shown = format_number(value)
    return ValueProblem(
        f"单位疑误: {shown} 看似百分数, 请输入 {shown}% 或 {format_number(value / 100)}",
        f"{shown} looks like a percentage; enter {shown}% or {format_number(value / 100)}",
    )


def out_of_range(value: float, rule: Rule) -> KpiError:
    """A number far beyond every bound of a %-rule: no unit slip explains it."""
    shown = format_number(value, grouped=True)
    return ValueProblem(
        f"数值 {shown} 远超规则 \"{rule.format()}\" 的范围 (规则按百分数), 请检查输入",
        f"{shown} is far outside the range of the rule (a percentage); check the input",
    )


def _no_tier_error(rule: Rule, column: ValueColumn, index: int) -> KpiError:
    kind = column.kinds[index]
    if kind == Kind.BLANK:
        return ValueProblem(
            '单元格为空, 请填写数值 (规则没有"空"档位)',
            "the cell is blank; enter a value (the rule has no 空 tier)",
        )
    if kind == Kind.TEXT:
        label = column.labels[index]
        choices = "、".join(t.label for t in rule.tiers if t.kind is TierKind.LABEL and t.label)
        if choices:
            return NoTierMatch(
                f'"{label}" 不是规则中的选项, 应为 {choices}',
                f"{label!r} is not an option of the rule",
            )
        return ValueProblem(
            f'"{label}" 不是数字, 请输入数字', f"{label!r} is not a number; enter a number"
        )
    shown = format_number(column.numbers[index], rule.scale)
    return NoTierMatch(
        f'无匹配档位: {shown} 不在规则 "{rule.format()}" 的任何档位',
        f"no tier matches {shown}",
    )


def evaluate(rule: Rule, cells: ValueColumn | object) -> Column:
    """Each cell's tier result: float64 when all results are numbers, else object."""
    found = match(rule, cells)
    # one result per tier and a last slot for "no tier": NO_TIER (-1) picks the last slot
    if rule.results_are_numbers:
        results = np.array([*(float(t.result) for t in rule.tiers), np.nan], dtype=np.float64)
    else:
        results = np.array([*(t.result for t in rule.tiers), None], dtype=object)
    return Column(results[found.tiers], found.errors)


def explain(rule: Rule, cells: ValueColumn | object) -> Column:
    """One line per cell: ``47% ∈ [45%,50%) → 80``; for a cell in error, its message."""
    found = match(rule, cells)
    failed = present(found.errors)
    lines = np.empty(len(found.cells), dtype=object)
    matched = np.flatnonzero(~failed)
    if matched.size:
        endings = np.array([f" {_relation(tier)}" for tier in rule.tiers], dtype=object)
        lines[matched] = _shown(found.cells, matched, rule.scale) + endings[found.tiers[matched]]
    lines[failed] = [str(error) for error in found.errors[failed]]
    return Column(lines, no_errors(len(lines)))


def _shown(column: ValueColumn, rows: np.ndarray, scale: Scale) -> np.ndarray:
    """The cells at ``rows`` as an explanation shows them: 空, the label, or the number in the
    rule's scale (each distinct number formatted once)."""
    kinds = column.kinds[rows]
    shown = np.full(rows.shape[0], "空", dtype=object)
    text = kinds == Kind.TEXT
    shown[text] = column.labels[rows[text]]
    numeric = ~text & (kinds != Kind.BLANK)
    shown[numeric] = format_numbers(column.numbers[rows[numeric]], scale)
    return shown


def _relation(tier: Tier) -> str:
    """What follows the value in an explanation: the relation to the tier and its result."""
    condition = tier.condition_text
    if tier.kind is TierKind.NUMERIC and tier.low is not None and tier.high is not None:
        relation = f"= {condition[1:]}" if condition.startswith("=") else f"∈ {condition}"
    elif tier.kind is TierKind.NUMERIC:
        relation = f"{condition[0]} {condition[1:]}"
    elif tier.kind is TierKind.OTHERWISE:
        relation = "∈ 其他"
    elif tier.kind is TierKind.BLANK:
        return f"→ {tier.result_text}"  # "空 → 0"
    else:
        relation = f"= {condition}"
    return f"{relation} → {tier.result_text}"
