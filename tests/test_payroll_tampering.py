"""Tampering the HR-mistake audit found paid silently: a 考核 formula retyped to read another
row, and a 历史 month typed 2026.10 in a General cell (kept as the number 2026.1).

Built like :mod:`tests.test_hr_mistakes`: the sample month, ONE change made with openpyxl,
``kpi-xl refresh`` in process; the change must give a row on 异常 naming the cell and the
agents concerned 待核 — never a plausible wrong amount. The live-Excel path (classic xlwings)
is checked with a stand-in book whose ``range.formula`` gives the sheet's formulas.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from kpi_xl import xlbook
from kpi_xl.payroll.grid import formula_runs
from kpi_xl.workbook.xlsx import read_book
from tests.excel_standin import classic_book
from tests.payroll_util import issue_rows
from tests.test_hr_mistakes import NET, clean_pay, held, listed, month, pay, refreshed

RETYPED = "公式与本列其他行不同"
TEAM_1 = ("KF001", "KF002", "KF003")


def tier_formula(value_row: int, row: int) -> str:
    """考核!X (成交额完成度得分) on ``row``, reading 成交额完成度 on ``value_row``."""
    return f'=IF($A{row}="","",KPI_TIER(T{value_row},规则!$C$5))'


def formula_issues(path: Path) -> list[tuple[str, str, str, str]]:
    return [issue for issue in issue_rows(path) if "公式" in issue[3]]


# ----------------------------------------------------------------------------- 考核 formulas
def test_formula_retyped_to_read_another_row_holds_the_agent(tmp_path: Path) -> None:
    """X7 reads T5 instead of T7: KF003's 成交额完成度得分 100 → 95.5, paid without a word."""
    clean = clean_pay(tmp_path)

    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["X7"] = tier_formula(5, 7)

    code, _, path = refreshed(tmp_path, edit, "retyped.xlsx")
    assert code == 0
    rows = pay(path)
    assert held(rows["KF003"]) and "公式被改" in str(rows["KF003"]["备注"])
    [issue] = formula_issues(path)
    assert issue[:3] == ("考核", "X7", "KF003")
    assert tier_formula(5, 7) in issue[3] and tier_formula(7, 7) in issue[3]
    assert RETYPED in issue[3]
    # X feeds no pool: everyone else is paid as before
    assert all(rows[a][NET] == clean[a][NET] for a in clean if a != "KF003")


def test_formula_retyped_in_a_pool_column_holds_the_pool(tmp_path: Path) -> None:
    """团队超额奖金池 (AM) of KF003 retyped to sum the sales of row 8's team: the team pool it
    feeds is held too (KF001–KF003 share it)."""
    def edit(wb: openpyxl.Workbook) -> None:
        sheet = wb["考核"]
        text = str(sheet["AM7"].value)
        sheet["AM7"] = text.replace("$C$204,C7,$E", "$C$204,C8,$E")
        assert sheet["AM7"].value != text

    code, _, path = refreshed(tmp_path, edit, "pool.xlsx")
    assert code == 0
    rows = pay(path)
    assert listed(path, "考核", "AM7")
    assert all(held(rows[agent]) for agent in TEAM_1)
    assert any("奖金池" in issue[3] for issue in issue_rows(path))
    assert not held(rows["KF004"])  # another team's pool is not fed by row 7


def test_a_column_changed_as_a_whole_is_the_column_formula(tmp_path: Path) -> None:
    """HR rewrote X for every row (filled down): the majority pattern is the column's formula;
    nothing is listed and nobody is held for it."""
    def edit(wb: openpyxl.Workbook) -> None:
        sheet = wb["考核"]
        for row in range(5, 205):
            sheet[f"X{row}"] = f'=IF($A{row}="","",KPI_TIER(T{row},规则!$C$5)*1)'

    code, _, path = refreshed(tmp_path, edit, "whole.xlsx")
    assert code == 0
    assert not formula_issues(path)
    assert not any(held(row) for row in pay(path).values())


def test_rows_below_the_agents_are_not_checked(tmp_path: Path) -> None:
    """A formula changed on a row without a 工号 pays nobody: not listed."""
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["X100"] = tier_formula(5, 100)

    code, _, path = refreshed(tmp_path, edit, "below.xlsx")
    assert code == 0 and not formula_issues(path)


def test_rows_whose_number_is_in_an_absolute_reference_are_not_retyped(tmp_path: Path) -> None:
    """Row 5's X reads 规则!$C$5: its text holds "5" three times, yet it is the column's formula
    filled down; a clean month of 3 agents lists no formula."""
    code, _, path = refreshed(tmp_path, None, "three.xlsx", agents=3)
    assert code == 0 and not formula_issues(path)
    assert not any(held(row) for row in pay(path).values())


