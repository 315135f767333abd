"""Hand-worked payroll months (S1, S2, S3, S5) through the headless refresh.

Every expected figure is worked by hand from docs/seed-catalogue (S1–S7) and the template's
规则 as built; the arithmetic is in the comments. Money is Decimal to the fen.
"""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest

from kpi_xl.workbook.refresh import refresh_file
from tests.payroll_util import by_agent, month_book

D = Decimal

# ---------------------------------------------------------------------------------------- S1
#
# Weights X 30%, Y 20%, M 10%, Z 10%, N 5%, P 5%, Q 10%, W 10%; 差评 −50 after weighting.
# Pay: 薪资 1280; 岗位奖金 高级 400 / 中级 200 / 初级 0 / 不合格 0; 餐补 150; 全勤奖 100 (全勤=是);
# 团队超额奖金 = 1% × (team sales − team target), split by sales share (largest remainder).

S1_AGENTS = [
    # KF101: X 120000/100000 = 120% → 100; Y 500/1000 = 50% → 100; M 120000/500 = 240 → 80;
    #        Z 990/1000 = 99% → 100; N 20 s → 100; P 45000 → 100; Q 非常满意 → 100; W 96% → 100
    #        = 30 + 20 + 8 + 10 + 5 + 5 + 10 + 10 = 98 → 高级客服
    {"工号": "KF101", "姓名": "王一", "团队": "售前一组", "计划销售额": 100000,
     "实际销售额": 120000, "咨询人数": 1000, "最终下单人数": 500, "总接待客户数": 1000,
     "回复过的旺旺数": 990, "平均响应时间(秒)": 20, "协助跟进服务金额": 45000,
     "执行力": "非常满意", "满意度": 0.96, "差评数": 0, "全勤(是/否)": "是",
     "扣款(赔偿损失)": 500},
    # KF102: X 95% → 85; Y 46% → 80; M 95000/460 = 206.52 → 0; Z 96% → 80; N 40 s → 80;
    #        P 35000 → 80; Q 比较满意 → 90; W 92% → 80
    #        = 25.5 + 16 + 0 + 8 + 4 + 4 + 9 + 8 = 74.5 → 初级客服
    {"工号": "KF102", "姓名": "李二", "团队": "售前一组", "计划销售额": 100000,
     "实际销售额": 95000, "咨询人数": 1000, "最终下单人数": 460, "总接待客户数": 1000,
     "回复过的旺旺数": 960, "平均响应时间(秒)": 40, "协助跟进服务金额": 35000,
     "执行力": "比较满意", "满意度": 0.92, "差评数": 0, "全勤(是/否)": "否"},
    # KF103: X 105% → 100; Y 42% → 60; M 105000/420 = 250 → 100; Z 93% → 60; N 50 s → 60;
    #        P 25000 → 60; Q 一般 → 60; W 88% → 60
    #        = 30 + 12 + 10 + 6 + 3 + 3 + 6 + 6 = 76; 1 差评 → 76 − 50 = 26 → 不合格
    {"工号": "KF103", "姓名": "张三", "团队": "售前一组", "计划销售额": 100000,
     "实际销售额": 105000, "咨询人数": 1000, "最终下单人数": 420, "总接待客户数": 1000,
     "回复过的旺旺数": 930, "平均响应时间(秒)": 50, "协助跟进服务金额": 25000,
     "执行力": "一般", "满意度": 0.88, "差评数": 1, "全勤(是/否)": "是",
     "扣款(赔偿损失)": 200},
    # KF104: X 80% → 70; Y 40% → 60; M 80000/400 = 200 → 0; Z 95% → 80; N 30 s → 100;
    #        P 20000 → 60; Q 比较满意 → 90; W 90% → 80
    #        = 21 + 12 + 0 + 8 + 5 + 3 + 9 + 8 = 66 → 不合格
    {"工号": "KF104", "姓名": "赵四", "团队": "售前二组", "计划销售额": 100000,
     "实际销售额": 80000, "咨询人数": 1000, "最终下单人数": 400, "总接待客户数": 1000,
     "回复过的旺旺数": 950, "平均响应时间(秒)": 30, "协助跟进服务金额": 20000,
     "执行力": "比较满意", "满意度": 0.9, "差评数": 0, "全勤(是/否)": "是"},
]
# 售前一组: sales 120000 + 95000 + 105000 = 320000; no target on 规则 → Σ 计划 = 300000;
#   pool = 1% × 20000 = 200.00; shares 200 × 120/320 = 75.00, × 95/320 = 59.375,
#   × 105/320 = 65.625 → in fen 7500 / 5937.5 / 6562.5: floors 7500 + 5937 + 6562 = 19999,
#   the last fen to the larger remainder, tie (0.5, 0.5) → the lower row: 59.38 and 65.62.
# 售前二组: 规则 target 70000 → pool = 1% × (80000 − 70000) = 100.00, all to KF104.
S1_TABLES = {"团队目标销售额": [("售前二组", 70000)]}


