"""Header text as platform exports write it, and the synonym table that maps it to 考核 columns.

Exports from 赤兔 / 千牛 / 生意参谋 name the same figure many ways (``询单－>最终付款转化率``,
``平均响应（秒）``, ``接待人数``…). :func:`normalise` folds the spelling (NFKC full-width →
half-width, brackets, arrows, spaces, latin case); :func:`base` also drops trailing bracket
groups (units such as ``(秒)``/``(%)`` and notes such as ``(可直接填)``). A column matches a 考核
input column by its own header first (normalised, then by base when that is unambiguous), then
through :data:`CONCEPTS`: each concept lists the names platforms use and, in order of
preference, the 考核 headers (base form) it may fill.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .units import UNKNOWN, Unit, parse_unit

__all__ = [
    "CONCEPTS",
    "IDENTITY_HEADERS",
    "KEY_ID",
    "KEY_NICKNAME",
    "SUMMARY_NAMES",
    "Concept",
    "base",
    "concept_for",
    "header_unit",
    "is_summary",
    "normalise",
    "normalise_nickname",
    "qualifiers",
    "template_kind",
    "unit_of",
]

KEY_NICKNAME = "nickname"
KEY_ID = "id"

_BRACKETS = str.maketrans(
    {
        "（": "(", "）": ")", "[": "(", "]": ")", "【": "(", "】": ")", "〔": "(", "〕": ")",
        "{": "(", "}": ")", "〈": "(", "〉": ")", "《": "(", "》": ")", "「": "(", "」": ")",
        "『": "(", "』": ")", "﹙": "(", "﹚": ")",
    }
)
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_ARROW = re.compile(r"(?:[-‐‑‒–—―−﹣~]+>|→|⟶|➔|➜|⇒|=>|＞)")
_TRAILING_GROUPS = re.compile(r"(?:\([^()]*\))+$")
_TRAILING_PUNCT = re.compile(r"[:：*＊#]+$")


@lru_cache(maxsize=4096)
def normalise(text: object) -> str:
    """The comparable form of a header: ``询单－>最终付款转化率`` → ``询单->最终付款转化率``."""
    folded = unicodedata.normalize("NFKC", "" if text is None else str(text))
    folded = folded.translate(_BRACKETS)
    folded = _INVISIBLE.sub("", folded)
    folded = _ARROW.sub("->", folded)
    return _TRAILING_PUNCT.sub("", folded).lower()


@lru_cache(maxsize=4096)
def base(text: object) -> str:
    """:func:`normalise` without trailing bracket groups: ``平均响应(秒)`` → ``平均响应``.

    A header that is nothing but bracket groups is the first group's text (``【回复率】(%)`` →
    ``回复率``) unless that is a unit (``(秒)`` stays ``(秒)``).
    """
    return _split(text)[0] or normalise(text)


def _split(text: object) -> tuple[str, list[str]]:
    """(stem, trailing bracket groups) of the normalised header; a header that is only groups
    has the first group (unless a unit) as its stem."""
    norm = normalise(text)
    stem = _TRAILING_GROUPS.sub("", norm)
    groups = re.findall(r"\(([^()]*)\)", norm[len(stem):])
    if not stem and groups and parse_unit(groups[0]) is None:
        return groups[0], groups[1:]
    return stem, groups


def qualifiers(text: object) -> list[str]:
    """The trailing bracket groups of a header that are not units: ``询单转化率(静默下单)`` →
    ``["静默下单"]``, ``平均响应(秒)`` → ``[]`` — a qualified figure is another figure."""
    return [group for group in _split(text)[1] if parse_unit(group) is None]


@lru_cache(maxsize=4096)
def unit_of(text: object) -> Unit | None:
    """The unit a header states in brackets (the last one; an unknown unit wins, so that the
    column is refused): ``销售额(千元)`` → 1000 元, ``在线时长(分钟)`` → 60 s; else ``None``."""
    units = [unit for group in re.findall(r"\(([^()]*)\)", normalise(text))
             if (unit := parse_unit(group)) is not None]
    unknown = [unit for unit in units if unit.dimension == UNKNOWN]
    return (unknown or units or [None])[-1]


def header_unit(text: object) -> str | None:
    """The unit a header states, short: ``平均响应(秒)`` → ``"s"``, ``销售额(万元)`` → ``"万"``."""
    unit = unit_of(text)
    return None if unit is None else unit.code


@dataclass(frozen=True)
class Concept:
    """A figure platforms export, the names they give it, and the 考核 columns it may fill."""

    key: str
    kind: str
    """``count`` / ``rate`` / ``money`` / ``seconds`` / ``text`` / ``key``: how values read."""
    names: tuple[str, ...]
    targets: tuple[str, ...] = ()
    """考核 headers it fills, best first (compared by :func:`base`); empty = known, no column."""


CONCEPTS: tuple[Concept, ...] = (
    Concept(KEY_NICKNAME, "key", (
        "客服昵称", "旺旺昵称", "客服旺旺", "客服旺旺号", "旺旺", "旺旺号", "旺旺名", "客服",
        "昵称", "客服名称", "客服账号", "客服子账号", "子账号", "子账号名称", "旺旺账号",
        "千牛账号", "账号", "账号名称", "客服名",
    )),
    Concept(KEY_ID, "key", ("工号", "员工工号", "员工编号")),
    Concept("name", "identity", ("姓名", "员工姓名", "客服姓名")),
    Concept("team", "identity", ("团队", "分组", "客服分组", "组别", "小组")),
    Concept("consults", "count", ("咨询人数", "咨询客户数", "咨询量"),
            ("咨询人数", "询单人数")),
    Concept("inquiries", "count", ("询单人数", "询单客户数", "询单数"),
            ("询单人数", "咨询人数")),
    Concept("received", "count", (
        "接待人数", "接待客户数", "总接待人数", "总接待客户数", "接待量", "接待数",
    ), ("总接待客户数", "接待人数")),
    Concept("paid", "count", (
        "最终付款人数", "询单->最终付款人数", "最终下单人数", "询单->最终下单人数",
        "最终下单付款人数", "付款人数", "下单人数", "成交人数", "询单->付款人数",
    ), ("最终下单人数", "最终下单付款人数", "下单人数", "成交人数")),
    Concept("conversion", "rate", (
        "询单->最终付款转化率", "询单->最终付款成功率", "询单->最终下单转化率",
        "询单->最终下单成功率", "询单转化率", "咨询转化率", "最终付款转化率", "最终下单转化率",
        "咨询->最终付款转化率", "最终咨询付款转化率", "询单->付款转化率", "询单成功率", "转化率",
    ), ("询单转化率", "咨询转化率", "最终咨询付款转化率")),
    Concept("aov", "money", ("客单价", "询单客单价", "平均客单价", "客服客单价"), ("客单价",)),
    Concept("sales", "money", (
        "销售额", "实际销售额", "个人销售额", "客服销售额", "销售金额", "询单->最终付款金额",
        "最终付款金额", "付款金额", "成交金额", "成交订单金额", "询单->最终付款销售额",
    ), ("实际销售额", "个人销售额", "成交订单金额")),
    Concept("response", "seconds", (
        "平均响应", "平均响应时间", "平均响应时长", "平均响应速度", "响应时间", "平均回复时长",
    ), ("平均响应时间",)),
    Concept("reply_rate", "rate", ("回复率", "旺旺回复率", "应答率", "响应率"), ("回复率",)),
    Concept("replied", "count", (
        "回复人数", "已回复人数", "回复客户数", "回复过的旺旺数", "回复过的客户数",
    ), ("回复过的旺旺数", "回复过的客户数", "回复人数")),
    Concept("satisfaction", "rate", ("满意度", "满意率", "客户满意率", "旺旺满意度"), ("满意度",)),
    Concept("online_hours", "hours", ("在线时长", "旺旺在线时长", "总在线时长"),
            ("旺旺在线时长",)),
    # Known platform figures that no template scores: reported, never imported.
    Concept("answer_ratio", "number", ("答问比", "问答比")),
    Concept("first_response", "seconds", ("首次响应", "首次响应时间", "首响时间", "首次响应时长")),
    Concept("session_length", "seconds", ("平均接待时长", "平均会话时长", "接待时长")),
    Concept("messages", "count", ("客服消息数", "买家消息数", "消息数", "会话数")),
    Concept("same_day_paid", "count", ("询单->当日付款人数", "当日付款人数", "询单->次日付款人数")),
    Concept("units", "count", ("销售量", "销售件数", "客件数")),
)

_BY_NAME: dict[str, Concept] = {}
for _concept in CONCEPTS:
    for _name in _concept.names:
        _BY_NAME.setdefault(normalise(_name), _concept)
        _BY_NAME.setdefault(base(_name), _concept)

IDENTITY_HEADERS = frozenset({"工号", "姓名", "团队"})
"""考核 input columns the import never fills from a metric (工号/姓名/团队 come from 员工)."""


def concept_for(header: object) -> Concept | None:
    """The platform figure a header names (by its normalised, then its base form)."""
    return _BY_NAME.get(normalise(header)) or _BY_NAME.get(base(header))


SUMMARY_NAMES = frozenset(
    {
        "汇总", "合计", "总计", "小计", "均值", "平均值", "平均", "总体", "全部", "全店", "整体",
        "所有客服", "全部客服", "团队汇总", "团队平均", "总和", "sum", "total", "average", "avg",
        "mean",
    }
)


def is_summary(nickname: object) -> bool:
    """True for 汇总/合计/均值/平均值/总计 rows (also ``汇总(30人)``, ``合计:``)."""
    return base(nickname) in SUMMARY_NAMES


def normalise_nickname(text: object) -> str:
    """A 旺旺 nickname for comparison: NFKC (full-width colon → ``:``), no spaces, latin folded."""
    folded = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return _INVISIBLE.sub("", folded).casefold()


NUMERIC_KINDS = frozenset({"count", "rate", "money", "seconds", "hours", "points", "score",
                           "number"})


@lru_cache(maxsize=1)
def _template_kinds() -> dict[str, str]:
    """Header (base form) → input kind, over every template's 考核 inputs (conflicts dropped)."""
    from kpi_xl.templates.specs import TEMPLATES

    kinds: dict[str, str] = {}
    conflicts: set[str] = set()
    for template in TEMPLATES.values():
        for spec in template.inputs:
            key = base(spec.header)
            if kinds.setdefault(key, spec.kind) != spec.kind:
                conflicts.add(key)
    for key in conflicts:
        del kinds[key]
    return kinds


def template_kind(header: object) -> str | None:
    """The kind of a 考核 input column known from the template descriptions, else ``None``."""
    return _template_kinds().get(base(header))
