"""Units in exports and how they convert into a 考核 column: in a header's brackets
(``平均响应(分钟)``, ``销售额(千元)``) and after a value (``2分``, ``28800秒``, ``1,280元``,
``1分05秒``, ``8:30``).

The worksheet functions read ``30秒`` as 30 and ignore the unit (the rule notation says so);
the import cannot: a unit decides the number. Here a value's own unit wins over its header's,
a header's over the column's default, and a unit that does not fit the column (``元`` in a
seconds column, a 5-point ``分`` in a rate column, an unknown ``(千美元)``) is a refusal that the
report lists, never a guess. ``分`` is minutes in a time column and points elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "COUNT",
    "FRACTION",
    "MINUTES_OR_POINTS",
    "MONEY",
    "PERCENT",
    "POINTS",
    "SCALE",
    "SECOND",
    "TIME",
    "UNKNOWN",
    "Unit",
    "column_factor",
    "kind_of_unit",
    "parse_unit",
    "read_duration",
    "split_value_unit",
    "unit_problem",
]

TIME = "time"
"""Factor: seconds per unit."""
MONEY = "money"
"""Factor: 元 per unit (``千元`` 1000)."""
COUNT = "count"
"""Factor: items per unit (``万人`` 10000)."""
SCALE = "scale"
"""A bare multiplier (``(万)``, a value's own ``1.28万``): money, counts or plain numbers."""
PERCENT = "percent"
"""Factor: the fraction per unit (``%`` 0.01, ``‰`` 0.001)."""
POINTS = "points"
"""A score in points (``分值``, ``5分制``)."""
MINUTES_OR_POINTS = "分"
"""``分``: minutes over a time column, points over any other."""
UNKNOWN = "unknown"
"""Looks like a unit (``千美元``, ``百分点``, ``件/天``) but is none the import can convert."""


@dataclass(frozen=True)
class Unit:
    """A unit as written (``text``), what it measures and its size in the base unit."""

    text: str
    dimension: str
    factor: float = 1.0
    code: str = ""
    """The short form :func:`~kpi_xl.importer.headers.header_unit` gives (``s``/``min``/``h``/
    ``%``/``‰``/``元``/``万``), else ``text``."""


SECOND = Unit("秒", TIME, 1.0, "s")
FRACTION = Unit("%", PERCENT, 1.0, "%")
"""A percentage the value already holds as a fraction (``46.5%`` read as 0.465, a cell
formatted as %)."""

_TIME_WORDS = {
    **dict.fromkeys(("毫秒", "ms"), 0.001),
    **dict.fromkeys(("秒", "秒钟", "s", "sec", "secs"), 1.0),
    **dict.fromkeys(("分钟", "min", "mins"), 60.0),
    **dict.fromkeys(("小时", "时", "h", "hr", "hrs", "hour", "hours"), 3600.0),
    "天": 86400.0,
}
_TIME_CODES = {1.0: "s", 60.0: "min", 3600.0: "h"}
_MONEY_WORDS = frozenset({"元", "¥", "rmb", "人民币", "块"})
_COUNT_WORDS = frozenset({"人", "人次", "次", "单", "个", "件", "笔", "位", "户", "条"})
_PERCENT_WORDS = {"%": 0.01, "百分比": 0.01, "‰": 0.001, "千分比": 0.001}
_SCALES = {"k": 1e3, "千": 1e3, "w": 1e4, "万": 1e4, "十万": 1e5, "百万": 1e6, "千万": 1e7,
           "亿": 1e8}
_SCALED = re.compile(r"^(?P<scale>十万|百万|千万|[k千w万亿])(?P<rest>.*)$")
_POINTS = re.compile(r"^\d*分(?:值|数|制)$")
_UNIT_LIKE = re.compile(
    r"[%‰]|百分点|美金|[元币]$|^[十百千万亿]+[人次单个件笔位户条秒分时天元]?$"
    r"|/(?:人|次|单|个|件|笔|位|户|天|日|周|月|小时|h)$"
)
"""Groups that read as a unit the import does not know (so the column is refused) rather than
as a note such as ``(静默下单)`` / ``(含自动回复)`` / ``(千牛)``."""


@lru_cache(maxsize=1024)
def parse_unit(text: str) -> Unit | None:
    """The unit a bracket group (or a value's suffix) names; ``None`` when it is not a unit.

    ``text`` is already folded (NFKC, lower case): ``秒`` → 1 s, ``千元`` → 1000 元, ``万人`` →
    10000 items, ``元/人`` → 元, ``分`` → minutes-or-points, ``千美元`` → :data:`UNKNOWN`.
    """
    known = _simple_unit(text)
    if known is not None:
        return known
    scaled = _SCALED.match(text)
    if scaled:
        rest = _simple_unit(scaled["rest"]) if scaled["rest"] else None
        factor = _SCALES[scaled["scale"]]
        if not scaled["rest"]:
            return Unit(text, SCALE, factor, "万" if factor == 1e4 else text)
        if rest is not None and rest.dimension in (MONEY, COUNT):
            return Unit(text, rest.dimension, factor * rest.factor,
                        "万" if (factor, rest.dimension) == (1e4, MONEY) else text)
    per, _, each = text.partition("/")
    if each in _COUNT_WORDS and per in _MONEY_WORDS:  # 客单价(元/人)
        return Unit(text, MONEY, 1.0, "元")
    if _UNIT_LIKE.search(text):
        return Unit(text, UNKNOWN, 1.0, text)
    return None


def _simple_unit(text: str) -> Unit | None:
    if text in _TIME_WORDS:
        factor = _TIME_WORDS[text]
        return Unit(text, TIME, factor, _TIME_CODES.get(factor, text))
    if text == "分":
        return Unit(text, MINUTES_OR_POINTS, 60.0, "分")
    if text in _PERCENT_WORDS:
        factor = _PERCENT_WORDS[text]
        return Unit(text, PERCENT, factor, "%" if factor == 0.01 else "‰")
    if text in _MONEY_WORDS:
        return Unit(text, MONEY, 1.0, "元")
    if text in _COUNT_WORDS:
        return Unit(text, COUNT, 1.0, text)
    if _POINTS.match(text):
        return Unit(text, POINTS, 1.0, text)
    return None


# --------------------------------------------------------------------------- values
_VALUE_WORDS = sorted({*_TIME_WORDS, "分", *_MONEY_WORDS - {"¥"}, *_COUNT_WORDS},
                      key=len, reverse=True)
_VALUE_UNIT = re.compile(rf"^(?P<number>.*?[\d.%‰kw万千亿])(?P<unit>{'|'.join(_VALUE_WORDS)})$")


def split_value_unit(text: str) -> tuple[str, Unit | None]:
    """A value's number text and its own unit: ``2分`` → (``2``, 分), ``¥1,280`` → (``1,280``,
    元), ``1.28万元`` → (``1.28万``, 元), ``46.5%`` → (``46.5%``, None). ``text`` is folded,
    lower case, without spaces."""
    if text.startswith("¥"):
        return text[1:], parse_unit("元")
    match = _VALUE_UNIT.match(text)
    if match is None:
        return text, None
    return match["number"], parse_unit(match["unit"])


_CLOCK = re.compile(r"^(\d+):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?$")
_PARTS = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)(?:小时|时|hr|h))?(?:(?P<m>\d+(?:\.\d+)?)(?:分钟|分|min|m))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)(?:秒钟|秒|sec|s))?$"
)


