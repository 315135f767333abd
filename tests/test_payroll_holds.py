"""Rows on hold for who they are, not for a cell: they hold the pools they feed, and 考核's
姓名/团队 are compared with 员工's for the same 工号.

A 考核 row in doubt as a whole — a repeated 工号, a 工号 not on 员工 (a 小计 row typed under
the table), a 工号 repeated on 员工, a 团队 that is not 员工's — still feeds its team's
团队超额奖金 pool (the formula sums the whole team), so the team is 待核 with it, and 异常 names
the rows that fed the pool.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.payroll.result import PayrollResult
from kpi_xl.templates import new_month
from kpi_xl.templates.specs import TEMPLATES
from kpi_xl.workbook.refresh import refresh_file
from tests.payroll_util import by_agent

NET = "应发工资"
Edit = Callable[[openpyxl.Workbook], None]


@cache
def _sample(template: str, agents: int | None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = new_month(template, Path(tmp) / "m.xlsx", month="2026-11", sample=True,
                         agents=agents, history_months=0, lite=False)
        return path.read_bytes()


def refreshed(tmp_path: Path, edit: Edit | None, *, template: str = "taobao-cs",
              agents: int | None = None, name: str = "m.xlsx") -> PayrollResult:
    path = tmp_path / name
    path.write_bytes(_sample(template, agents))
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return refresh_file(path)


def held(row: object) -> bool:
    return row[NET] is None and "待核" in str(row["备注"])  # type: ignore[index]


def team_of(result: PayrollResult, team: str) -> set[str]:
    return {agent for agent, row in by_agent(result.records()).items() if row["团队"] == team}


def pool_issues(result: PayrollResult) -> list[tuple[str, str, str, str]]:
    return [row for row in result.issue_rows if "奖金池涉及待核的行" in row[3]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> PayrollResult:
    """The 30-agent sample: 售前一组 exceeds its target, so its members share a pool."""
    return refreshed(tmp_path_factory.mktemp("clean"), None)


def assert_only_teams_held(result: PayrollResult, clean: PayrollResult, teams: set[str],
                           extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    rows, before = by_agent(result.records()), by_agent(clean.records())
    for agent, row in before.items():
        if row["团队"] in teams:
            assert held(rows[agent]), (agent, rows[agent])
        elif agent not in extra:
            assert rows[agent] == row, agent


# ------------------------------------------------------------------------------ A: team pools
def test_duplicated_row_holds_its_team_pool(tmp_path: Path, clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        for col in range(1, 20):
            ws.cell(35, col).value = ws.cell(7, col).value  # KF003 pasted again

    result = refreshed(tmp_path, edit)
    assert_only_teams_held(result, clean, {"售前一组"})
    rows = by_agent(result.records())
    assert rows["KF001"]["团队超额奖金"] is None
    assert rows["KF001"]["备注"] == "待核: 团队超额奖金: 同组 KF003 数据有误, 奖金池待核"
    (issue,) = pool_issues(result)
    assert issue[:2] == ("考核", "A7")
    assert "团队“售前一组”" in issue[3] and "考核!A7 KF003、考核!A35 KF003" in issue[3]
    assert f"{len(team_of(clean, '售前一组'))} 人团队超额奖金待核" in issue[3]


def test_summary_row_not_on_the_roster_holds_its_team_pool(tmp_path: Path,
                                                          clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["A35"], ws["C35"] = "小计", "售前一组"
        ws["D35"], ws["E35"] = "=SUM(D5:D14)", "=SUM(E5:E14)"

    result = refreshed(tmp_path, edit)
    assert_only_teams_held(result, clean, {"售前一组"})
    assert ("考核", "A35", "小计", "工号 小计 不在员工表 (not on the roster)") in result.issue_rows
    (issue,) = pool_issues(result)
    assert issue[1] == "A35" and "考核!A35 小计" in issue[3]


def test_an_input_problem_still_holds_the_pool_as_before(tmp_path: Path,
                                                          clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["E7"] = -5  # negative sales: a listed input of the pool's column

    result = refreshed(tmp_path, edit)
    assert_only_teams_held(result, clean, {"售前一组"})
    (issue,) = pool_issues(result)
    assert issue[1] == "A7" and issue[3].index("考核!A7 KF003") < issue[3].index("考核!A5")


def test_a_shared_pool_is_held_for_everyone(tmp_path: Path) -> None:
    """presales-detail's 绩效奖金 is one pool over everyone: a repeated 工号 holds it all."""
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["A6"] = ws["A5"].value

    result = refreshed(tmp_path, edit, template="presales-detail", agents=8)
    assert all(held(row) for row in result.records())
    (issue,) = pool_issues(result)
    assert "全员共用的奖金池" in issue[3] and "7 人绩效奖金待核" in issue[3]  # 8 rows, KF001 twice


