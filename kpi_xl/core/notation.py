"""The rule notation: the text of the paper sheet's 标准 column, read into tier tables.

A rule is a list of tiers ``CONDITION:RESULT`` separated by ``;``, ``；`` or line breaks; the
first tier whose condition holds gives the result (see ``shared/specs/rule-notation.md``).
A tier table is data, as in openfisca's scales: each bound carries an explicit inclusivity
flag, so ``90%≤X<100%`` and ``[90%,100%)`` are the same tier.
"""

from __future__ import annotations

import math
import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from kpi_xl.core.errors import KpiError, RuleError
from kpi_xl.core.values import (
    Kind,
    Number,
    Scale,
    cell_error,
    fold,
    format_number,
    read_cell,
    read_number,
)


class TierKind(Enum):
    NUMERIC = "numeric"
    LABEL = "label"
    BLANK = "blank"
    OTHERWISE = "otherwise"


@dataclass(frozen=True)
class Bound:
    """One end of a numeric tier; ``text`` is the number as written (``45%``, ``4W``)."""

    value: float
    inclusive: bool
    text: str

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Bound)
            and self.value == other.value
            and self.inclusive == other.inclusive
        )

    def __hash__(self) -> int:
        return hash((self.value, self.inclusive))


@dataclass(frozen=True)
class Tier:
    """A condition and its result. Numeric tiers hold ``low``/``high`` bounds (None = open)."""

    kind: TierKind
    result: float | str
    low: Bound | None = None
    high: Bound | None = None
    label: str | None = None
    written_result: str | None = field(default=None, compare=False)
    """A numeric result as HR wrote it (``6‰``), for printing the rule back."""

    def holds_for_number(self, value: float) -> bool:
        if self.kind is TierKind.OTHERWISE:
            return True
        if self.kind is not TierKind.NUMERIC:
            return False
        if self.low is not None and not (
            value >= self.low.value if self.low.inclusive else value > self.low.value
        ):
            return False
        return self.high is None or (
            value <= self.high.value if self.high.inclusive else value < self.high.value
        )

    @property
    def condition_text(self) -> str:
        """The condition in canonical notation; it reparses to the same tier."""
        if self.kind is TierKind.OTHERWISE:
            return "其他"
        if self.kind is TierKind.BLANK:
            return "空"
        if self.kind is TierKind.LABEL:
            return str(self.label)
        low, high = self.low, self.high
        if low is not None and high is not None:
            if low.value == high.value and low.inclusive and high.inclusive:
                return f"={low.text}"
            return (
                f"{'[' if low.inclusive else '('}{low.text},"
                f"{high.text}{']' if high.inclusive else ')'}"
            )
        if low is not None:
            return f"{'≥' if low.inclusive else '>'}{low.text}"
        assert high is not None
        return f"{'≤' if high.inclusive else '<'}{high.text}"

    @property
    def result_text(self) -> str:
        if isinstance(self.result, str):
            return self.result
        return self.written_result or format_number(self.result)

    def format(self) -> str:
        return f"{self.condition_text}:{self.result_text}"


@dataclass(frozen=True)
class Rule:
    """An ordered tier table. ``source`` is the text HR wrote (for messages)."""

    tiers: tuple[Tier, ...]
    source: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and self.tiers == other.tiers

    def __hash__(self) -> int:
        return hash(self.tiers)

    def format(self) -> str:
        """Canonical text: ``≥50%:100; [45%,50%):80; <45%:0``."""
        return "; ".join(tier.format() for tier in self.tiers)

    @property
    def numeric_tiers(self) -> tuple[Tier, ...]:
        return tuple(t for t in self.tiers if t.kind is TierKind.NUMERIC)

    @property
    def bounds(self) -> tuple[Bound, ...]:
        return tuple(
            bound for tier in self.numeric_tiers for bound in (tier.low, tier.high) if bound
        )

    @property
    def in_percent(self) -> bool:
        """Every numeric bound is written with % or ‰ (a rate rule)."""
        bounds = self.bounds
        return bool(bounds) and all(b.text.endswith(("%", "‰")) for b in bounds)

    @property
    def results_are_numbers(self) -> bool:
        return all(not isinstance(t.result, str) for t in self.tiers)

    @property
    def scale(self) -> Scale:
        return Scale.PERCENT if self.in_percent else Scale.PLAIN


