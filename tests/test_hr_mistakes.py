"""HR and supervisor mistakes the bad-input corpus does not cover yet, each a silent number.

Every test builds the sample month with :func:`kpi_xl.templates.new_month`, makes ONE mistake
with openpyxl (as Excel would store it), runs ``kpi-xl refresh`` in process and checks the
product's first rule: a mistake gives a row on 异常 naming a cell, or the affected agents are
待核 (no 应发工资) — never a quiet 0 or a plausible-looking wrong number. Each test fails on
the current code because the refresh pays a wrong amount without a word.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.cli import main
from kpi_xl.templates import new_month
from tests.payroll_util import issue_rows, sheet_rows

NET = "应发工资"


# ----------------------------------------------------------------------------- helpers
def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def pay(path: Path) -> dict[str, dict[str, object]]:
    """工资 rows by 工号 (the 合计 row left out; a repeated 工号 keeps its first row)."""
    headers, rows = sheet_rows(path, "工资")
    found: dict[str, dict[str, object]] = {}
    for row in rows:
        if row[0] != "合计":
            found.setdefault(str(row[0]), dict(zip(headers, row, strict=True)))
    return found


@cache
def _sample(template: str, agents: int | None, history: int) -> bytes:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = new_month(template, Path(tmp) / "m.xlsx", month="2026-11", sample=True,
                         agents=agents, history_months=history, lite=False)
        return path.read_bytes()


def month(tmp_path: Path, edit: Callable[[openpyxl.Workbook], None] | None, *,
          template: str = "taobao-cs", agents: int | None = 8, history: int = 0,
          name: str = "m.xlsx") -> Path:
    """The sample month (8 agents unless told), changed by ``edit`` and saved by openpyxl."""
    path = tmp_path / name
    path.write_bytes(_sample(template, agents, history))
    if edit is not None:
        wb = openpyxl.load_workbook(path)
        edit(wb)
        wb.save(path)
    return path


def refreshed(tmp_path: Path, edit: Callable[[openpyxl.Workbook], None] | None,
              name: str, **kwargs: object) -> tuple[int, str, Path]:
    path = month(tmp_path, edit, name=name, **kwargs)  # type: ignore[arg-type]
    code, out, err = run_cli(["refresh", str(path)])
    return code, out + err, path


def clean_pay(tmp_path: Path, **kwargs: object) -> dict[str, dict[str, object]]:
    code, _, path = refreshed(tmp_path, None, "clean.xlsx", **kwargs)
    assert code == 0
    return pay(path)


def held(row: dict[str, object]) -> bool:
    return row[NET] is None and "待核" in str(row.get("备注") or "")


def listed(path: Path, sheet: str, cell: str) -> bool:
    return any(s == sheet and c == cell for s, c, _, _ in issue_rows(path))


# ----------------------------------------------------------------------------- the cases
def test_attendance_yes_with_trailing_space_is_not_a_silent_zero(tmp_path: Path) -> None:
    """全勤 pasted as "是␠" (from an attendance export): the input check folds it to 是 and lets
    it through, but 考核's formula IF(R5="是", …) does not — 全勤奖 0, paid, nothing on 异常."""
    clean = clean_pay(tmp_path)
    assert clean["KF001"]["全勤奖"] == 100

    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["R5"] = "是 "

    code, _, path = refreshed(tmp_path, edit, "attendance.xlsx")
    assert code == 0
    row = pay(path)["KF001"]
    assert row["全勤奖"] == 100 or held(row) or listed(path, "考核", "R5"), (
        f"全勤 '是 ' → 全勤奖 {row['全勤奖']}, 应发 {row[NET]}, no 异常: a silent 0")


def _copy_inputs(wb: openpyxl.Workbook, source: int, target: int) -> None:
    ws = wb["考核"]
    for col in range(1, 20):  # A:S, the input columns
        ws.cell(target, col).value = ws.cell(source, col).value


