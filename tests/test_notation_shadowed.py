"""A tier no value can reach — the tiers before it already hold all its values — is an error.

``Y≥40%:60; Y≥45%:80; Y≥50%:100`` (typed low to high) gave everyone at 40% or more 60: the
first matching tier wins, so the 45% and 50% tiers were dead. Such a rule is a RuleError
naming the dead tier, the tier(s) covering it and the fix; partial overlaps stay allowed.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_xl.core.deduct import deduct, parse_deduction
from kpi_xl.core.errors import KpiError, RuleError
from kpi_xl.core.notation import Tier, TierKind, parse_rule
from kpi_xl.core.tiers import NO_TIER, evaluate, match
from kpi_xl.core.values import Scale, format_number
from kpi_xl.functions import kpi_explain, kpi_grade, kpi_tier
from tests import seed_rules as R

# ------------------------------------------------------------------ examples HR types


def _refusal(rule: str) -> str:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    return str(caught.value)


def test_ascending_open_tiers_are_refused_with_the_fix() -> None:
    assert _refusal("Y≥40%:60; Y≥45%:80; Y≥50%:100") == (
        '规则第 2 档 "Y≥45%:80" 永远用不到: 第 1 档 "Y≥40%" 已包含所有 ≥45% 的值; '
        "请从高到低排列档位 (tier 2 can never match: tier 1 already covers it; "
        "order the tiers from high to low)"
    )


def test_the_same_rule_high_to_low_is_accepted() -> None:
    rule = parse_rule("Y≥50%:100; Y≥45%:80; Y≥40%:60; Y<40%:0")
    assert evaluate(rule, [0.47, 0.52, 0.41, 0.1]).values.tolist() == [80, 100, 60, 0]


def test_descending_upper_bounds_are_refused_the_other_way() -> None:
    message = _refusal("N≤60s:80; N≤30s:100; N>60s:0")
    assert '规则第 2 档 "N≤30s:100"' in message and '第 1 档 "N≤60s"' in message
    assert "请从低到高排列档位" in message and "order the tiers from low to high" in message
    assert parse_rule("N≤30s:100; N≤60s:80; N>60s:0")


def test_several_earlier_tiers_together_can_cover_a_tier() -> None:
    message = _refusal("≥50%:100; <50%:0; [40%,60%):50")
    assert message.startswith(
        '规则第 3 档 "[40%,60%):50" 永远用不到: 第 1 档 "≥50%"、第 2 档 "<50%" 合起来已包含'
        "所有 [40%,60%) 的值"
    )
    assert "tiers 1 and 2 together already cover it" in message


@pytest.mark.parametrize(
    "rule",
    [
        "[1,2):1; [2,3]:2; (1.5,3):4",  # touching ranges merge: [1,3] covers (1.5,3)
        "<2:1; >2:2; =2:3; ≥0:4",  # three tiers together hold every number
        "≤0:1; >0:2; 5:3",  # a bare number is that value exactly
        "≥0:1; ≥-0:2",  # -0 and 0 are the same number
    ],
)
def test_unions_and_boundaries_that_cover(rule: str) -> None:
    assert "永远用不到" in _refusal(rule)


@pytest.mark.parametrize(
    "rule",
    [
        "[1,2):1; (2,3]:2; [1.5,3]:4",  # 2 itself is left for tier 3
        "≥50%:100; ≥45%:80; [40%,55%):60",  # partial overlap: [40%,45%) left
        "<2:1; >2:2; ≥0:3",  # only 2 is left, and that is enough
        "≥50%:100; <50%:0; 其他:-1",  # 其他 after all numbers: still reached by text
        "其他:1; 空:2",  # 其他 never holds a blank cell
        "≥1.7976931348623157e308:1",  # the largest float is a number a cell can hold
    ],
)
def test_partial_overlaps_are_allowed(rule: str) -> None:
    assert parse_rule(rule)


def test_duplicate_conditions_say_remove_the_duplicate() -> None:
    for rule, tier, same in [
        ("优:100; 良:80; 优:60", 3, 1),
        ("空:0; ≥0:1; 空:5", 3, 1),
        ("≥50%:100; X≥50%:80; <50%:0", 2, 1),
        ("[45%,50%):80; 45%≤X<50%:70", 2, 1),
    ]:
        message = _refusal(rule)
        assert message.startswith(f"规则第 {tier} 档 ")
        assert f"与第 {same} 档 " in message and "条件相同; 请删除重复的档位" in message
        assert "remove the duplicate tier" in message


def test_a_tier_after_otherwise_says_put_otherwise_last() -> None:
    for rule in ["其他:0; 优:100", "else:0; ≥50%:100", "其他:0; 其余:1"]:
        message = _refusal(rule)
        assert '规则第 2 档 ' in message and '已包含所有值; 请把 "其他" 档放在最后' in message
        assert "put the 其他 tier last" in message


@pytest.mark.parametrize("rule", ["(1,1.0000000000000002):1", ">1.7976931348623157e308:1"])
def test_a_tier_holding_no_float_is_an_empty_interval(rule: str) -> None:
    assert "是空区间" in _refusal(rule)


def test_a_long_list_of_covering_tiers_is_cut_short() -> None:
    rule = "; ".join(f"[{i},{i + 1}):{i}" for i in range(50)) + "; [0,50):9"
    message = _refusal(rule)
    assert '第 1 档 "[0,1)"、第 2 档 "[1,2)"、第 3 档 "[2,3)" 等 50 档 合起来已包含' in message
    assert "tiers 1, 2, 3 and 47 more together already cover it" in message
    assert len(message) < 250


def test_a_range_rule_is_checked_too() -> None:
    grid = kpi_tier([[0.47]], [["≥40%", 60], ["≥45%", 80], ["<40%", 0]])
    assert isinstance(grid[0, 0], RuleError)
    assert '规则第 2 档 "≥45%:80" 永远用不到' in str(grid[0, 0])


def test_every_cell_shows_the_refusal() -> None:
    grid = kpi_tier([[0.41], [0.47], [0.52]], "Y≥40%:60; Y≥45%:80; Y≥50%:100")
    assert all(isinstance(cell, RuleError) for cell in grid.ravel())


# ------------------------------------------------ the rules that ship must still parse


@pytest.mark.parametrize(
    "name", sorted(name for name in vars(R) if name.isupper() and isinstance(getattr(R, name), str))
)
def test_seed_rules_parse(name: str) -> None:
    assert parse_rule(getattr(R, name))


def test_template_rules_parse() -> None:
    from kpi_xl.templates.specs import TEMPLATES

    for template in TEMPLATES.values():
        texts = [item.rule for item in template.items if item.rule]
        texts.append(template.grade_rule)
        texts.append("; ".join(f"{b}:{i}" for i, b in enumerate(template.score_bins)))
        texts += [p.value for p in template.params
                  if p.notation == "tier" and isinstance(p.value, str) and p.value.strip()]
        for text in texts:
            assert parse_rule(text), text


def test_grade_bands_and_deductions_are_unaffected() -> None:
    bands = "[90,100]:高级客服; [80,90):中级客服; [70,80):初级客服; <70:不合格"
    assert kpi_grade([[95], [85], [75], [12]], bands).ravel().tolist() == [
        "高级客服", "中级客服", "初级客服", "不合格"
    ]
    assert parse_deduction("每次-1; 满3次每次-15")  # its own notation, not the tier parser
    assert deduct(np.array([2.0, 3.0]), "每次-1; 满3次每次-15").values.tolist() == [-2, -45]


# ----------------------------------------------------------------- properties

_BOUNDS = st.sampled_from([-1, 0, 0.5, 1, 2, 2.5, 3])
_LABELS = st.sampled_from(["优", "良", "差"])


@st.composite
def _conditions(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(
        ["≥", ">", "≤", "<", "=", "bare", "bracket", "seed", "label", "blank", "else"]
    ))
    unit = draw(st.sampled_from(["", "%"]))
    a = draw(_BOUNDS)
    if shape in {"≥", ">", "≤", "<", "="}:
        return f"{shape}{a:g}{unit}"
    if shape == "bare":
        return f"{a:g}{unit}"
    if shape == "label":
        return draw(_LABELS)
    if shape in {"blank", "else"}:
        return "空" if shape == "blank" else draw(st.sampled_from(["其他", "else"]))
    b = draw(_BOUNDS.filter(lambda x: x > a))
    if shape == "bracket":
        return f"{draw(st.sampled_from('[('))}{a:g}{unit},{b:g}{unit}{draw(st.sampled_from('])'))}"
    first, second = draw(st.sampled_from(["≤", "<"])), draw(st.sampled_from(["≤", "<"]))
    return f"{a:g}{unit}{first}X{second}{b:g}{unit}"


@st.composite
def _partitions(draw: st.DrawFn) -> list[str]:
    """Tiers cutting the number line at a few points (each point going to the tier below or
    above it), maybe with one left out, in any order: the unions that may cover a later tier."""
    cuts = sorted(draw(st.sets(_BOUNDS, min_size=1, max_size=4)))
    below = [draw(st.booleans()) for _ in cuts]  # does the cut point belong to the tier below?
    pieces = [f"{'≤' if below[0] else '<'}{cuts[0]:g}", f"{'>' if below[-1] else '≥'}{cuts[-1]:g}"]
    for index in range(len(cuts) - 1):
        left = "(" if below[index] else "["
        right = "]" if below[index + 1] else ")"
        pieces.append(f"{left}{cuts[index]:g},{cuts[index + 1]:g}{right}")
    if draw(st.booleans()):
        pieces.remove(draw(st.sampled_from(pieces)))
    return draw(st.permutations(pieces))


_conditions_lists = st.one_of(
    st.lists(_conditions(), min_size=1, max_size=7),
    st.tuples(_partitions(), st.lists(_conditions(), min_size=1, max_size=3)).map(
        lambda parts: [*parts[0], *parts[1]]
    ),
)
_tier_tables = _conditions_lists.map(
    lambda conditions: [f"{c}:{i}" for i, c in enumerate(conditions)]
)


def _samples(tiers: list[Tier]) -> list[object]:
    """Values that reach every piece of the number line the tiers cut (each bound, the float
    on either side of it), each label, a text no tier names, and a blank."""
    points = {b.value for t in tiers for b in (t.low, t.high) if b is not None}
    numbers = {
        p for v in points for p in (v, math.nextafter(v, -math.inf), math.nextafter(v, math.inf))
    }
    labels = {t.label for t in tiers if t.kind is TierKind.LABEL}
    return [*sorted(numbers or {0.0}), *sorted(labels), "某个别的文字", None]


def _first_tier(tiers: list[Tier], value: object) -> int:
    """The spec, read literally: the first tier whose condition holds for the value."""
    for index, tier in enumerate(tiers):
        if value is None:
            holds = tier.kind is TierKind.BLANK
        elif tier.kind is TierKind.OTHERWISE:
            holds = True
        elif isinstance(value, str):
            holds = tier.kind is TierKind.LABEL and tier.label == value
        else:
            holds = tier.holds_for_number(value)
        if holds:
            return index
    return NO_TIER


def _unreachable(texts: list[str]) -> list[int]:
    """Brute force: the tiers no sample value lands in (each tier parsed on its own)."""
    tiers = [parse_rule(text).tiers[0] for text in texts]
    reached = {_first_tier(tiers, value) for value in _samples(tiers)}
    return [index for index in range(len(tiers)) if index not in reached]


@given(_tier_tables)
@settings(max_examples=1500, deadline=None)
def test_refused_exactly_when_a_tier_is_fully_shadowed(texts: list[str]) -> None:
    dead = _unreachable(texts)
    try:
        parse_rule("; ".join(texts))
    except RuleError as error:
        assert dead, f"refused but every tier is reachable: {error}"
        message = str(error)
        assert message.startswith(f"规则第 {dead[0] + 1} 档 ") and "永远用不到" in message
        named = [int(n) - 1 for n in re.findall(r"第 (\d+) 档 \"", message)[1:]]
        assert named and all(n < dead[0] for n in named)
        if " 等 " not in message:  # every covering tier named, not "… 等 5 档"
            _assert_named_tiers_cover(texts, dead[0], named)
        return
    assert not dead, f"accepted, but tier {dead[0] + 1} can never match"


def _assert_named_tiers_cover(texts: list[str], dead: int, named: list[int]) -> None:
    """The tiers the message names hold every value the dead tier holds."""
    tiers = [parse_rule(text).tiers[0] for text in texts]
    shadowing = [tiers[index] for index in named]
    for value in _samples(tiers):
        if _first_tier([tiers[dead]], value) == 0:
            assert _first_tier(shadowing, value) != NO_TIER, value


@given(_tier_tables)
@settings(max_examples=1500, deadline=None)
def test_every_tier_of_an_accepted_rule_is_hit_by_some_value(texts: list[str]) -> None:
    try:
        rule = parse_rule("; ".join(texts))
    except RuleError:
        return
    found = match(rule, _samples(list(rule.tiers)))
    assert set(found.tiers.tolist()) >= set(range(len(rule.tiers)))


# ------------------------------------- numbers in messages (task 2 of the same audit)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1e300, "1e+300"), (-1e300, "-1e+300"), (1e20, "1e+20"), (5.7e6, "5,700,000")],
)
def test_a_huge_value_is_shown_compactly(value: float, shown: str) -> None:
    cell = kpi_tier(value, "≥50%:100; <50%:0")[0, 0]
    assert isinstance(cell, KpiError)
    assert f"数值 {shown} 远超规则" in str(cell) and f"({shown} is far outside" in str(cell)


def test_negative_zero_is_shown_as_zero() -> None:
    assert kpi_explain(-0.0, "≥40%:100; <40%:0")[0, 0] == "0% < 40% → 0"
    assert kpi_explain(-0.0, "≥0:1")[0, 0] == "0 ≥ 0 → 1"
    assert format_number(-0.0) == format_number(-0.0, Scale.PERCENT).rstrip("%") == "0"


@pytest.mark.parametrize(
    ("value", "scale", "shown"),
    [
        (0.47, Scale.PERCENT, "47%"),
        (0.465, Scale.PLAIN, "0.465"),
        (1280.0, Scale.PLAIN, "1280"),
        (0.006, Scale.PERMILLE, "6‰"),
        (40000.0, Scale.MYRIAD, "4W"),
        (999999999999999.0, Scale.PLAIN, "999999999999999"),
        (1e-300, Scale.PLAIN, "1e-300"),
        (-0.1, Scale.PLAIN, "-0.1"),
    ],
)
def test_ordinary_numbers_are_shown_as_before(value: float, scale: Scale, shown: str) -> None:
    assert format_number(value, scale) == shown
