"""A scored item's rule that 规则 cannot give is said on 异常, naming the 规则 cell.

明细 reads each item's rule to explain the tier matched; what it found wrong was recorded after
the 规则 problems had been copied to 异常, so it never showed (HR saw only "按公式计算").
"""

from __future__ import annotations

from kpi_xl.workbook.refresh import refresh_file
from tests.payroll_util import month_book
from tests.test_payroll_months import S1_AGENTS, S1_TABLES


def test_an_unreadable_item_rule_is_listed_on_the_issues_sheet(tmp_path) -> None:
    path = month_book(tmp_path, "taobao-cs", "2026-10", S1_AGENTS, tables=S1_TABLES,
                      params={"成交额完成度(X)": "X≥100%:100; 90%≤X<100%"})
    result = refresh_file(path)
    rule_rows = [row for row in result.issue_rows if row[0] == "规则"]
    assert any(str(row[3]).startswith("成交额完成度") for row in rule_rows), rule_rows
    # 明细 still says where the points came from, not a tier the rule could not give
    detail = next(row for row in result.detail_rows if row[2] == "成交额完成度")
    assert str(detail[4]).startswith("按公式计算")