@pytest.mark.parametrize("mistake", ["duplicated_row", "subtotal_row"])
def test_held_row_does_not_feed_teammates_team_bonus(tmp_path: Path, mistake: str) -> None:
    """A row the refresh itself puts on hold — the same agent pasted twice, or a team 小计 row
    typed under the table — still adds its 实际销售额 to the team's 超额 pool, and every
    teammate is paid a bonus inflated by it (KF001 144.80 → 239.39 / 637.91), not 待核."""
    clean = clean_pay(tmp_path, agents=None)  # the 30-agent sample: 售前一组 exceeds its target

    def edit(wb: openpyxl.Workbook) -> None:
        if mistake == "duplicated_row":
            _copy_inputs(wb, 7, 35)  # KF003 pasted again below the last agent (row 34)
        else:
            ws = wb["考核"]
            ws["A35"], ws["C35"] = "小计", "售前一组"
            ws["D35"], ws["E35"] = "=SUM(D5:D14)", "=SUM(E5:E14)"

    code, _, path = refreshed(tmp_path, edit, f"{mistake}.xlsx", agents=None)
    assert code == 0
    rows = pay(path)
    team = [a for a, r in clean.items() if r["团队"] == "售前一组" and a != "KF003"]
    assert team and clean["KF001"]["团队超额奖金"] > 0
    inflated = {a: (clean[a]["团队超额奖金"], rows[a]["团队超额奖金"]) for a in team
                if not held(rows[a]) and rows[a]["团队超额奖金"] != clean[a]["团队超额奖金"]}
    assert not inflated, f"paid a team bonus fed by a 待核 row: {inflated}"


def test_month_typed_2026_10_as_a_number_is_not_january(tmp_path: Path) -> None:
    """考核月份 typed 2026.10 in its General cell: Excel stores the number 2026.1, which the
    refresh reads as 2026-01 without a word — 历史 gets a 2026-01 block and, with Sep/Oct on
    record, 淘汰 is downgraded to 淘汰预警 (KF001, KF002, KF008)."""
    def edit(wb: openpyxl.Workbook) -> None:
        wb["考核"]["B2"] = 2026.1

    code, text, path = refreshed(tmp_path, edit, "month.xlsx", history=2)
    named = "考核!B2" in text or (code == 0 and listed(path, "考核", "B2"))
    assert named, (
        f"exit {code}: {text.strip()!r} — 2026.1 (2026.10 or 2026.1?) silently taken as a month")


def test_team_bonus_rate_above_100_percent_is_flagged(tmp_path: Path) -> None:
    """团队超额奖金比例 pasted as 5 (meant 5%): 500% of the team's excess is paid out — KF001's
    团队超额奖金 144.80 → 72,402.48 — with nothing on 异常 and nobody 待核."""
    clean = clean_pay(tmp_path, agents=None)

    def edit(wb: openpyxl.Workbook) -> None:
        wb["规则"]["C22"] = 5

    code, _, path = refreshed(tmp_path, edit, "rate.xlsx", agents=None)
    assert code == 0
    row = pay(path)["KF001"]
    assert listed(path, "规则", "C22") and held(row), (
        f"团队超额奖金比例 500%: KF001 paid {row['团队超额奖金']} "
        f"(clean {clean['KF001']['团队超额奖金']}), 应发 {row[NET]}, no 异常")


def test_negative_bad_review_points_do_not_raise_the_score(tmp_path: Path) -> None:
    """差评扣分 typed as a negative ("扣30" → −30; README itself writes 差评 −50): the formula
    −差评数×(−30) ADDS 30 per bad review — KF005 (1 差评) 16 → 96 高级客服 with 岗位奖金 400,
    paid, no 异常 (with −50 a score over 100 is at least caught by the grade rule)."""
    clean = clean_pay(tmp_path)

    def edit(wb: openpyxl.Workbook) -> None:
        wb["规则"]["C17"] = -30

    code, _, path = refreshed(tmp_path, edit, "penalty.xlsx")
    assert code == 0
    row = pay(path)["KF005"]
    assert held(row) and listed(path, "规则", "C17"), (
        f"差评扣分 −30: KF005 score {clean['KF005']['KPI得分']} → {row['KPI得分']} "
        f"({row['等级']}), 应发 {row[NET]}, no 异常")