_TIER_SEPARATORS = re.compile(r"[;\n\r]+")
_OTHERWISE_WORDS = frozenset({"else", "其他", "其余", "其它", "otherwise", "以上皆非"})
_BLANK_WORDS = frozenset({"空", "blank", "空白", "(空)", "empty"})
_LESS = {"<": False, "≤": True}
_GREATER = {">": False, "≥": True}
_OPERATOR_CHARS = "<>≤≥=[]()"
_NAME = r"[A-Za-z\u4e00-\u9fff_][A-Za-z0-9\u4e00-\u9fff_]*"
_NUM = (
    r"[+-]?[0-9][0-9,]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    r"\s*[%‰wW万kK千]?\s*(?:秒|元|分|人|单|次|s|S|个|件|天)?"
)
_SEED_INTERVAL = re.compile(
    rf"^(?P<a>{_NUM})\s*(?P<op1>[<≤>≥])\s*(?:{_NAME})?\s*(?P<op2>[<≤>≥])\s*(?P<b>{_NUM})$"
)
_COMPARISON = re.compile(rf"^(?:{_NAME})?\s*(?P<op>[<≤>≥=])\s*(?P<n>{_NUM})$")
_REVERSED_COMPARISON = re.compile(rf"^(?P<n>{_NUM})\s*(?P<op>[<≤>≥=])\s*(?:{_NAME})$")
_BRACKET = re.compile(rf"^(?P<l>[\[(])\s*(?P<a>{_NUM})\s*,\s*(?P<b>{_NUM})\s*(?P<r>[\])])$")


def _rule_error(
    tier_no: int, tier_text: str, position: int, why_zh: str, why_en: str
) -> RuleError:
    shown = tier_text[position] if 0 <= position < len(tier_text) else "结尾"
    return RuleError(
        f'规则第 {tier_no} 档 "{tier_text}" 第 {position + 1} 个字符 "{shown}" 处无法读取: '
        f"{why_zh}",
        f"cannot read tier {tier_no} at character {position + 1}: {why_en}",
    )


def _number(text: str, tier_no: int, tier_text: str) -> Number:
    number = read_number(text)
    if number is None:
        raise _rule_error(
            tier_no,
            tier_text,
            max(tier_text.find(text), 0),
            f'"{text}" 不是数字',
            f"{text!r} is not a number",
        )
    return number


def _bound(text: str, inclusive: bool, tier_no: int, tier_text: str) -> Bound:
    number = _number(text.strip(), tier_no, tier_text)
    return Bound(number.value, inclusive, number.text)


_TOKEN = re.compile(
    rf"\s*(?:(?P<num>{_NUM})|(?P<name>{_NAME})|(?P<op>[<≤>≥=])|(?P<lb>[\[(])|(?P<rb>[\])])|(?P<comma>,))"
)
_CONDITION_SHAPES = (
    ("name?", "op", "num"),
    ("num", "op", "name?", "op", "num"),
    ("num", "op", "name"),
    ("lb", "num", "comma", "num", "rb"),
)


def _stop_position(condition: str) -> int:
    """Where reading a malformed condition stops: the start of the first token that fits
    none of the condition shapes (or the first character that is no token at all)."""
    kinds: list[str] = []
    starts: list[int] = []
    position = 0
    while position < len(condition):
        match = _TOKEN.match(condition, position)
        if match is None or match.end() == position:
            break
        kinds.append(next(k for k, v in match.groupdict().items() if v is not None))
        starts.append(match.start() + len(match[0]) - len(match[0].lstrip()))
        position = match.end()
    starts.append(position)
    best = max(_matched_tokens(shape, kinds) for shape in _CONDITION_SHAPES)
    return starts[best]


def _matched_tokens(shape: tuple[str, ...], kinds: list[str]) -> int:
    matched = 0
    for expected in shape:
        optional = expected.endswith("?")
        if matched < len(kinds) and kinds[matched] == expected.rstrip("?"):
            matched += 1
        elif not optional:
            break
    return matched