def test_two_rows_two_formulas_hold_both(tmp_path: Path) -> None:
    """Two agents and no template rows below them: X5 and X6 differ and neither can be told to
    be the column's formula — both are listed and held."""
    def edit(wb: openpyxl.Workbook) -> None:
        sheet = wb["考核"]
        for row in range(7, 205):
            for col in range(1, sheet.max_column + 1):
                sheet.cell(row, col).value = None
        sheet["X6"] = tier_formula(8, 6)

    code, _, path = refreshed(tmp_path, edit, "two.xlsx", agents=2)
    assert code == 0
    found = formula_issues(path)
    assert {issue[1] for issue in found} == {"X5", "X6"}
    assert all("各行的公式不一致" in issue[3] for issue in found)
    assert all(held(row) for row in pay(path).values())


# ----------------------------------------------------------------------------- live Excel
def test_classic_excel_reads_the_formula_patterns(tmp_path: Path) -> None:
    """The live-Excel refresh reads 考核's formulas once (``range.formula``) and finds the
    retyped row as the headless refresh does."""
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["X7"] = tier_formula(5, 7)

    path = month(tmp_path, edit)
    book = classic_book(path)
    found = xlbook.read_formulas(book)
    assert found is not None
    cells, patterns = found
    x_runs = patterns["考核"][24]
    assert (7, 24) in cells["考核"] and any(first <= 7 <= last for first, last, _ in x_runs)
    headless = read_book(path).sheets["考核"].formulas.column(24)
    assert [(first, last) for first, last, _ in x_runs] == [
        (first, last) for first, last, _ in headless.runs()]
    sheets = xlbook.read_book(book)
    result = xlbook.compute_payroll(xlbook.detect_template(sheets), sheets,
                                    formulas=cells, patterns=patterns)
    assert [(row[1], row[2]) for row in result.issue_rows if RETYPED in row[3]] == [
        ("X7", "KF003")]
    assert xlbook.FORMULAS_NOT_CHECKED not in xlbook.summary(result)  # classic checks them


def test_formula_runs_join_rows_filled_down() -> None:
    texts = ["=A1*7", "=A2*7", "=A2*7", 5.0, None, "=A6*7"]
    assert formula_runs(1, texts) == [(1, 2, "=A\0*7"), (3, 3, "=A2*7"), (6, 6, "=A\0*7")]


# ----------------------------------------------------------------------------- 历史 months
def test_history_month_typed_2026_10_as_a_number_is_not_january(tmp_path: Path) -> None:
    """历史!A14 (KF002, 2026-10) typed 2026.10 in a General cell: the number 2026.1 was read as
    2026-01 — KF002 lost a month under 70 and got 淘汰预警 instead of 淘汰, without a word."""
    def edit(wb: openpyxl.Workbook) -> None:
        assert wb["历史"]["A14"].value == "2026-10" and wb["历史"]["B14"].value == "KF002"
        wb["历史"]["A14"] = 2026.1

    code, _, path = refreshed(tmp_path, edit, "history.xlsx", history=2)
    assert code == 0
    [issue] = [issue for issue in issue_rows(path) if issue[0] == "历史"]
    assert issue[1:3] == ("A14", "KF002")
    assert "2026-10" in issue[3] and "2026-01" in issue[3] and "待核" in issue[3]
    rows = pay(path)
    assert held(rows["KF002"])
    assert not held(rows["KF004"])  # other agents' history is read as before
    kept = read_book(path).sheets["历史"].values
    months = [value for (row, col), value in kept.items() if col == 1 and row > 4]
    assert 2026.1 in months and "2026-01" not in months  # kept as typed, never the guess


def test_history_month_that_may_fall_in_the_prize_quarter_holds_the_prizes(
        tmp_path: Path) -> None:
    """commission pays 2025Q4's prizes in 2026-01; a 历史 month 2025.1 (2025-10 or 2025-01?)
    may belong to that quarter: the ranking is unknown, so no quarter prize is paid."""
    from kpi_xl.templates import new_month

    path = new_month("commission", tmp_path / "q.xlsx", month="2026-01", sample=True, agents=6,
                     history_months=3, lite=False)
    wb = openpyxl.load_workbook(path)
    sheet = wb["历史"]
    row = next(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, 1).value == "2025-10")
    agent = sheet.cell(row, 2).value
    sheet.cell(row, 1).value = 2025.1
    wb.save(path)
    from tests.test_hr_mistakes import run_cli

    code, _, _ = run_cli(["refresh", str(path)])
    assert code == 0
    assert listed(path, "历史", f"A{row}")
    assert any("季度奖待核" in issue[3] for issue in issue_rows(path))
    rows = pay(path)
    assert held(rows[str(agent)])
    assert all(held(r) and "季度优异奖" in str(r["备注"]) for r in rows.values())
