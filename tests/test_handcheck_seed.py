"""Hand-worked checks of the payroll against the seed catalogue (shared/seed-catalogue.md).

Every expected number below was worked out by hand from the catalogue's rules (S1–S7) and the
inputs shown, not from kpi_xl's code; the comment beside each shows the arithmetic. They assert
exact values, so any drift in a tier, weight, grade band, pay amount, rounding or split fails.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.cli import main
from tests.payroll_util import month_book

MONTH = "2026-11"


def refresh(path: Path) -> dict[str, dict[str, object]]:
    """Refresh headless and return 工资 rows by 工号 (header → value)."""
    assert main(["refresh", str(path)]) == 0
    ws = openpyxl.load_workbook(path, data_only=True)["工资"]
    headers = [c.value for c in ws[4]]
    rows = {}
    for r in range(5, ws.max_row + 1):
        values = [c.value for c in ws[r]]
        if values[0] and values[0] != "合计":
            rows[values[0]] = dict(zip(headers, values, strict=False))
    return rows


def money(value: object) -> Decimal:
    return Decimal(str(value or 0))


def sample(tmp_path: Path, template: str) -> Path:
    out = tmp_path / f"{template}.xlsx"
    assert main(["new", template, str(out), "--month", MONTH, "--sample"]) == 0
    return out


# --- S1 taobao-cs -------------------------------------------------------------------------

def test_s1_rules_tab_is_the_seed_sheet(tmp_path):
    rules = openpyxl.load_workbook(sample(tmp_path, "taobao-cs"), data_only=True)["规则"]
    rows = {rules[f"B{r}"].value: (rules[f"C{r}"].value, rules[f"D{r}"].value)
            for r in range(5, 30)}
    # S1 table, item by item: tiers with the seed's inclusivity, weights 30/20/10/10/5/5/10/10 %
    assert rows["成交额完成度(X)"] == ("X≥100%:100; 90%≤X<100%:85; 80%≤X<90%:70; 70%≤X<80%:55; "
                                    "60%≤X<70%:40; 50%≤X<60%:25; 40%≤X<50%:10; X<40%:0", 0.3)
    assert rows["询单转化率(Y)"] == ("Y≥50%:100; 45%≤Y<50%:80; 40%≤Y<45%:60; Y<40%:0", 0.2)
    assert rows["客单价(M)"] == ("M≥250:100; 230≤M<250:80; 210≤M<230:60; M<210:0", 0.1)
    assert rows["旺旺回复率(Z)"] == ("Z≥98%:100; 95%≤Z<98%:80; 92%≤Z<95%:60; Z<92%:0", 0.1)
    assert rows["旺旺响应时间(N) ↓"] == ("N≤30s:100; 30s<N≤45s:80; 45s<N≤55s:60; N>55s:0", 0.05)
    assert rows["协助跟进服务(P)"] == ("P≥4W:100; 3W≤P<4W:80; 2W≤P<3W:60; P<2W:0", 0.05)
    assert rows["执行力(Q)"] == ("非常满意:100; 比较满意:90; 一般:60; 不满意:0", 0.1)
    assert rows["满意度(W)"] == ("W≥95%:100; 90%≤W<95%:80; 85%≤W<90%:60; W<85%:0", 0.1)
    # grades [90,100] 高级, [80,90) 中级, [70,80) 初级, <70 不合格;
    # pay 1280 / 400·200·0 / 150 / 100 / 1%
    assert rows["等级 (按 KPI 得分)"][0] == (
        "[90,100]:高级客服; [80,90):中级客服; [70,80):初级客服; <70:不合格")
    assert rows["差评扣分 (每个差评)"][0] == 50
    assert rows["薪资"][0] == 1280
    assert rows["岗位奖金 (按等级)"][0] == "高级客服:400; 中级客服:200; 初级客服:0; 不合格:0"
    assert rows["餐补"][0] == 150
    assert rows["全勤奖"][0] == 100
    assert rows["团队超额奖金比例"][0] == 0.01


def test_s1_sample_agents_by_hand(tmp_path):
    pay = refresh(sample(tmp_path, "taobao-cs"))
    # KF001: X 113102/106000=106.7%→100; Y 479/798=60.0%→100; M 113102/479=236.12→80;
    # Z 1481/1488=99.5%→100; N 62.8s→0; P 62030→100; Q 比较满意→90; W 91.8%→80
    # R = 30+20+8+10+0+5+9+8 = 90 → exactly on the [90,100] boundary → 高级客服
    kf001 = pay["KF001"]
    assert (kf001["KPI得分"], kf001["等级"]) == (90, "高级客服")
    # 售前一组 target 1,000,000 (规则); sales Σ = 1,146,829 → pool = 1% × 146,829 = 1468.29;
    # KF001 share 113102/1146829 × 1468.29 = 144.8050… → 144.80
    # (largest remainder: its .0050 is among the smallest, so no extra fen)
    assert money(kf001["团队超额奖金"]) == Decimal("144.80")
    # 1280 + 400 + 150 + 100 (全勤=是) + 144.80 = 2074.80
    assert money(kf001["应发工资"]) == Decimal("2074.80")
    # KF014 (one 差评): 85×.3+80×.2+60×.1+100×.1+100×.05+80×.05+100×.1+80×.1 = 84.5
    # −50 → 34.5
    assert (pay["KF014"]["KPI得分"], pay["KF014"]["等级"]) == (34.5, "不合格")
    assert money(pay["KF014"]["岗位奖金"]) == 0
    assert money(pay["KF014"]["应发工资"]) == Decimal("1530")
    # KF016: 100×.3+0+100×.1+60×.1+100×.05+60×.05+100×.1+60×.1 = 70 → [70,80) 初级客服, no 岗位奖金
    assert (pay["KF016"]["KPI得分"], pay["KF016"]["等级"]) == (70, "初级客服")
    # KF009: gross 1280+0+150+100+68.56 = 1598.56; 扣款 2000 > 20% cap 319.712 → 319.71;
    # 1598.56 − 319.71 = 1278.85, flagged
    kf009 = pay["KF009"]
    assert money(kf009["扣款"]) == Decimal("319.71")
    assert money(kf009["应发工资"]) == Decimal("1278.85")
    assert "扣款超20%" in kf009["备注"]
    # team pools are paid out exactly: Σ 售前一组 bonuses = 1468.29
    team1 = sum(money(r["团队超额奖金"]) for r in pay.values() if r["团队"] == "售前一组")
    assert team1 == Decimal("1468.29")


def _tb(agent, plan, sales, asked, orders, received, replied, seconds, follow, execution, satisfied,
        bad=0, team="A"):
    return {"工号": agent, "姓名": agent, "团队": team, "计划销售额": plan, "实际销售额": sales,
            "咨询人数": asked, "最终下单人数": orders, "总接待客户数": received,
            "回复过的旺旺数": replied, "平均响应时间(秒)": seconds, "协助跟进服务金额": follow,
            "执行力": execution, "满意度": satisfied, "差评数": bad, "全勤(是/否)": "是"}


def test_s1_tier_boundaries_by_hand(tmp_path):
    agents = [
        # X 90000/100000=90%→85 (incl.); Y 45/100→80; M 90000/45=2000→100; Z 95/100→80;
        # N 30s→100 (≤30); P 2W→60; 一般 60; W 85%→60
        # 25.5+16+10+8+5+3+6+6 = 79.5 → 初级客服
        _tb("T1", 100000, 90000, 100, 45, 100, 95, 30, 20000, "一般", 0.85),
        # X 89.999%→70; Y 44%→60; M 100; Z 94%→60; N 45s→80 ((30,45]); P 19999→0; 90; W 84.99%→0
        # 21+12+10+6+4+0+9+0 = 62 → 不合格
        _tb("T2", 100000, 89999, 100, 44, 100, 94, 45, 19999, "比较满意", 0.8499),
        # X 100.001%→100; Y 50%→100; M 100001/500=200.002→0; Z 98%→100; N 55s→60; P 4W→100;
        # 不满意 0; W 95%→100 → 30+20+0+10+3+5+0+10 = 78; two 差评 −100 → floor 0
        _tb("T3", 100000, 100001, 1000, 500, 1000, 980, 55, 40000, "不满意", 0.95, bad=2),
        # X 46%→10; Y 100%→100; M 23000/100=230→80; Z 92%→60; N 55.01s→0; P 3W→80; 100; W 90%→80
        # 3+20+8+6+0+4+10+8 = 59
        _tb("T4", 50000, 23000, 100, 100, 100, 92, 55.01, 30000, "非常满意", 0.9),
    ]
    pay = refresh(month_book(tmp_path, "taobao-cs", MONTH, agents))
    assert {k: (v["KPI得分"], v["等级"]) for k, v in pay.items()} == {
        "T1": (79.5, "初级客服"), "T2": (62, "不合格"), "T3": (0, "不合格"), "T4": (59, "不合格")}
    # team A target = Σ plans 350,000 > Σ sales 302,999 → no team bonus; everyone 1280+150+100
    assert all(money(v["应发工资"]) == Decimal("1530") for v in pay.values())


def test_s1_team_bonus_split_to_the_fen(tmp_path):
    agents = [_tb(f"F{i}", 10000, sales, 100, 50, 100, 99, 20, 50000, "非常满意", 0.96, team="F")
              for i, sales in enumerate((10001, 10002, 10004), start=1)]
    pay = refresh(month_book(tmp_path, "taobao-cs", MONTH, agents))
    # target 30000, sales 30007 → pool 1% × 7 = 0.07; shares .023331/.023333/.023338 →
    # floors .02 each (Σ .06), the last fen to the largest remainder (F3)
    assert [money(pay[f"F{i}"]["团队超额奖金"]) for i in (1, 2, 3)] == [
        Decimal("0.02"), Decimal("0.02"), Decimal("0.03")]


# --- S2 after-sales -----------------------------------------------------------------------

def test_s2_after_sales_by_hand(tmp_path):
    def agent(name, satisfaction, level, done, rate, unmet):
        return {"工号": name, "姓名": name, "团队": "A", "客户满意度(分)": satisfaction,
                "服务细致(级别)": level, "回访完成目标值(是/否)": done, "回访率": rate,
                "投诉处理未达标项数": unmet}
    agents = [agent("A1", 90, "3级", "否", 0.9, 3),     # 20 + 30 + 10 + (20−15=5) = 65 → D 0.5
              agent("A2", 89.9, "5级", "否", 0.8, 0),   # 10 + 50 + 5 + 20 = 85 → B 1
              agent("A3", 80, "部分不完整", "是", 0.5, 1)]  # 5 + 10 + 20 + 15 = 50 → E 0
    roster = [{"工号": a["工号"], "姓名": a["工号"], "团队": "A", "工资级别": g}
              for a, g in zip(agents, ("一级", "三级", "五级"), strict=True)]
    pay = refresh(month_book(tmp_path, "after-sales", MONTH, agents, roster=roster))
    # Q: 一级 600, 三级 1000, 五级 1500 → 0.5×600 = 300; 1×1000 = 1000; 0×1500 = 0
    assert {k: (v["KPI得分"], v["等级"], money(v["应发工资"])) for k, v in pay.items()} == {
        "A1": (65, "D", Decimal("300")), "A2": (85, "B", Decimal("1000")), "A3": (50, "E", 0)}


# --- S3 presales-detail -------------------------------------------------------------------

def _ps(agent, sales, orders=60, late=0, handed=0):
    return {"工号": agent, "姓名": agent, "团队": "A", "个人销售额": sales, "询单人数": 100,
            "下单人数": orders, "接待人数": 100, "回复人数": 99, "平均响应时间(秒)": 12,
            "迟到早退次数(15分钟内)": late, "工作转交他人次数": handed, "未交接清楚致投诉次数": 0,
            "旺旺在线时长(小时)": 170, "点名表扬次数": 0, "主动非工作时间处理次数": 0}


def test_s3_pool_ranks_ties_by_sales(tmp_path):
    # every 客单价 = 1000 = team average → 100; conversion ≥60% → 100; reply 99% → 100; 12s → 100
    agents = [_ps("P1", 60000), _ps("P2", 72000, orders=72), _ps("P3", 60000, late=1),
              _ps("P4", 84000, orders=84, late=3), _ps("P5", 60000, handed=3)]
    pay = refresh(month_book(tmp_path, "presales-detail", MONTH, agents,
                             params={"本月静默下单销售额": 100000}))
    # P1, P2 = 100; P3 = 100 − 1×10% = 99.9; P4 考勤 100−3×15 = 55 → 90+5.5 = 95.5;
    # P5 协作 20 − (3−2)×3 = 17 → 97
    assert [pay[p]["KPI得分"] for p in ("P1", "P2", "P3", "P4", "P5")] == [100, 100, 99.9, 95.5, 97]
    # pool 6‰ × 100000 = 600: tie at 100 → P2 (higher sales) first: 40%×600+200 = 440;
    # P1 second: 30%×600+100 = 280; rest 30% = 180 / 3 = 60 each
    assert [money(pay[p]["绩效奖金"]) for p in ("P1", "P2", "P3", "P4", "P5")] == [
        Decimal("280"), Decimal("440"), Decimal("60"), Decimal("60"), Decimal("60")]


# --- S4 medal -----------------------------------------------------------------------------

def test_s4_medal_boundaries_by_hand(tmp_path):
    def agent(name, sales, paid, replied, seconds, late):
        return {"工号": name, "姓名": name, "团队": "A", "计划销售额": 100000, "实际销售额": sales,
                "咨询人数": 100, "最终下单付款人数": paid, "总接待客户数": 100,
                "回复过的客户数": replied, "平均响应时间(秒)": seconds, "迟到早退次数": late}
    agents = [agent("M1", 70000, 35, 92, 35, 3),   # 55×.3+60×.2+100×.2+60×.2+100×.05+80×.05 = 69.5
              agent("M2", 100000, 40, 98, 45, 4)]  # 100×.3+80×.2+100×.2+100×.2+80×.05+60×.05 = 93
    table = [["金牌客服", 800], ["银牌客服", 500], ["铜牌客服", 300], ["未达标", 0]]
    pay = refresh(month_book(tmp_path, "medal", MONTH, agents,
                             tables={"基础绩效分数薪资表": table}))
    assert {k: (v["KPI得分"], v["等级"], money(v["应发工资"])) for k, v in pay.items()} == {
        "M1": (69.5, "未达标", 0), "M2": (93, "金牌客服", Decimal("800"))}


# --- S5 commission ------------------------------------------------------------------------

def test_s5_commission_half_up_and_small_team_prize(tmp_path):
    def agent(name, sales, deals, seconds, replied, very, ok):
        return {"工号": name, "姓名": name, "团队": "A", "成交订单金额": sales, "咨询人数": 100,
                "成交人数": deals, "平均响应时间(秒)": seconds, "所有咨询数": 100,
                "顾客问题的回复数": replied, "非常满意数": very, "满意数": ok,
                "参与满意度调查数": 100}
    agents = [agent("C1", 2005, 30, 20, 100, 50, 50),     # 15+15+20 = 50/50 → 100; 30% → 1‰
              agent("C2", 4010, 30, 30, 95, 44, 44),      # 12+4+8 = 24/50 → 48; 1‰
              agent("C3", 300000, 60, 20, 100, 50, 50)]   # 100; 60% → 6‰
    pay = refresh(month_book(tmp_path, "commission", MONTH, agents))
    # C1: 2005 × 0.001 × 100/100 = 2.005 → half-up 2.01 (a float round gives 2.00)
    assert money(pay["C1"]["提成奖金"]) == Decimal("2.01")
    # C2: 4010 × 0.001 × 48/100 = 1.9248 → 1.92
    assert (pay["C2"]["KPI得分"], money(pay["C2"]["提成奖金"])) == (48, Decimal("1.92"))
    # C3: 300000 × 0.006 × 1 = 1800; team of 3 (≤5) → one sales prize of 200 to the top seller
    assert money(pay["C3"]["应发工资"]) == Decimal("2000")
    assert [money(pay[c]["销售单项奖"]) for c in ("C1", "C2", "C3")] == [0, 0, Decimal("200")]


# --- S6 score-130 -------------------------------------------------------------------------

def test_s6_sample_agents_by_hand(tmp_path):
    pay = refresh(sample(tmp_path, "score-130"))
    # KF001: 良15 + 退款 29/467=6.2%→20 + 优20 + 优20 + 中10 + 全勤20 = 105, 突出 +3 = 108;
    # 1000 × 108/130 = 830.769… → 830.77; 2800 + 830.77 = 3630.77
    assert (pay["KF001"]["KPI得分"], money(pay["KF001"]["应发工资"])) == (108, Decimal("3630.77"))
    # KF008: 15+20(7%)+15+10+20+20 = 100, 客户投诉 −10 = 90 < 91 (70% of 130) → no KPI bonus
    assert (pay["KF008"]["KPI得分"], money(pay["KF008"]["KPI考核奖金"])) == (90, 0)
    # KF009: 110 → 846.15; gross 3646.15; 扣款 2000 capped at 20% = 729.23 → 2916.92, flagged
    kf009 = pay["KF009"]
    assert money(kf009["扣款"]) == Decimal("729.23")
    assert money(kf009["应发工资"]) == Decimal("2916.92")
    assert "扣款超20%" in kf009["备注"]


# --- S7 salary-80-20 ----------------------------------------------------------------------

def test_s7_80_20_half_up_and_minimum_wage_flag(tmp_path):
    def agent(name, *levels, count=0):
        items = ("处事能力", "工作协调", "工作激情", "服务与销售", "售后工作", "推广", "总结与建议")
        return {"工号": name, "姓名": name, "团队": "A", "迟到早退旷工请假次数": count,
                **dict(zip(items, levels, strict=True))}
    agents = [agent("S1", "B", "C", "B", "B", "一项1次否定", "B", "C"),
              {**agent("S3", "E", "E", "D", "E", "四项2次否定", "C", "D", count=3),
               "扣款(赔偿损失)": 100}]
    roster = [{"工号": "S1", "姓名": "S1", "团队": "A", "目标工资": 4325},
              {"工号": "S3", "姓名": "S3", "团队": "A", "目标工资": 3001}]
    pay = refresh(month_book(tmp_path, "salary-80-20", MONTH, agents, roster=roster,
                             params={"最低工资": 2500}))
    # S1: 80×.1+70×.1+80×.1+100×.1+80×.35+90×.15+60×.05+60×.05 = 80.5 → 系数 0.805
    # 4325×80% = 3460; 4325×20%×0.805 = 696.325 → half-up 696.33; total 4156.33
    s1 = pay["S1"]
    assert s1["KPI得分"] == 80.5
    assert (money(s1["目标工资80%部分"]), money(s1["KPI工资20%部分"])) == (Decimal("3460"),
                                                                   Decimal("696.33"))
    assert money(s1["应发工资"]) == Decimal("4156.33")
    # S3: every item at its worst tier → 0; pay 3001×80% = 2400.80 < 最低工资 2500 → the 100
    # deduction is not taken and the row is flagged, not silently topped up
    s3 = pay["S3"]
    assert (s3["KPI得分"], money(s3["应发工资"])) == (0, Decimal("2400.80"))
    assert "低于最低工资" in s3["备注"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
