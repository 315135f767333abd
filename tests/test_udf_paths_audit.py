"""Reproducers from an audit of the worksheet functions across their call paths.

Each test feeds one input the way a path delivers it — the pure function in
:mod:`kpi_xl.functions` (what the headless recalc calls), the classic xlwings UDFs in
:mod:`kpi_xl.udfs` (2-D lists, ``None`` for blanks, error values as text with
``err_to_str``, dates as ``datetime``) — and states what
the README's "bad input is an error, never a 0" promise requires. No test here imports
``xlwings.server`` (PolyForm Noncommercial: those stay in tests/officejs/).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pytest

from kpi_xl import functions, udfs
from kpi_xl.core.errors import KpiError

RULE = "≥50%:100; [45%,50%):80; [40%,45%):60; <40%:0"


def _codes(grid: np.ndarray) -> list[object]:
    return [cell.code if isinstance(cell, KpiError) else cell for cell in grid.ravel()]


# -- ranges of the wrong shape: a KpiError per cell, never a numpy traceback ------------------
WRONG_SHAPES = {
    "KPI_RATE counts shorter than the rates": (
        "kpi_rate", "KPI_RATE", ([[None], [None], [None]], [[1], [2]], [[3], [4]])),
    "KPI_POOL tiebreak shorter than the scores": (
        "kpi_pool", "KPI_POOL", (3000, [[95], [90], [85]], [[1], [2]])),
    "KPI_SHARE groups shorter than the weights": (
        "kpi_share", "KPI_SHARE", (1000, [[1], [2], [3]], [["a"], ["b"]])),
}


@pytest.mark.parametrize("label", list(WRONG_SHAPES))
def test_a_range_of_the_wrong_shape_is_an_excel_error_not_a_crash(label: str) -> None:
    pure_name, udf_name, args = WRONG_SHAPES[label]
    grid = getattr(functions, pure_name)(*args)  # today: ValueError / IndexError from numpy
    assert all(isinstance(cell, KpiError) for cell in grid.ravel()), _codes(grid)
    classic_args = [a if isinstance(a, list) else [[a]] for a in args]
    with contextlib.suppress(KpiError):  # a 1×1 error raises by design; others are crashes
        getattr(udfs, udf_name)(*classic_args)


# -- a rule cell holding an error value ------------------------------------------------------
def test_an_error_value_in_the_rule_cell_passes_through_as_in_the_recalc() -> None:
    # `kpi-xl recalc` gives #REF! for =KPI_TIER(0.47, B1) with B1 = #REF!; Excel sends that cell
    # as the text "#REF!" (err_to_str), which is read as a rule with a typo: #VALUE! and
    # "规则第 1 档 "#REF!" 第 6 个字符 … 缺少 ":"" — a different error, and a misleading message.
    assert _codes(functions.kpi_tier(0.47, "#REF!")) == ["#REF!"]
    assert _codes(functions.kpi_tier([[0.47], [0.5]], [["#REF!"]])) == ["#REF!", "#REF!"]


# -- dates: classic xlwings sends datetime, Office.js and the recalc send the serial ----------
# The paths cannot agree: a serial (46327) is indistinguishable from a number, so only the
# classic path can tell a date was given. There it is #VALUE! saying so (the lead documents
# the limitation of the other paths).
@pytest.mark.parametrize(("udf", "call"), [
    ("KPI_RATE", lambda v: udfs.KPI_RATE([[v]])),
    ("KPI_DEDUCT", lambda v: udfs.KPI_DEDUCT([[v]], [["每次-3"]])),
    ("KPI_PAY", lambda v: udfs.KPI_PAY([["80/20"]], [[v]], [[0.9]])),
    ("KPI_TIER", lambda v: udfs.KPI_TIER([[v]], [[RULE]])),
    ("KPI_SCORE", lambda v: udfs.KPI_SCORE([[v, 80]], [[0.5, 0.5]])),
])
def test_a_date_cell_on_the_classic_path_says_a_date_is_not_a_number(udf: str, call) -> None:
    with pytest.raises(KpiError) as raised:
        call(dt.datetime(2026, 11, 1))
    assert raised.value.code == "#VALUE!", udf
    assert "日期不是数字" in str(raised.value) and "2026-11-01" in str(raised.value), udf
    assert "00:00:00" not in str(raised.value)


def test_a_time_cell_on_the_classic_path_says_a_time_is_not_a_number() -> None:
    # a response time formatted mm:ss arrives as 1899-12-30 00:00:30
    with pytest.raises(KpiError, match=r"时间不是数字.*00:00:30"):
        udfs.KPI_TIER([[dt.datetime(1899, 12, 30, 0, 0, 30)]], [["≤15s:100; >15s:0"]])


def test_a_date_in_a_range_errs_in_its_own_cell_only() -> None:
    grid = udfs.KPI_RATE([[0.5], [dt.date(2026, 11, 1)]])
    assert grid == [[0.5], ["#VALUE!"]]


def test_a_date_serial_against_a_percent_rule_is_already_caught() -> None:
    # Lite / the recalc pass 46327: KPI_TIER's plausibility check for %-rules rejects it
    serial = functions.kpi_tier(46327.0, RULE).ravel()[0]
    assert isinstance(serial, KpiError) and serial.code == "#VALUE!"
    assert "46327" in str(serial)


# -- silent numbers --------------------------------------------------------------------------
def test_a_negative_ready_rate_is_an_error_like_a_negative_count() -> None:
    assert _codes(functions.kpi_rate(None, -1, 100)) == ["#VALUE!"]  # counts: checked
    assert _codes(functions.kpi_rate(-0.1)) == ["#VALUE!"]  # ready rate: returned as -0.1


def test_a_row_of_tier_cells_is_not_read_as_one_condition_and_its_result() -> None:
    # a rule typed across a row, one "condition:result" per cell: today the first cell is
    # taken as the condition and the second as the result, and KPI_TIER shows "100:<50%:0"
    result = _codes(functions.kpi_tier(0.6, [["≥50%:100", "<50%:0"]]))
    assert result in ([100.0], ["#VALUE!"]), result


def test_a_rule_range_wider_than_two_columns_is_an_error() -> None:
    # spec: "two columns, condition | result"; a third column is silently ignored today
    result = _codes(functions.kpi_tier(0.6, [["≥50%", 100, 999], ["<50%", 0, 999]]))
    assert result == ["#VALUE!"], result


# -- messages HR reads -----------------------------------------------------------------------
def test_messages_for_blank_parameters_name_no_python_types() -> None:
    pool = functions.kpi_pool(None, [[95], [90]]).ravel()[0]
    scheme = functions.kpi_pay(None, 5000, 0.9).ravel()[0]
    assert isinstance(pool, KpiError) and isinstance(scheme, KpiError)
    assert "NoneType" not in str(pool), str(pool)  # 金额应为数字, 收到 NoneType
    assert '"None"' not in str(scheme), str(scheme)  # 未知方案 "None"


def test_kpi_pool_help_text_matches_what_it_returns() -> None:
    # the Excel description said 合计等于奖金池, but the default split adds fixed prizes
    # (+200, +100): pool 3000 over five agents pays 3300, and the help must say so
    paid = functions.kpi_pool(3000, [[95], [90], [85], [80], [80]], [[1], [2], [3], [5], [4]])
    total = round(float(sum(paid.ravel())), 2)
    help_text = udfs.KPI_POOL.__doc__ or ""
    assert "合计等于奖金池" not in help_text and "另加" in help_text
    assert total == 3000 + 200 + 100