# ------------------------------------------------------------------------- B: 姓名 and 团队
def test_ids_sorted_alone_are_listed_naming_both_cells(tmp_path: Path,
                                                       clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["A7"], ws["A8"] = ws["A8"].value, ws["A7"].value

    result = refreshed(tmp_path, edit, agents=8)
    rows = by_agent(result.records())
    assert held(rows["KF003"]) and held(rows["KF004"])
    name = next(i for i in result.issue_rows if i[1] == "B7")
    assert name[2] == "KF004" and "考核!B7" in name[3] and "员工!B8" in name[3]
    team = next(i for i in result.issue_rows if i[1] == "C7")
    assert "团队" in team[3] and "考核!C7" in team[3] and "员工!C8" in team[3]
    # the two rows' teams differ from 员工's: both teams' pools are held
    teams = {"售前一组", "售前二组"}
    assert {i[3].split("”")[0].split("“")[1] for i in pool_issues(result)} == teams
    assert all(held(row) for row in result.records() if row["团队"] in teams)


def test_a_name_alone_differing_holds_only_that_agent(tmp_path: Path,
                                                      clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["B5"] = "某某"

    result = refreshed(tmp_path, edit)
    assert_only_teams_held(result, clean, set(), extra={"KF001"})
    assert held(by_agent(result.records())["KF001"])
    assert not pool_issues(result)
    (issue,) = [i for i in result.issue_rows if i[1] == "B5"]
    assert "“某某”" in issue[3] and "员工!B5" in issue[3]


def test_a_team_alone_differing_holds_both_pools(tmp_path: Path, clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["C5"] = "售前二组"

    result = refreshed(tmp_path, edit)
    assert_only_teams_held(result, clean, {"售前一组", "售前二组"})
    assert len(pool_issues(result)) == 2


def test_surrounding_spaces_are_not_a_difference(tmp_path: Path, clean: PayrollResult) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["B5"] = f" {ws['B5'].value}\u3000"

    result = refreshed(tmp_path, edit)
    assert [r[NET] for r in result.records()] == [r[NET] for r in clean.records()]
    assert result.issue_rows == clean.issue_rows


def test_a_team_with_a_trailing_space_is_not_a_roster_difference(tmp_path: Path) -> None:
    """(考核's own formulas group by the exact text: what they make of it is theirs.)"""
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["C5"] = f"{ws['C5'].value} "

    result = refreshed(tmp_path, edit, agents=8)
    assert not [i for i in result.issue_rows if "differs from the roster" in i[3]]


# ------------------------------------------------------------------ C: a 工号 repeated on 员工
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_roster_id_repeated_puts_the_agent_on_hold(tmp_path: Path, template: str) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        roster = wb["员工"]
        for col in range(1, roster.max_column + 1):
            roster.cell(13, col).value = roster.cell(6, col).value

    result = refreshed(tmp_path, edit, template=template, agents=8)
    agent = next(i[2] for i in result.issue_rows if i[:2] == ("员工", "A13"))
    issue = next(i for i in result.issue_rows if i[:2] == ("员工", "A13"))
    assert "员工!A6、员工!A13" in issue[3] and "待核" in issue[3]
    row = by_agent(result.records())[agent]
    assert held(row) and "员工表工号重复" in str(row["备注"])


# ------------------------------------------------------------- F: nobody to judge on 历史
def test_everyone_on_hold_gives_no_missing_month_on_history(tmp_path: Path) -> None:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        for row in range(5, 13):
            ws.cell(row, 1).value = "KF001"

    result = refreshed(tmp_path, edit, agents=8)
    assert all(held(row) for row in result.records())
    history = [i for i in result.issue_rows if i[0] == "历史"]
    assert history == [("历史", "", "", "本月没有可记入历史的得分 (全员待核), "
                                        "历史规则 (淘汰) 未判断 "
                                        "(no scores this month: the history rules were not run)")]