def _parse_condition(condition: str, tier_no: int, tier_text: str) -> Tier:
    """Read one condition; the result is filled in by the caller."""
    lowered = condition.lower()
    if lowered in _OTHERWISE_WORDS:
        return Tier(TierKind.OTHERWISE, 0.0)
    if lowered in _BLANK_WORDS:
        return Tier(TierKind.BLANK, 0.0)
    if match := _BRACKET.match(condition):
        low = _bound(match["a"], match["l"] == "[", tier_no, tier_text)
        high = _bound(match["b"], match["r"] == "]", tier_no, tier_text)
        return _checked_interval(low, high, tier_no, tier_text)
    if match := _SEED_INTERVAL.match(condition):
        op1, op2 = match["op1"], match["op2"]
        if op1 in _LESS and op2 in _LESS:  # a ≤ X < b
            low = _bound(match["a"], _LESS[op1], tier_no, tier_text)
            high = _bound(match["b"], _LESS[op2], tier_no, tier_text)
        elif op1 in _GREATER and op2 in _GREATER:  # b > X ≥ a, written high first
            high = _bound(match["a"], _GREATER[op1], tier_no, tier_text)
            low = _bound(match["b"], _GREATER[op2], tier_no, tier_text)
        else:
            raise _rule_error(
                tier_no,
                tier_text,
                tier_text.find(op2),
                "区间两侧方向不一致",
                "the two sides of the interval point different ways",
            )
        return _checked_interval(low, high, tier_no, tier_text)
    if match := _COMPARISON.match(condition):
        return _comparison(match["op"], match["n"], tier_no, tier_text)
    if match := _REVERSED_COMPARISON.match(condition):  # 40%>Y reads as Y<40%
        mirrored = {"<": ">", ">": "<", "≤": "≥", "≥": "≤", "=": "="}[match["op"]]
        return _comparison(mirrored, match["n"], tier_no, tier_text)
    if (number := read_number(condition)) is not None:  # a bare number: that value exactly
        bound = Bound(number.value, True, number.text)
        return Tier(TierKind.NUMERIC, 0.0, bound, bound)
    if any(char in _OPERATOR_CHARS + "%‰" for char in condition) or not condition:
        position = _stop_position(condition) + max(tier_text.find(condition), 0)
        raise _rule_error(
            tier_no,
            tier_text,
            position,
            "条件应为 ≥45%、[45%,50%)、90%≤X<100%、文字或 其他",
            "a condition is like ≥45%, [45%,50%), 90%≤X<100%, a label or else",
        )
    return Tier(TierKind.LABEL, 0.0, label=condition)


def _comparison(op: str, number_text: str, tier_no: int, tier_text: str) -> Tier:
    if op == "=":
        bound = _bound(number_text, True, tier_no, tier_text)
        return Tier(TierKind.NUMERIC, 0.0, bound, bound)
    if op in _GREATER:
        low, high = _bound(number_text, _GREATER[op], tier_no, tier_text), None
    else:
        low, high = None, _bound(number_text, _LESS[op], tier_no, tier_text)
    return _holding_numbers(Tier(TierKind.NUMERIC, 0.0, low, high), tier_no, tier_text)


def _checked_interval(low: Bound, high: Bound, tier_no: int, tier_text: str) -> Tier:
    empty = low.value > high.value or (
        low.value == high.value and not (low.inclusive and high.inclusive)
    )
    if empty:
        raise RuleError(
            f'规则第 {tier_no} 档 "{tier_text}" 是空区间: 下限应小于上限',
            f"tier {tier_no} is an empty interval: the lower bound must be below the upper",
        )
    return _holding_numbers(Tier(TierKind.NUMERIC, 0.0, low, high), tier_no, tier_text)


def _holding_numbers(tier: Tier, tier_no: int, tier_text: str) -> Tier:
    """``tier`` if some number a cell can hold meets it: not ``(1,1.0000000000000002)``,
    nor ``>1.7976931348623157e308``."""
    first, last = _span(tier)
    if first > last:
        raise RuleError(
            f'规则第 {tier_no} 档 "{tier_text}" 是空区间: 没有数值满足此条件',
            f"tier {tier_no} is an empty interval: no number meets it",
        )
    return tier