def read_duration(text: str, *, hours_first: bool) -> float | None:
    """Seconds of a clock (``1:02:03``; ``8:30`` as h:mm when ``hours_first`` else m:ss) or of a
    duration in parts (``1分05秒``, ``1小时30分``); ``None`` when ``text`` is neither.

    Raises :class:`ValueError` for a clock or parts out of range (``0:75``, ``1分75秒``).
    """
    clock = _CLOCK.match(text)
    if clock:
        first, second, third = clock.groups()
        if third is not None:
            parts = [(first, 3600.0), (second, 60.0), (third, 1.0)]
        else:
            parts = [(first, 3600.0 if hours_first else 60.0),
                     (second, 60.0 if hours_first else 1.0)]
        return _sum_parts(parts)
    match = _PARTS.match(text)
    if match is None or sum(part is not None for part in match.groups()) < 2:
        return None  # one part alone ("2分") is a number with a unit
    return _sum_parts([(match["h"], 3600.0), (match["m"], 60.0), (match["s"], 1.0)])


def _sum_parts(parts: list[tuple[str | None, float]]) -> float:
    """Σ part × size; every part after the first must be below 60 (``1:75`` is no time)."""
    given = [(float(text), size) for text, size in parts if text is not None]
    if any(value >= 60 for value, _ in given[1:]):
        raise ValueError("part out of range")
    return sum(value * size for value, size in given)