def test_rate_rule_written_without_percent_signs_is_not_a_silent_zero(tmp_path: Path) -> None:
    """询单转化率 rule typed without % (Y≥50:100; 45≤Y<50:80; …): every rate (0.31…0.55) falls
    in Y<40 → 0 points; KF003 高级客服 → 中级客服, everyone paid, nothing on 异常. The unit
    slip check only looks the other way (a value 47 against % bounds)."""
    clean = clean_pay(tmp_path)

    def edit(wb: openpyxl.Workbook) -> None:
        wb["规则"]["C6"] = "Y≥50:100; 45≤Y<50:80; 40≤Y<45:60; Y<40:0"

    code, _, path = refreshed(tmp_path, edit, "units.xlsx")
    assert code == 0
    row = pay(path)["KF003"]
    assert held(row) and listed(path, "规则", "C6"), (
        f"询单转化率 rule in plain numbers: KF003 {clean['KF003']['KPI得分']} → "
        f"{row['KPI得分']} ({row['等级']}), 应发 {row[NET]}, no 异常")


def test_ids_sorted_without_their_rows_do_not_pay_the_wrong_person(tmp_path: Path) -> None:
    """Only the 工号 column of 考核 sorted (KF003 ↔ KF004 swapped): 员工 says KF004 is 董伟 of
    售前二组, 考核 says KF004 is 陈娜 of 售前一组 — the refresh pays KF004 陈娜's 1830 and KF003
    董伟's 1530 without comparing 姓名 or 团队 with 员工."""
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb["考核"]
        ws["A7"], ws["A8"] = "KF004", "KF003"

    code, _, path = refreshed(tmp_path, edit, "swapped.xlsx")
    assert code == 0
    rows = pay(path)
    assert rows["KF004"]["姓名"] == "陈娜"  # the mistake as made
    assert held(rows["KF004"]) or any(agent in ("KF003", "KF004") for _, _, agent, _ in
                                      issue_rows(path)), (
        f"KF004 paid {rows['KF004'][NET]} as {rows['KF004']['姓名']}; 员工 says 董伟")


def test_duplicate_roster_id_with_two_target_wages_is_on_hold(tmp_path: Path) -> None:
    """salary-80-20: HR gives KF002 a raise by adding a second 员工 row (目标工资 5000) and leaves
    the old one (4500). README: a duplicate 工号 is listed and the agent is 待核; the refresh
    lists it but pays KF002 on the first row's 4500 (INDEX/MATCH takes the first)."""
    def edit(wb: openpyxl.Workbook) -> None:
        roster = wb["员工"]
        for col in range(1, 7):
            roster.cell(13, col).value = roster.cell(6, col).value
        roster["F13"] = 5000

    code, _, path = refreshed(tmp_path, edit, "roster.xlsx", template="salary-80-20")
    assert code == 0
    assert listed(path, "员工", "A13")
    row = pay(path)["KF002"]
    assert held(row), f"KF002 paid {row[NET]} on 目标工资 {row['目标工资']} of two (4500/5000)"


def test_response_time_typed_as_a_time_is_not_read_as_seconds(tmp_path: Path) -> None:
    """平均响应时间 typed 1:01 (meaning 61 s): Excel stores a time, 0.000706 of a day, and the
    refresh scores 0.0007 秒 as the best tier — KF002 55 → 60, paid, nothing on 异常."""
    clean = clean_pay(tmp_path)

    def edit(wb: openpyxl.Workbook) -> None:
        cell = wb["考核"]["M6"]
        cell.value = dt.time(0, 1, 1)
        cell.number_format = "mm:ss"

    code, _, path = refreshed(tmp_path, edit, "time.xlsx")
    assert code == 0
    row = pay(path)["KF002"]
    assert held(row) or listed(path, "考核", "M6") or row["KPI得分"] == clean["KF002"]["KPI得分"], (
        f"响应时间 0:01:01 → KF002 {clean['KF002']['KPI得分']} → {row['KPI得分']}, no 异常")