def next_month(path, month: str) -> None:
    """HR rolls the workbook to ``month``: 考核!B2, the cell the refresh reads the month from."""
    book = openpyxl.load_workbook(path)
    book["考核"]["B2"] = month
    book.save(path)


@pytest.fixture(scope="module")
def s1(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s1")
    path = month_book(tmp, "taobao-cs", "2026-10", S1_AGENTS, tables=S1_TABLES,
                      params={"最低工资": 1500})
    return path, refresh_file(path)


def test_s1_pay_components_by_hand(s1) -> None:
    _, result = s1
    rows = by_agent(result.records())
    expected = {
        #        score   grade     薪资  岗位奖金 餐补 全勤奖  团队超额奖金
        "KF101": (98.0, "高级客服", 1280, 400, 150, 100, D("75.00")),
        "KF102": (74.5, "初级客服", 1280, 0, 150, 0, D("59.38")),
        "KF103": (26.0, "不合格", 1280, 0, 150, 100, D("65.62")),
        "KF104": (66.0, "不合格", 1280, 0, 150, 100, D("100.00")),
    }
    for agent, (score, grade, salary, post, meal, attendance, team) in expected.items():
        row = rows[agent]
        assert row["KPI得分"] == pytest.approx(score), agent
        assert row["等级"] == grade
        assert (row["薪资"], row["岗位奖金"], row["餐补"], row["全勤奖"], row["团队超额奖金"]) == (
            D(salary), D(post), D(meal), D(attendance), team), agent


def test_s1_wage_law_cap_and_minimum_wage(s1) -> None:
    _, result = s1
    rows = by_agent(result.records())
    # KF101 gross 1280 + 400 + 150 + 100 + 75 = 2005.00; 扣款 500 > 20% × 2005 = 401.00
    #   → 401.00 taken, net 1604.00 (≥ 最低工资 1500), flagged 扣款超20%
    assert rows["KF101"]["扣款"] == D("401.00")
    assert rows["KF101"]["应发工资"] == D("1604.00")
    assert "扣款超20%" in rows["KF101"]["备注"]
    # KF102 gross 1280 + 0 + 150 + 0 + 59.38 = 1489.38 < 1500, no 扣款: paid as is, flagged
    assert rows["KF102"]["扣款"] is None
    assert rows["KF102"]["应发工资"] == D("1489.38")
    assert "低于最低工资" in rows["KF102"]["备注"]
    # KF103 gross 1280 + 150 + 100 + 65.62 = 1595.62; 扣款 200 ≤ 20% (319.12) but
    #   1595.62 − 200 = 1395.62 < 1500 → only 95.62 taken, net 1500.00, flagged
    assert rows["KF103"]["扣款"] == D("95.62")
    assert rows["KF103"]["应发工资"] == D("1500.00")
    assert "低于最低工资" in rows["KF103"]["备注"]
    # KF104 gross 1280 + 150 + 100 + 100 = 1630.00: no wage-law flag (66 < 70 → 淘汰预警 only)
    assert rows["KF104"]["应发工资"] == D("1630.00")
    assert rows["KF104"]["备注"] == "淘汰预警 (2026-10 66分)"
    # 合计 = 1604.00 + 1489.38 + 1500.00 + 1630.00 = 6223.38
    assert result.total == D("6223.38")
    total = result.pay_rows[-1]
    assert total[0] == "合计" and total[result.pay_headers.index("应发工资")] == D("6223.38")
    # team bonus column sums exactly to the two pools: 200.00 + 100.00
    assert total[result.pay_headers.index("团队超额奖金")] == D("300.00")


def test_s1_sheets_written(s1) -> None:
    path, result = s1
    wb = openpyxl.load_workbook(path)
    pay = wb["工资"]
    assert [c.value for c in pay[4]] == list(result.pay_headers)
    assert [c.value for c in pay[5]][:6] == ["KF101", "王一", "售前一组", 98, "高级客服", 1280]
    assert pay.cell(9, 1).value == "合计"
    detail = [[c.value for c in row] for row in wb["明细"].iter_rows(min_row=5)]
    assert detail[0] == ["KF101", "王一", "成交额完成度", 1.2, "120% ≥ 100% → 100", 100]
    assert len(detail) == 4 * 8
    grades = {wb["概览"].cell(r, 1).value: wb["概览"].cell(r, 2).value for r in range(5, 9)}
    assert grades == {"高级客服": 1, "中级客服": 0, "初级客服": 1, "不合格": 2}
    # 售前一组 average (98 + 74.5 + 26) / 3 = 66.17; 售前二组 66
    assert wb["概览"]["G5"].value == "售前一组" and wb["概览"]["H5"].value == 66.17
    assert wb["概览"]["G6"].value == "售前二组" and wb["概览"]["H6"].value == 66
    history = [[c.value for c in row] for row in wb["历史"].iter_rows(min_row=5)]
    assert history[0] == ["2026-10", "KF101", "王一", "售前一组", 98, "高级客服", 1604]
    assert result.issue_rows == []


def test_s1_elimination_warning_then_elimination(tmp_path) -> None:
    """两次低于70分淘汰: 2026-09 on record (KF103 82.5), then two refreshed months at 26."""
    history = [("2026-09", "KF103", "张三", "售前一组", 82.5, "中级客服", 1830),
               ("2026-09", "KF104", "赵四", "售前二组", 61, "不合格", 1530)]
    path = month_book(tmp_path, "taobao-cs", "2026-10", S1_AGENTS, tables=S1_TABLES,
                      history=history)
    october = by_agent(refresh_file(path).records())
    # KF103: 2026-10 26 < 70 is the first month below → 淘汰预警
    assert october["KF103"]["备注"].startswith("淘汰预警 (2026-10 26分)")
    # KF104: 2026-09 61 and 2026-10 66 → two months below 70 → 淘汰
    assert "淘汰 (2026-09 61分; 2026-10 66分)" in october["KF104"]["备注"]
    assert not october["KF101"]["备注"] or "淘汰" not in october["KF101"]["备注"]
    next_month(path, "2026-11")
    november = by_agent(refresh_file(path).records())
    # KF103: 2026-10 26 (now on 历史, written by the October refresh) + 2026-11 26 → 淘汰
    assert "淘汰 (2026-10 26分; 2026-11 26分)" in november["KF103"]["备注"]
    # the same month again replaces its rows: 历史 holds 2 + 4 + 4 rows
    refresh_file(path)
    months = [row[0].value for row in openpyxl.load_workbook(path)["历史"].iter_rows(min_row=5)]
    assert months == ["2026-09"] * 2 + ["2026-10"] * 4 + ["2026-11"] * 4


# ---------------------------------------------------------------------------------------- S2
#
# Points: 客户满意度 ≥90:20 [85,90):10 [80,85):5; 服务细致 5级 50, 4级 40, 3级 30; 客户回访
# 完成目标值 → 20, else ≥90%:10 [80%,90%):5; 投诉处理 0 unmet 20, 1 → 15, 2 → 10.
# 绩效得分 = MIN(100, Σ); grade A ≥90, B [80,90), C [70,80), D [60,70), E <60;
# 绩效工资 = 系数 (A 1.2, B 1, C 0.8, D 0.5, E 0) × Q (五级: 一级 600 … 五级 1500).

S2_AGENTS = [
    # 20 + 50 + 20 (目标完成) + 20 = 110 → capped 100 → A; Q 三级 1000 → 1.2 × 1000 = 1200.00
    {"工号": "SH01", "姓名": "周一", "团队": "售后一组", "客户满意度(分)": 92,
     "服务细致(级别)": "5级", "回访完成目标值(是/否)": "是", "回访率": 0.95,
     "投诉处理未达标项数": 0},
    # 10 + 40 + 10 (92%) + 15 = 75 → C; Q 四级 1200 → 0.8 × 1200 = 960.00
    {"工号": "SH02", "姓名": "吴二", "团队": "售后一组", "客户满意度(分)": 86,
     "服务细致(级别)": "4级", "回访完成目标值(是/否)": "否", "回访率": 0.92,
     "投诉处理未达标项数": 1},
    # 5 + 30 + 5 (85%) + 10 = 50 → E; Q 二级 800 → 0 × 800 = 0.00
    {"工号": "SH03", "姓名": "郑三", "团队": "售后二组", "客户满意度(分)": 82,
     "服务细致(级别)": "3级", "回访完成目标值(是/否)": "否", "回访率": 0.85,
     "投诉处理未达标项数": 2},
    # 10 + 40 + 10 (90%) + 20 = 80 → B; Q 五级 1500 → 1 × 1500 = 1500.00
    {"工号": "SH04", "姓名": "冯四", "团队": "售后二组", "客户满意度(分)": 88,
     "服务细致(级别)": "4级", "回访完成目标值(是/否)": "否", "回访率": 0.9,
     "投诉处理未达标项数": 0},
]
S2_ROSTER = [{"工号": a["工号"], "姓名": a["姓名"], "团队": a["团队"], "工资级别": level}
             for a, level in zip(S2_AGENTS, ("三级", "四级", "二级", "五级"), strict=True)]


def test_s2_grade_coefficient_times_q_by_hand(tmp_path) -> None:
    path = month_book(tmp_path, "after-sales", "2026-10", S2_AGENTS, roster=S2_ROSTER)
    result = refresh_file(path)
    rows = by_agent(result.records())
    expected = {"SH01": (100, "A", 1.2, D("1200.00")), "SH02": (75, "C", 0.8, D("960.00")),
                "SH03": (50, "E", 0, D("0.00")), "SH04": (80, "B", 1, D("1500.00"))}
    for agent, (score, grade, coefficient, pay) in expected.items():
        row = rows[agent]
        assert (row["KPI得分"], row["等级"]) == (score, grade), agent
        assert row["绩效工资系数"] == pytest.approx(coefficient)
        assert row["绩效工资收入"] == pay
        assert row["应发工资"] == pay  # the coefficient is not money: not summed
    assert result.total == D("3660.00")  # 1200 + 960 + 0 + 1500
    # 明细: SH01's 客户回访 scores 20 by 完成目标值, not by the 95% tier (10): said so
    visit = next(r for r in result.detail_rows if r[0] == "SH01" and r[2] == "客户回访")
    assert visit[3:] == (0.95, visit[4], 20)
    assert visit[4].startswith("95% ≥ 90% → 10") and "得分按公式计算" in visit[4]


# ---------------------------------------------------------------------------------------- S3
#
# Weights: 询单转化率 25% (≥60%:100 [55,60):85 [45,55):70 [35,45):50 <35%:0), 客单价/团队平均
# 15% (≥100%:100), 回复率 15% (≥98%:100 [95,98):80 [90,95):60), 响应时间 15% (≤15s:100,
# (15,22):80), 团队协作 20% (100 + 扣分 × 100/20), 考勤 10% (100 + KPI_DEDUCT); +2 per 表扬.
# Pool = 静默下单销售额 × 6‰; 1st 40% + 200, 2nd 30% + 100, the rest share 30%; ties by sales.

def _s3(agent, name, sales, orders, replied, response, handover=0, late=0, praise=0):
    return {"工号": agent, "姓名": name, "团队": "售前一组", "个人销售额": sales,
            "询单人数": 1000, "下单人数": orders, "接待人数": 1000, "回复人数": replied,
            "平均响应时间(秒)": response, "迟到早退次数(15分钟内)": late,
            "工作转交他人次数": handover, "未交接清楚致投诉次数": 0, "旺旺在线时长(小时)": 176,
            "点名表扬次数": praise, "主动非工作时间处理次数": 0}


S3_AGENTS = [
    # every 客单价 is 250 (sales / orders), so 客单价/团队平均 = 100% → 100 for all;
    # every 在线时长 is 176 = the team average → no online bonus.
    # XS1: 400/1000 = 40% → 50; 99% → 100; 10 s → 100; 协作 100; 考勤 100
    #      = 12.5 + 15 + 15 + 15 + 20 + 10 = 87.5 → 中级客服
    _s3("XS1", "甲", 100000, 400, 990, 10),
    # XS2: 80% → 100 → 25 + 15 + 15 + 15 + 20 + 10 = 100; +2 (1 表扬) = 102 → 高级客服
    _s3("XS2", "乙", 200000, 800, 1000, 10, praise=1),
    # XS3: 20% → 0; 90% → 60; 20 s → 80; 转交 5 → 免2次 每次-3 → −9 → 100 − 9 × 5 = 55;
    #      迟到 3 → 满3次每次-15 → −45 → 55: 0 + 15 + 9 + 12 + 11 + 5.5 = 52.5 → 不合格
    _s3("XS3", "丙", 50000, 200, 900, 20, handover=5, late=3),
    # XS4: 360/1000 = 36% → 50, otherwise as XS1 → 87.5, tie with XS1, less sales (90000)
    _s3("XS4", "丁", 90000, 360, 990, 10),
]
# Ranks: XS2 102, XS1 87.5 (sales 100000), XS4 87.5 (90000), XS3 52.5.
# Pool 500000 × 6‰ = 3000.00: XS2 40% × 3000 + 200 = 1400.00; XS1 30% + 100 = 1000.00;
# XS4 and XS3 share 30% = 900 → 450.00 each.


def test_s3_rank_pool_and_promotion_by_hand(tmp_path) -> None:
    history = [("2026-08", "XS1", "甲", "售前一组", 88, "中级客服", None),
               ("2026-09", "XS1", "甲", "售前一组", 91, "高级客服", None),
               ("2026-08", "XS2", "乙", "售前一组", 95, "高级客服", None),  # 2026-09 missing
               ("2026-08", "XS4", "丁", "售前一组", 85, "中级客服", None),
               ("2026-09", "XS4", "丁", "售前一组", 75, "初级客服", None)]
    path = month_book(tmp_path, "presales-detail", "2026-10", S3_AGENTS,
                      params={"本月静默下单销售额": 500000}, history=history)
    result = refresh_file(path)
    rows = by_agent(result.records())
    expected = {"XS1": (87.5, "中级客服", D("1000.00")), "XS2": (102, "高级客服", D("1400.00")),
                "XS3": (52.5, "不合格", D("450.00")), "XS4": (87.5, "中级客服", D("450.00"))}
    for agent, (score, grade, bonus) in expected.items():
        row = rows[agent]
        assert row["KPI得分"] == pytest.approx(score), agent
        assert row["等级"] == grade
        assert row["绩效奖金"] == bonus == row["应发工资"], agent
    assert result.total == D("3300.00")  # the pool 3000 + the fixed prizes 200 + 100
    # 晋升: XS1 中级 (08), 高级 (09), 中级 (10) → three months at 中级+; XS2 misses 2026-09;
    # XS4 was 初级 in 2026-09
    assert rows["XS1"]["备注"] == "晋升 (2026-08–2026-10)"
    assert not rows["XS2"]["备注"] and not rows["XS4"]["备注"]
    assert result.flag_counts()["晋升"] == 1


# ---------------------------------------------------------------------------------------- S5
#
# 绩效得分 = (响应 + 回复率 + 满意度 points) × 100 / 50; 提点比例 by 咨询转化率 (≥60% 6‰,
# [55,60) 4‰, [50,55) 3‰, [40,50) 2‰); 提成 = 成交订单金额 × 提点 × 得分/100; ≤ 5 agents →
# one 销售单项奖 of 200 to the top seller; 季度优异奖 800/600/300 for the previous quarter's
# summed scores, paid in the first month of the next quarter.

def _s5(agent, name, amount, buyers, response, answered, satisfied):
    return {"工号": agent, "姓名": name, "团队": "售前一组", "成交订单金额": amount,
            "咨询人数": 1000, "成交人数": buyers, "平均响应时间(秒)": response,
            "所有咨询数": 1000, "顾客问题的回复数": answered, "非常满意数": satisfied - 200,
            "满意数": 200, "参与满意度调查数": 1000}


S5_AGENTS = [
    # ZX1: 58% → 4‰; 25 s → 15; 99% → 12; 96% → 20 → 47 × 2 = 94;
    #      提成 120000 × 0.004 × 0.94 = 451.20
    _s5("ZX1", "子", 120000, 580, 25, 990, 960),
    # ZX2: 62% → 6‰; 35 s → 12; 100% → 15; 93% → 16 → 43 × 2 = 86;
    #      提成 200000 × 0.006 × 0.86 = 1032.00; top seller → 200
    _s5("ZX2", "丑", 200000, 620, 35, 1000, 930),
    # ZX3: 45% → 2‰; 45 s → 8; 96% → 8; 89% → 8 → 24 × 2 = 48; 80000 × 0.002 × 0.48 = 76.80
    _s5("ZX3", "寅", 80000, 450, 45, 960, 890),
    # ZX4: 52% → 3‰; 55 s → 4; 95% → 4; 86% → 4 → 12 × 2 = 24; 100000 × 0.003 × 0.24 = 72.00
    _s5("ZX4", "卯", 100000, 520, 55, 950, 860),
]
# 2026Q3 on 历史: ZX1 90 + 92 + 94 = 276; ZX2 80 + 85 + 90 = 255; ZX3 95 × 3 = 285;
# ZX4 60 + 70 + 80 = 210 → ZX3 800, ZX1 600, ZX2 300, ZX4 0 (paid in 2026-10).
S5_HISTORY = [
    (month, agent, name, "售前一组", score, "", None)
    for agent, name, scores in (("ZX1", "子", (90, 92, 94)), ("ZX2", "丑", (80, 85, 90)),
                                ("ZX3", "寅", (95, 95, 95)), ("ZX4", "卯", (60, 70, 80)))
    for month, score in zip(("2026-07", "2026-08", "2026-09"), scores, strict=True)
]


def test_s5_commission_and_quarterly_prize_by_hand(tmp_path) -> None:
    path = month_book(tmp_path, "commission", "2026-10", S5_AGENTS, history=S5_HISTORY)
    result = refresh_file(path)
    rows = by_agent(result.records())
    expected = {
        #        score rate    提成              单项奖    季度奖        应发
        "ZX1": (94, 0.004, D("451.20"), D("0.00"), D("600.00"), D("1051.20")),
        "ZX2": (86, 0.006, D("1032.00"), D("200.00"), D("300.00"), D("1532.00")),
        "ZX3": (48, 0.002, D("76.80"), D("0.00"), D("800.00"), D("876.80")),
        "ZX4": (24, 0.003, D("72.00"), D("0.00"), D("0.00"), D("72.00")),
    }
    for agent, (score, rate, commission, prize, quarter, net) in expected.items():
        row = rows[agent]
        assert row["KPI得分"] == pytest.approx(score), agent
        assert row["提点比例"] == pytest.approx(rate)
        assert (row["提成奖金"], row["销售单项奖"], row["季度优异奖"], row["应发工资"]) == (
            commission, prize, quarter, net), agent
    # not the first month of a quarter: no quarterly prize (2026-11)
    next_month(path, "2026-11")
    november = by_agent(refresh_file(path).records())
    assert {r["季度优异奖"] for r in november.values()} == {D("0.00")}
