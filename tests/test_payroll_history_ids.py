"""A 工号 that reads as a number (``00104``) still gets its history flags and prizes.

The history rules name agents by the 工号 as they read it (``00104`` → ``104``); the payroll
writes 工号 as typed. A flag or prize keyed by the one and looked up by the other was lost
without a word; these pin that each reaches its agent.
"""

from __future__ import annotations

from kpi_xl.workbook.refresh import refresh_file
from tests.payroll_util import by_agent, month_book
from tests.test_payroll_months import S1_AGENTS, S1_TABLES

RENAMED = {"KF101": "00101", "KF102": "00102", "KF103": "00103", "KF104": "00104"}


def test_elimination_reaches_an_agent_whose_id_reads_as_a_number(tmp_path) -> None:
    agents = [{**agent, "工号": RENAMED[agent["工号"]]} for agent in S1_AGENTS]
    history = [("2026-09", "00104", "赵四", "售前二组", 61, "不合格", 1530)]
    path = month_book(tmp_path, "taobao-cs", "2026-10", agents, tables=S1_TABLES,
                      history=history)
    rows = by_agent(refresh_file(path).records())
    # 00104: 2026-09 61 and 2026-10 66 → two months below 70 → 淘汰 (as KF104 in
    # test_payroll_months); 00103: 2026-10 26 is its first month below → 淘汰预警
    assert "淘汰 (2026-09 61分; 2026-10 66分)" in rows["00104"]["备注"]
    assert rows["00103"]["备注"].startswith("淘汰预警 (2026-10 26分)")
