"""Hypothesis properties of the rule engine."""

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_xl.core.errors import RuleError
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.tiers import NO_TIER, evaluate, explain, match
from kpi_xl.core.values import read_column

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
bound_numbers = st.integers(min_value=-500, max_value=500).map(lambda n: n / 4)


@st.composite
def numeric_conditions(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["ge", "gt", "le", "lt", "eq", "bracket", "seed"]))
    a = draw(bound_numbers)
    if kind in {"ge", "gt", "le", "lt", "eq"}:
        return {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "="}[kind] + f"{a:g}"
    b = draw(bound_numbers.filter(lambda x: x > a))
    if kind == "bracket":
        return f"{draw(st.sampled_from('[('))}{a:g},{b:g}{draw(st.sampled_from('])'))}"
    return f"{a:g}{draw(st.sampled_from(['≤', '<']))}X{draw(st.sampled_from(['≤', '<']))}{b:g}"


def _accepted(text: str) -> bool:
    try:
        parse_rule(text)
    except RuleError:
        return False
    return True


@st.composite
def numeric_rules(draw: st.DrawFn) -> str:
    """Random overlapping tiers, each kept only if the tiers before it leave it some value
    (a fully shadowed tier is a RuleError: tests/test_notation_shadowed.py)."""
    conditions = draw(st.lists(numeric_conditions(), min_size=1, max_size=8))
    tiers: list[str] = []
    for condition in conditions:
        tier = f"{condition}:{len(tiers)}"
        if _accepted("; ".join([*tiers, tier])):
            tiers.append(tier)
    if draw(st.booleans()):
        tiers.append("其他:-1")
    return "; ".join(tiers)


values = st.lists(st.one_of(finite, bound_numbers), min_size=1, max_size=40)


@given(numeric_rules(), values)
@settings(max_examples=300, deadline=None)
def test_every_number_lands_in_the_first_tier_that_holds(text: str, numbers: list[float]) -> None:
    rule = parse_rule(text)
    found = match(rule, read_column(np.array(numbers))).tiers
    for number, tier_index in zip(numbers, found.tolist(), strict=True):
        expected = next(
            (i for i, t in enumerate(rule.tiers) if t.holds_for_number(number)), NO_TIER
        )
        assert tier_index == expected


@given(numeric_rules(), values)
@settings(max_examples=200, deadline=None)
def test_vectorised_equals_cell_by_cell(text: str, numbers: list[float]) -> None:
    rule = parse_rule(text)
    whole = evaluate(rule, numbers)
    for index, number in enumerate(numbers):
        single = evaluate(rule, [number])
        assert (whole.errors[index] is None) == (single.errors[0] is None)
        if single.errors[0] is None:
            assert whole.values[index] == single.values[0]


@given(numeric_rules())
@settings(max_examples=300, deadline=None)
def test_a_printed_rule_reparses_to_itself(text: str) -> None:
    rule = parse_rule(text)
    assert parse_rule(rule.format()) == rule


@st.composite
def ascending_threshold_rules(draw: st.DrawFn) -> tuple[str, list[float]]:
    thresholds = sorted(draw(st.sets(bound_numbers, min_size=1, max_size=7)), reverse=True)
    points = sorted(
        draw(
            st.lists(
                st.integers(0, 100), min_size=len(thresholds) + 1, max_size=len(thresholds) + 1
            )
        ),
        reverse=True,
    )
    tiers = [f"≥{t:g}:{p}" for t, p in zip(thresholds, points, strict=False)]
    tiers.append(f"<{thresholds[-1]:g}:{points[-1]}")
    return "; ".join(tiers), points


@given(ascending_threshold_rules(), st.lists(finite, min_size=2, max_size=30))
@settings(max_examples=200, deadline=None)
def test_a_higher_is_better_rule_is_monotone(rule_and_points, numbers: list[float]) -> None:
    text, _ = rule_and_points
    numbers = sorted(numbers)
    result = evaluate(parse_rule(text), numbers).values
    assert all(not math.isnan(v) for v in result)
    assert all(a <= b for a, b in itertools.pairwise(result))


def _explained_tier(line: str) -> str:
    """``47% ∈ [45%,50%) → 80`` → ``[45%,50%):80``; ``50% ≥ 50% → 100`` → ``≥50%:100``."""
    condition, result = line.split(" → ")
    relation = condition.split(" ", 1)[1]
    relation = relation.removeprefix("∈ ").replace(" ", "")
    return f"{relation}:{result}"


@given(numeric_rules(), values)
@settings(max_examples=200, deadline=None)
def test_the_tier_explain_prints_reparses_to_the_tier_matched(
    text: str, numbers: list[float]
) -> None:
    rule = parse_rule(text)
    found = match(rule, read_column(np.array(numbers)))
    lines = explain(rule, numbers).values
    for tier_index, line in zip(found.tiers.tolist(), lines, strict=True):
        if tier_index == NO_TIER:
            continue
        printed = parse_rule(_explained_tier(line)).tiers[0]
        if printed.kind.value == "otherwise":
            assert rule.tiers[tier_index].kind.value == "otherwise"
        else:
            assert printed == rule.tiers[tier_index]
