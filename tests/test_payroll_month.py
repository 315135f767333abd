"""The month a refresh files its rows under: 考核!考核月份, --month only where it is blank,
never a guess (a wrong month corrupts 历史, which the 淘汰/晋升 rules read)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from functools import cache
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.cli import main
from kpi_xl.core.errors import ValueProblem
from kpi_xl.templates import new_month
from kpi_xl.workbook.refresh import refresh_file


@cache
def _sample(agents: int | None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = new_month("taobao-cs", Path(tmp) / "m.xlsx", month="2026-11",
                         sample=agents is not None, agents=agents, lite=False)
        return path.read_bytes()


def book(tmp_path: Path, b2: object = "2026-11", agents: int | None = 8) -> Path:
    path = tmp_path / "m.xlsx"
    path.write_bytes(_sample(agents))
    if b2 != "2026-11":
        wb = openpyxl.load_workbook(path)
        wb["考核"]["B2"] = b2
        wb.save(path)
    return path


def refused(path: Path, month: str | None = None) -> str:
    before = path.read_bytes()
    with pytest.raises(ValueProblem) as caught:
        refresh_file(path, month)
    assert path.read_bytes() == before  # nothing written
    return caught.value.zh


# ---------------------------------------------------------------------- D: 2026.10 typed
@pytest.mark.parametrize("typed", [2026.1, 2025.1])
def test_a_month_number_that_lost_its_trailing_zero_is_refused(tmp_path: Path,
                                                                typed: float) -> None:
    message = refused(book(tmp_path, typed))
    year = int(typed)
    assert message.startswith("考核!B2: ")
    assert f"{year}-10" in message and f"{year}-01" in message and "文本" in message


@pytest.mark.parametrize(("typed", "month"), [(2026.11, "2026-11"), (2026.12, "2026-12"),
                                              (2026.2, "2026-02"), ("2026.10", "2026-10")])
def test_a_month_number_that_can_be_read_one_way_is_read(tmp_path: Path, typed: object,
                                                         month: str) -> None:
    assert refresh_file(book(tmp_path, typed)).month == month


# ---------------------------------------------------------------- E: --month against B2
def test_month_differing_from_the_sheet_is_refused(tmp_path: Path) -> None:
    message = refused(book(tmp_path), "2026-12")
    assert "考核!B2 是 2026-11" in message and "--month 是 2026-12" in message


def test_month_agreeing_with_the_sheet_or_filling_a_blank_is_used(tmp_path: Path) -> None:
    assert refresh_file(book(tmp_path), "2026/11").month == "2026-11"
    assert refresh_file(book(tmp_path, None), "2026-12").month == "2026-12"


def test_a_blank_month_argument_says_so(tmp_path: Path) -> None:
    message = refused(book(tmp_path), "")
    assert message.startswith("--month 为空") and "或使用 --month" not in message
    assert refused(book(tmp_path, None)).startswith("考核月份未填写: 请在 考核!B2 填写")


def test_cli_refuses_a_month_differing_from_the_sheet(tmp_path: Path) -> None:
    path = book(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["refresh", str(path), "--month", "2026-12"])
    assert code == 1
    assert "考核!B2" in err.getvalue() + out.getvalue()
    assert "--month" in err.getvalue() + out.getvalue()


# -------------------------------------------------------------------- F: an empty month
def test_an_empty_month_says_so_and_not_that_history_lacks_it(tmp_path: Path) -> None:
    result = refresh_file(book(tmp_path, agents=None))
    assert len(result.agents) == 0
    assert result.issue_rows == [("考核", "A5", "", "考核表还没有任何工号, 本月无人计算: "
                                  "请填入本月考核数据后再刷新 (no agent rows on 考核 yet)")]
