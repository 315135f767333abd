"""Count-based deductions (扣分): ``免2次; 每次-3; 封顶-20``, ``每次-1; 满3次每次-15``.

The rule is a list of tokens separated by ``;`` / ``；`` (or line breaks); Chinese and English
forms may be mixed, amounts may be written with or without the minus sign (``每次-3``,
``每次扣3``, ``每次3分`` all deduct 3 points per occurrence):

=====================  =====================  ================================================
Chinese                English                meaning
=====================  =====================  ================================================
``免2次``               ``free 2``             the first 2 occurrences cost nothing
``每次-3``              ``each -3``            every occurrence beyond the allowance costs 3
``第3次起每次-15``      ``from 3 each -15``    occurrences from the 3rd on cost 15 each
                                              (instead of the ``每次`` rate)
``满3次每次-15``        ``at 3 each -15``      once the count reaches 3, EVERY charged
                                              occurrence costs 15 (S3: late within 15 min −1
                                              each; a cumulative 3 in a month counts 15 each)
``封顶-20``             ``cap -20``            the total deduction is at most 20
=====================  =====================  ================================================

Precise reading, for a count c with allowance a (default 0):

* occurrences 1…a are free — whatever the other tokens say, so a count within the allowance
  always deducts 0;
* occurrence i > a costs the rate of the last ``第N次起`` with N ≤ i, else the ``每次`` rate,
  else 0 (so ``第3次起每次-15`` alone leaves the 1st and 2nd free);
* when c reaches a ``满M次`` level (the highest M ≤ c), the deduction is instead
  (c − a) × that level's rate;
* the result is limited by ``封顶``, and returned as points ≤ 0.

A rule whose deduction would fall when the count rises (``每次-5; 满3次每次-1``: 2 → −10,
3 → −3) is rejected when parsed, so every accepted rule is monotone non-increasing in the count.
Parsed rules are cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kpi_xl.core.column import Column
from kpi_xl.core.errors import RuleError, ValueProblem
from kpi_xl.core.scoring import CellsLike, numbers_of
from kpi_xl.core.values import fold, format_number

_AMOUNT = r"(?:扣\s*)?(?P<sign>[-+]?)\s*(?P<amount>\d+(?:\.\d+)?)\s*分?"
_INT = r"(?P<n>\d+)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("free", rf"^(?:免|免扣|免费)\s*{_INT}\s*次?$"),
        ("free", rf"^free\s*{_INT}(?:\s*times?)?$"),
        ("each", rf"^每次\s*{_AMOUNT}$"),
        ("each", rf"^each\s*{_AMOUNT}$"),
        ("from", rf"^第\s*{_INT}\s*次\s*(?:起|开始|及以后|以后)?\s*每次\s*{_AMOUNT}$"),
        ("from", rf"^from\s*(?:the\s*)?{_INT}(?:st|nd|rd|th)?\s*(?:on\s*)?,?\s*each\s*{_AMOUNT}$"),
        ("full", rf"^满\s*{_INT}\s*次\s*(?:则|后|起)?\s*每次\s*{_AMOUNT}$"),
        ("full", rf"^(?:at|reach(?:es|ing)?)\s*{_INT}\s*,?\s*each\s*{_AMOUNT}$"),
        ("cap", rf"^(?:封顶|最多|上限)\s*{_AMOUNT}$"),
        ("cap", rf"^cap\s*{_AMOUNT}$"),
    )
)
_TOKEN = re.compile(r"[^;\n]+")


@dataclass(frozen=True)
class DeductionRule:
    """A parsed deduction rule; amounts are positive point magnitudes."""

    allowance: int = 0
    each: float | None = None
    from_rates: tuple[tuple[int, float], ...] = ()
    full_rates: tuple[tuple[int, float], ...] = ()
    cap: float | None = None

    def format(self) -> str:
        """The canonical Chinese text of the rule (parses back to an equal rule)."""
        parts: list[str] = []
        if self.allowance:
            parts.append(f"免{self.allowance}次")
        if self.each is not None:
            parts.append(f"每次-{format_number(self.each)}")
        parts.extend(f"第{n}次起每次-{format_number(rate)}" for n, rate in self.from_rates)
        parts.extend(f"满{n}次每次-{format_number(rate)}" for n, rate in self.full_rates)
        if self.cap is not None:
            parts.append(f"封顶-{format_number(self.cap)}")
        return "; ".join(parts)

    def raw_total(self, counts: np.ndarray) -> np.ndarray:
        """The positive deduction for integral counts ≥ 0 (float array), cap applied."""
        counts = np.asarray(counts, dtype=np.float64)
        first_charged = float(self.allowance + 1)
        total = np.zeros_like(counts)
        starts = [1, *(n for n, _ in self.from_rates)]
        rates = [self.each or 0.0, *(rate for _, rate in self.from_rates)]
        ends = [*(n - 1 for n, _ in self.from_rates), np.inf]
        for start, end, rate in zip(starts, ends, rates, strict=True):
            if rate == 0.0:
                continue
            low = max(first_charged, float(start))
            if low > end:
                continue
            occurrences = np.clip(counts - low + 1.0, 0.0, end - low + 1.0)
            total = total + occurrences * rate
        charged = np.maximum(counts - self.allowance, 0.0)
        for level, rate in self.full_rates:
            total = np.where(counts >= level, charged * rate, total)
        if self.cap is not None:
            total = np.minimum(total, self.cap)
        return total


def _amount(match: re.Match[str], token: str, where: str) -> float:
    if match["sign"] == "+":
        raise RuleError(
            f"{where} \"{token}\": 扣分规则只能扣分, 不能写 +",
            f"{where} {token!r}: a deduction rule only deducts; remove the +",
        )
    return float(match["amount"])


@lru_cache(maxsize=1024)
def parse_deduction(text: str) -> DeductionRule:
    """Parse a deduction rule (see the module docstring); errors name the token and position."""
    folded = fold(text)
    tokens = [(m.start() + len(m.group()) - len(m.group().lstrip()), m.group().strip())
              for m in _TOKEN.finditer(folded) if m.group().strip()]
    if not tokens:
        raise RuleError("扣分规则为空", "the deduction rule is empty")
    allowance: int | None = None
    each: float | None = None
    cap: float | None = None
    from_rates: dict[int, float] = {}
    full_rates: dict[int, float] = {}
    for number, (offset, token) in enumerate(tokens, start=1):
        where_zh = f"第{number}段(第{offset + 1}个字符起)"
        where_en = f"token {number} (from character {offset + 1})"
        kind, match = _match(token)
        if match is None:
            raise RuleError(
                f"{where_zh} \"{token}\" 无法识别; 可写 免2次 / 每次-3 / 第3次起每次-15 / "
                "满3次每次-15 / 封顶-20",
                f"{where_en} {token!r} not understood; write free 2 / each -3 / "
                "from 3 each -15 / at 3 each -15 / cap -20",
            )
        duplicate = RuleError(f"{where_zh} \"{token}\" 重复", f"{where_en} {token!r} repeats")
        if kind == "free":
            if allowance is not None:
                raise duplicate
            allowance = int(match["n"])
        elif kind == "each":
            if each is not None:
                raise duplicate
            each = _amount(match, token, where_zh)
        elif kind == "cap":
            if cap is not None:
                raise duplicate
            cap = _amount(match, token, where_zh)
        else:
            level = int(match["n"])
            if level < 1:
                raise RuleError(f"{where_zh} \"{token}\": 次数应从 1 起",
                                f"{where_en} {token!r}: counts start at 1")
            table = from_rates if kind == "from" else full_rates
            if level in table:
                raise duplicate
            table[level] = _amount(match, token, where_zh)
    if each is None and not from_rates and not full_rates:
        raise RuleError(
            f"扣分规则 \"{text}\" 没有扣分项 (每次-3 / 第3次起每次-15 / 满3次每次-15)",
            f"the deduction rule {text!r} deducts nothing (each -3 / from 3 each -15 / "
            "at 3 each -15)",
        )
    rule = DeductionRule(
        allowance=allowance or 0,
        each=each,
        from_rates=tuple(sorted(from_rates.items())),
        full_rates=tuple(sorted(full_rates.items())),
        cap=cap,
    )
    _check_monotone(rule)
    return rule


def _match(token: str) -> tuple[str, re.Match[str] | None]:
    for kind, pattern in _PATTERNS:
        match = pattern.match(token)
        if match is not None:
            return kind, match
    return "", None


def _check_monotone(rule: DeductionRule) -> None:
    for level, rate in rule.full_rates:
        before, at = rule.raw_total(np.array([level - 1.0, float(level)]))
        if at < before:
            shown = format_number(rate)
            raise RuleError(
                f"满{level}次每次-{shown} 使 {level} 次的扣分 ({format_number(at)}) 少于 "
                f"{level - 1} 次的扣分 ({format_number(before)}); 请提高满{level}次的每次扣分",
                f"at {level} each -{shown} deducts less for {level} ({format_number(at)}) than "
                f"for {level - 1} ({format_number(before)}); raise that rate",
            )


def deduct(counts: CellsLike, rule: str | DeductionRule) -> Column:
    """Points (≤ 0) per row for the occurrence counts under ``rule``.

    A count must be a non-negative whole number: 1.5, −1, text or a blank give that cell an
    error with the reason; Excel error values pass through. Rule errors raise
    :class:`~kpi_xl.core.errors.RuleError`.
    """
    parsed = parse_deduction(rule) if isinstance(rule, str) else rule
    column = numbers_of(counts, ("次数", "count"))
    values = column.values
    errors = column.errors.copy()
    finite = np.isfinite(values)
    bad = finite & ((values < 0) | (values != np.floor(values)))
    for index in np.flatnonzero(bad):
        shown = format_number(float(values[index]))
        errors[index] = ValueProblem(
            f"次数应为非负整数, 收到 {shown}", f"a count must be a whole number ≥ 0, got {shown}"
        )
    good = finite & ~bad
    result = np.full(values.shape[0], np.nan)
    result[good] = 0.0 - parsed.raw_total(values[good])
    result = result + 0.0  # no -0.0
    return Column(result, errors)
