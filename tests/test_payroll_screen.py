"""The column screen of the payroll checks (``payroll/checks.py``) may only clear cells that
certainly pass: whatever it does not flag, the per-cell check must find nothing wrong with.
A cell it clears wrongly would be paid without a word in 异常 — a silent number."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.payroll.checks import error_cells, input_problem, suspect_cells
from kpi_xl.payroll.grid import is_blank, is_error
from kpi_xl.templates.specs import TEMPLATES

SPECS = sorted({spec for template in TEMPLATES.values()
                for spec in (*template.inputs, *template.roster)}, key=lambda s: s.key)
"""Every input column of every template (rates, counts, money, seconds, hours, choices…)."""

NEAR_BOUNDS = [0.0, -0.0, 1.0, 1.0000001, 0.9999999, -1e-12, 2.0, 47.0, 100.0, 100.5, 1e6,
               1e7, 1e7 + 1, 1e9, 1e9 + 1, 1e12, math.nan, math.inf, -math.inf, 0.5, 2.5]
CELLS = st.one_of(
    st.none(),
    st.sampled_from(NEAR_BOUNDS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**8, 10**8).map(float),
    st.booleans(),
    st.sampled_from(["", "  ", "是", "否", "Y", "47%", "４７", "N/A", "abc", "非常满意",
                     "比较满意", "一般", "很满意", *sorted(EXCEL_ERROR_CODES),
                     " #N/A ", "#div/0!", "售前一组", "售前一组 "]),
    st.just(KpiError("值错误", "bad value", code="#N/A")),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(SPECS), values=st.lists(CELLS, min_size=1, max_size=12),
       blank_ok=st.booleans())
def test_the_screen_clears_only_cells_that_pass(spec, values, blank_ok):
    values = [None if is_blank(v) else v for v in values]  # as Sheet.column reads blanks
    suspect = suspect_cells(spec, values, blank_ok=blank_ok)
    for value, flagged in zip(values, suspect.tolist(), strict=True):
        if flagged:
            continue
        if is_blank(value):
            assert blank_ok, f"{spec.key}: a blank cleared where blanks are not allowed"
            continue
        assert not is_error(value), f"{spec.key}: error value {value!r} cleared"
        assert input_problem(spec, value) is None, f"{spec.key}: {value!r} cleared"


@settings(max_examples=200, deadline=None)
@given(values=st.lists(CELLS, min_size=1, max_size=12))
def test_error_cells_are_exactly_the_error_values(values):
    assert error_cells(values) == [i for i, value in enumerate(values) if is_error(value)]