def _with_result(tier: Tier, text: str, tier_no: int, tier_text: str) -> Tier:
    if not text:
        raise _rule_error(
            tier_no, tier_text, len(tier_text), "冒号后缺少结果", "the result after ':' is missing"
        )
    if ":" in text:  # "≥50%:100:<50%:0" — two tiers run together, or a tier in a condition cell
        raise _rule_error(
            tier_no, tier_text, tier_text.find(":", tier_text.find(":") + 1),
            '一档只能有一个 ":"; 档与档之间用 ";" 分开',
            "a tier has one ':'; separate tiers with ';'",
        )
    number = read_number(text)
    if number is None:
        return Tier(tier.kind, text, tier.low, tier.high, tier.label)
    return Tier(tier.kind, number.value, tier.low, tier.high, tier.label, number.text)


def _parse_tier(tier_text: str, tier_no: int) -> Tier:
    condition, colon, result = tier_text.partition(":")
    if not colon:
        raise _rule_error(
            tier_no,
            tier_text,
            len(tier_text),
            '缺少 ":" 和结果, 例如 ≥50%:100',
            "missing ':' and a result, e.g. ≥50%:100",
        )
    tier = _parse_condition(condition.strip(), tier_no, tier_text)
    return _with_result(tier, result.strip(), tier_no, tier_text)


@lru_cache(maxsize=4096)
def parse_rule_text(text: str) -> Rule:
    """Parse rule text; cached, so the same text is read (and checked) once per process."""
    folded = fold(text)
    pieces = [piece for piece in map(str.strip, _TIER_SEPARATORS.split(folded)) if piece]
    tiers = tuple(_parse_tier(piece, number) for number, piece in enumerate(pieces, start=1))
    if not tiers:
        raise RuleError(
            "规则为空, 请写档位, 例如 ≥50%:100; <50%:0",
            "the rule is empty; write tiers such as ≥50%:100; <50%:0",
        )
    _check_every_tier_reachable(tiers, pieces)
    return Rule(tiers, text.strip())


# ------------------------------------------------------------------- unreachable tiers

Span = tuple[float, float]
"""The finite floats a numeric tier holds, as the closed float range ``(first, last)``."""

_LARGEST = sys.float_info.max


def _span(tier: Tier) -> Span:
    """A numeric tier's bounds as the closed range of floats it holds: a cell holds a finite
    float, so ``>45%`` starts at the float after 0.45 and an open end is the largest float
    (the inclusivity flags resolved as :class:`~kpi_xl.core.tiers.TierTable` does)."""
    low, high = tier.low, tier.high
    if low is None:
        first = -_LARGEST
    else:
        first = low.value if low.inclusive else math.nextafter(low.value, math.inf)
    if high is None:
        last = _LARGEST
    else:
        last = high.value if high.inclusive else math.nextafter(high.value, -math.inf)
    return first, last


class _Cover:
    """The numbers the tiers read so far hold: sorted, disjoint, non-touching float ranges
    (``[1,2)`` and ``[2,3]`` are one range ``[1,3]``)."""

    def __init__(self) -> None:
        self.firsts: list[float] = []
        self.lasts: list[float] = []

    def contains(self, span: Span) -> bool:
        at = bisect_right(self.firsts, span[0]) - 1
        return at >= 0 and self.lasts[at] >= span[1]

    def add(self, span: Span) -> None:
        first, last = span
        start = bisect_left(self.lasts, math.nextafter(first, -math.inf))
        stop = bisect_right(self.firsts, math.nextafter(last, math.inf))
        if start < stop:  # ranges start…stop-1 overlap or touch the new one: merge them
            first, last = min(first, self.firsts[start]), max(last, self.lasts[stop - 1])
        self.firsts[start:stop] = [first]
        self.lasts[start:stop] = [last]


def _check_every_tier_reachable(tiers: tuple[Tier, ...], texts: list[str]) -> None:
    """A tier no value can reach, because the tiers before it already hold every value it
    holds (first match wins), is a :class:`RuleError`: ``Y≥40%:60; Y≥45%:80`` would give
    everyone at 45% or more 60 without a word. Partial overlaps are fine.

    Who reaches what (the spec: the first tier whose condition holds): a number reaches the
    first numeric or 其他 tier that holds; a text the first tier of that label or 其他; a
    blank only a 空 tier. So a numeric tier is unreachable when an earlier 其他 exists or
    the union of the earlier numeric tiers covers its range of floats; a label tier when an
    earlier tier has that label or is 其他; a 空 or 其他 tier when an earlier tier is one too
    (其他 after tiers covering every number still catches text). The evaluator looks a text
    up by label before 其他; with a label after 其他 refused here the two never differ.
    O(tiers²) at worst (merging ranges; the earlier tiers are scanned only for a message).
    """
    cover = _Cover()
    first_of: dict[tuple[TierKind, str | None], int] = {}
    for index, tier in enumerate(tiers):
        shadowing = _shadowing(tiers, index, cover, first_of)
        if shadowing:
            raise _shadowed_error(tiers, texts, index, shadowing)
        if tier.kind is TierKind.NUMERIC:
            cover.add(_span(tier))
        else:
            first_of.setdefault((tier.kind, tier.label), index)


