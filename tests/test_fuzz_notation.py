"""Fuzzing the notations HR types: generated and mutated rule texts and values.

The only exception that may escape is the documented one (a KpiError: RuleError for the
rule, a per-cell error for a value), and reading never hangs.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_xl.core.deduct import parse_deduction
from kpi_xl.core.errors import KpiError
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.pool import parse_split
from kpi_xl.core.tiers import evaluate, explain
from tests import seed_rules as R

NOTATION_ALPHABET = (
    "0123456789.,%‰wW万sS秒元≥≤<>=[]()（）:：;；\n XYN非常满意一般空其他else-+免每次封顶满第起"
)
VALID_RULES = [R.S1_SALES_COMPLETION, R.S1_CONVERSION, R.S1_TICKET, R.S1_RESPONSE_TIME,
               R.S1_FOLLOW_UP, R.S1_EXECUTION, R.S1_GRADES, R.S5_COMMISSION, R.S2_COEFFICIENTS]
VALID_DEDUCTIONS = ["免2次; 每次-3", "每次-1; 满3次每次-15", "每次-5; 封顶-20"]
VALID_SPLITS = ["1:40%+200; 2:30%+100; 其余:30%"]
cell_values = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**15, 10**15),
    st.text(alphabet=NOTATION_ALPHABET, max_size=12), st.sampled_from(["#DIV/0!", "#N/A", ""]),
    st.booleans(),
)


@contextmanager
def no_hang(seconds: int = 5) -> Iterator[None]:
    """Fail (not hang) when reading takes longer than ``seconds``."""
    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError(f"reading took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@st.composite
def mutated(draw: st.DrawFn, sources: list[str]) -> str:
    text = list(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        char = draw(st.sampled_from(NOTATION_ALPHABET))
        if action == "insert" or not text:
            text.insert(position, char)
        elif action == "delete":
            del text[min(position, len(text) - 1)]
        elif action == "replace":
            text[min(position, len(text) - 1)] = char
        else:
            text[position:position] = text[max(0, position - 5):position]
    return "".join(text)


rule_texts = st.one_of(st.text(alphabet=NOTATION_ALPHABET, max_size=80), mutated(VALID_RULES))


@given(rule_texts, st.lists(cell_values, min_size=1, max_size=20))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_rules_and_values_fail_only_with_documented_errors(text: str, values: list) -> None:
    with no_hang():
        try:
            rule = parse_rule(text)
        except KpiError as error:
            assert str(error).strip() and "(" in str(error)  # bilingual message
            return
        result = evaluate(rule, values)
        lines = explain(rule, values)
    assert len(result) == len(values) == len(lines)
    for index, error in enumerate(result.errors):
        assert error is None or isinstance(error, KpiError)
        if error is None:
            value = result.values[index]
            assert value is not None and not (isinstance(value, float) and np.isnan(value))


@given(st.one_of(st.text(alphabet=NOTATION_ALPHABET, max_size=40), mutated(VALID_DEDUCTIONS)))
@settings(max_examples=400, deadline=None)
def test_deduction_rules_fail_only_with_rule_errors(text: str) -> None:
    with no_hang(), suppress(KpiError):
        parse_deduction(text)


@given(st.one_of(st.text(alphabet=NOTATION_ALPHABET, max_size=40), mutated(VALID_SPLITS)))
@settings(max_examples=400, deadline=None)
def test_pool_splits_fail_only_with_rule_errors(text: str) -> None:
    with no_hang(), suppress(KpiError):
        parse_split(text)


def test_long_pathological_rule_is_read_quickly() -> None:
    nasty = "≥" + "1" * 5000 + "%" * 100 + ":" + "≥" * 3000
    with no_hang(), np.testing.assert_raises(KpiError):
        parse_rule(nasty)
    long_rule = "; ".join(f"[{i},{i + 1}):{i}" for i in range(2000))
    with no_hang():
        assert len(parse_rule(long_rule).tiers) == 2000
