"""Where things sit in every template workbook: sheet order, header rows, output headers.

Pure constants shared by the builder (which lays the sheets out) and the payroll refresh (which
fills 工资, 明细, 历史, 异常 and 概览), so neither guesses the other's positions.
"""

from __future__ import annotations

GUIDE, RULES, ROSTER, ASSESSMENT = "说明", "规则", "员工", "考核"
PAY, DETAIL, HISTORY, ISSUES, OVERVIEW = "工资", "明细", "历史", "异常", "概览"
SHEETS = (GUIDE, RULES, ROSTER, ASSESSMENT, PAY, DETAIL, HISTORY, ISSUES, OVERVIEW)
INPUT_SHEETS = (GUIDE, RULES, ROSTER, ASSESSMENT)
"""Sheets HR fills; the refresh never writes them."""
OUTPUT_SHEETS = (PAY, DETAIL, HISTORY, ISSUES)
"""Sheets whose rows below the header the refresh replaces."""

HEADER_ROW = 4
FIRST_ROW = 5

PAY_LEAD = ("工号", "姓名", "团队", "KPI得分", "等级")
PAY_TAIL = ("扣款", "应发工资", "备注")
HISTORY_HEADERS = ("月份", "工号", "姓名", "团队", "KPI得分", "等级", "应发工资")
ISSUE_HEADERS = ("工作表", "单元格", "工号", "问题")
DETAIL_HEADERS = ("工号", "姓名", "指标", "输入值", "命中档位", "得分")

TEAM_ROWS = 8
"""Rows reserved for 团队 | 平均分 on 概览 (the refresh writes them)."""
OVERVIEW_BLOCKS = (
    (1, ("等级", "人数")),
    (4, ("分数段", "人数")),
    (7, ("团队", "平均分")),
)
"""概览 data blocks: first column and the two headers (on :data:`HEADER_ROW`)."""
MONTH_LABEL = "考核月份"
"""考核!A2; the month is the cell to its right."""
TEMPLATE_ID_LABEL = "模板编号:"
"""说明!A2 ends with ``模板编号: <id>``."""

REFRESH_BUTTON = "刷新工资表"
"""Name and caption of the refresh button shape on 工资 (added by :mod:`.button`)."""
REFRESH_BUTTON_CELL = "H2"
"""The 工资 cell the button covers and links to: selecting it runs the refresh."""
REFRESH_BUTTON_LINK = f"{PAY}!{REFRESH_BUTTON_CELL}"
"""The button's hyperlink location (a place in this document)."""
REFRESH_BUTTON_SPEC = f"[{REFRESH_BUTTON}]{REFRESH_BUTTON_LINK}"
"""``@script(button=...)`` of the xlwings Lite refresh in :mod:`kpi_xl.scripts`."""