# --------------------------------------------------------------------------- columns
_TIME_KINDS = frozenset({"seconds", "hours"})
_ACCEPTS = {
    MONEY: frozenset({"money"}),
    COUNT: frozenset({"count"}),
    SCALE: frozenset({"money", "count", "number"}),
    PERCENT: frozenset({"rate", "number"}),
    POINTS: frozenset({"points", "score"}),
}
_KIND_NAMES = {
    "rate": "比率", "money": "金额", "count": "计数", "seconds": "时长(秒)", "hours": "时长(小时)",
    "points": "分值", "score": "分数", "number": "数值",
}


def _resolved(unit: Unit, kind: str | None, target: Unit | None) -> Unit:
    """``分`` as minutes over a time column, as points over any other."""
    if unit.dimension != MINUTES_OR_POINTS:
        return unit
    if kind in _TIME_KINDS or (target is not None and target.dimension == TIME):
        return Unit(unit.text, TIME, 60.0, "min")
    return Unit(unit.text, POINTS, 1.0, unit.text)


def column_factor(unit: Unit, kind: str | None, target: Unit | None) -> float | None:
    """What a number in ``unit`` is multiplied by to be in the column's unit (``kind``, its
    header's ``target`` unit); ``None`` when ``unit`` does not fit the column."""
    unit = _resolved(unit, kind, target)
    if target is not None:
        target = _resolved(target, kind, None)
    if unit.dimension == TIME:
        if kind not in _TIME_KINDS and (target is None or target.dimension != TIME):
            return None
        if target is not None and target.dimension == TIME:
            return unit.factor / target.factor
        return unit.factor / (3600.0 if kind == "hours" else 1.0)
    if kind not in _ACCEPTS.get(unit.dimension, ()) and (
            target is None or target.dimension != unit.dimension):
        return None
    if unit.dimension in (MONEY, COUNT, SCALE) and target is not None and \
            target.dimension in (MONEY, COUNT, SCALE):
        return unit.factor / target.factor
    return unit.factor


def kind_of_unit(unit: Unit | None) -> str | None:
    """The kind of a 考核 column the templates do not describe, from its header's unit."""
    if unit is None:
        return None
    if unit.dimension == TIME:
        return "hours" if unit.factor >= 3600 else "seconds"
    return {MONEY: "money", COUNT: "count", SCALE: "number", PERCENT: "rate",
            POINTS: "points"}.get(unit.dimension)


def unit_problem(unit: Unit, kind: str | None, header: str) -> str:
    """Why ``unit`` cannot fill the column ``header`` (bilingual, for the report)."""
    if unit.dimension == UNKNOWN:
        return (f"单位“{unit.text}”无法识别, 请换算后再导入 "
                f"(unknown unit {unit.text}; convert it first)")
    what = _KIND_NAMES.get(kind or "", "")
    if _resolved(unit, kind, None).dimension == POINTS and unit.dimension == MINUTES_OR_POINTS:
        return (f"“分”在此是分值 (如 5 分制), 不是分钟; {header} 是{what or '非分值列'}, "
                f"无法换算 (分 means points here, not minutes; {header} takes no points)")
    return (f"单位“{unit.text}”不适用于{what}列 {header} "
            f"(unit {unit.text} does not fit {header})")