def _shadowing(
    tiers: tuple[Tier, ...],
    index: int,
    cover: _Cover,
    first_of: dict[tuple[TierKind, str | None], int],
) -> tuple[int, ...]:
    """The earlier tiers that together hold every value tier ``index`` holds; () if none."""
    tier = tiers[index]
    otherwise = first_of.get((TierKind.OTHERWISE, None))
    if otherwise is not None and tier.kind is not TierKind.BLANK:
        return (otherwise,)
    if tier.kind is not TierKind.NUMERIC:
        same = first_of.get((tier.kind, tier.label))
        return () if same is None else (same,)
    span = _span(tier)
    if not cover.contains(span):
        return ()
    earlier = [(j, _span(t)) for j, t in enumerate(tiers[:index]) if t.kind is TierKind.NUMERIC]
    whole = next((j for j, (a, b) in earlier if a <= span[0] and span[1] <= b), None)
    if whole is not None:
        return (whole,)
    return tuple(j for j, (a, b) in earlier if a <= span[1] and span[0] <= b)


def _shadowed_error(
    tiers: tuple[Tier, ...], texts: list[str], index: int, shadowing: tuple[int, ...]
) -> RuleError:
    tier = tiers[index]
    named, numbers = _named_tiers(texts, shadowing)
    if len(shadowing) == 1 and tiers[shadowing[0]].kind is TierKind.OTHERWISE:
        why_zh, why_en = f"{named} 已包含所有值", f"{numbers} already covers every value"
        fix_zh, fix_en = '请把 "其他" 档放在最后', "put the 其他 tier last"
    elif len(shadowing) == 1 and _span_or_label(tiers[shadowing[0]]) == _span_or_label(tier):
        why_zh, why_en = f"与{named} 条件相同", f"{numbers} has the same condition"
        fix_zh, fix_en = "请删除重复的档位", "remove the duplicate tier"
    else:
        together = "合起来" if len(shadowing) > 1 else ""
        covers = "together already cover" if len(shadowing) > 1 else "already covers"
        why_zh = f"{named} {together}已包含{_values_text(tier)}"
        why_en = f"{numbers} {covers} it"
        fix_zh, fix_en = _reorder_fix(tier)
    return RuleError(
        f'规则第 {index + 1} 档 "{texts[index]}" 永远用不到: {why_zh}; {fix_zh}',
        f"tier {index + 1} can never match: {why_en}; {fix_en}",
    )


_NAMED_AT_MOST = 3
"""A message names this many covering tiers, then counts the rest: one short line."""


def _named_tiers(texts: list[str], shadowing: tuple[int, ...]) -> tuple[str, str]:
    """``第 1 档 "≥40%"、第 2 档 "<50%"`` and ``tiers 1 and 2`` (``… 等 5 档``, ``and 2 more``)."""
    shown = shadowing[:_NAMED_AT_MOST]
    named = "、".join(f'第 {j + 1} 档 "{texts[j].partition(":")[0].strip()}"' for j in shown)
    numbers = [str(j + 1) for j in shown]
    if len(shadowing) > len(shown):
        named += f" 等 {len(shadowing)} 档"
        numbers.append(f"{len(shadowing) - len(shown)} more")
    if len(numbers) == 1:
        return named, f"tier {numbers[0]}"
    return named, f"tiers {', '.join(numbers[:-1])} and {numbers[-1]}"


def _span_or_label(tier: Tier) -> tuple[object, ...]:
    """What a tier holds, for telling a duplicate from a covering tier."""
    return _span(tier) if tier.kind is TierKind.NUMERIC else (tier.kind, tier.label)


def _values_text(tier: Tier) -> str:
    """The values a numeric tier holds, in words: ``所有 ≥45% 的值``, or ``100%`` for ``=100%``."""
    condition = tier.condition_text
    return f" {condition[1:]}" if condition.startswith("=") else f"所有 {condition} 的值"


def _reorder_fix(tier: Tier) -> tuple[str, str]:
    """How to fix a numeric tier the tiers before it cover, by its shape."""
    if tier.high is None:
        return "请从高到低排列档位", "order the tiers from high to low"
    if tier.low is None:
        return "请从低到高排列档位", "order the tiers from low to high"
    return "请调整档位的顺序或边界", "reorder the tiers or fix their bounds"


def _cell_text(value: object) -> str:
    kind, number, label, error = read_cell(value)
    if error is not None:  # Excel's rule: an error in an argument is the error of the result
        raise KpiError(f"规则区域含错误值 {error.code}, 请先修正该单元格",
                       f"the rule range holds the error {error.code}", code=error.code)
    if kind == Kind.NUMBER:
        return format_number(number)
    return label or ""


@lru_cache(maxsize=1024)
def _parse_rule_rows(rows: tuple[tuple[object, object], ...]) -> Rule:
    tiers: list[str] = []
    for row in rows:
        cells = [_cell_text(cell) for cell in row]
        if not any(cells):
            break  # a blank row ends the rule
        if not cells[1]:
            raise RuleError(
                f"规则区域第 {len(tiers) + 1} 行缺少结果列",
                f"row {len(tiers) + 1} of the rule range has no result",
            )
        tiers.append(f"{cells[0]}:{cells[1]}")
    return parse_rule_text("; ".join(tiers))


def _filled(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _is_whole_tier(cell: object) -> bool:
    """A cell that holds a whole tier, ``≥50%:100`` (full-width ``：`` too)."""
    return isinstance(cell, str) and ":" in fold(cell)


def parse_rule(rule: object) -> Rule:
    """A rule as text, or a range: one column of tier cells, or two columns (condition |
    result, one tier per row; a blank row ends the rule).

    A range whose every filled cell holds a whole tier (``≥50%:100``) is read as those tiers,
    row by row and left to right — a rule typed across a row reads as HR means it (a condition
    never contains ``:``, so this cannot be a condition | result range). Any other range wider
    than two columns is an error. A rule cell holding an Excel error (the recalc's
    :class:`KpiError`, or the code as text from classic xlwings) raises that error, code kept.
    """
    if isinstance(rule, Rule):
        return rule
    if (error := cell_error(rule)) is not None:
        raise error
    if isinstance(rule, str):
        return parse_rule_text(rule)
    rows = _as_rows(rule)
    if rows is not None:
        if len(rows) == 1 and len(rows[0]) == 1:
            return parse_rule(rows[0][0])
        return _parse_rule_range(rows)
    if rule is None or (isinstance(rule, float) and math.isnan(rule)):
        raise RuleError("规则单元格为空", "the rule cell is blank")
    raise RuleError(
        f"规则应为文字或两列区域, 收到 {rule!r}", "a rule is text or a two-column range"
    )


def _parse_rule_range(rows: list[list[object]]) -> Rule:
    cells = [cell for row in rows for cell in row if _filled(cell)]
    width = max((len(row) for row in rows), default=1)
    if width == 1 or all(map(_is_whole_tier, cells)):
        return parse_rule_text("; ".join(map(_cell_text, cells)))
    if width == 2:
        return _parse_rule_rows(tuple((row[0], row[1] if len(row) > 1 else None) for row in rows))
    raise RuleError(
        f"规则区域应为两列 (条件 | 结果), 收到 {width} 列; 或每格写一整档, 如 ≥50%:100",
        f"a rule range has two columns (condition | result), got {width}; "
        "or one whole tier per cell, e.g. ≥50%:100",
    )


def _as_rows(rule: object) -> list[list[object]] | None:
    if hasattr(rule, "tolist"):
        rule = rule.tolist()  # numpy arrays
    if isinstance(rule, Sequence) and not isinstance(rule, str):
        if all(isinstance(row, Sequence) and not isinstance(row, str) for row in rule):
            return [list(row) for row in rule]
        return [[cell] for cell in rule]
    return None
