"""S2 售后服务员绩效考核表 — points items, grades A–E, 绩效工资 = 系数 × Q (五级工资制)."""

from __future__ import annotations

from kpi_xl.templates.model import Calc, Grade, Input, Item, Param, PayLine, Table, Template
from kpi_xl.templates.specs.common import (
    FMT_MONEY,
    FMT_SCORE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    TEAM,
    drawn,
)

DETAIL_LEVELS = ("5级", "4级", "3级", "2级", "1级", "部分不完整", "严重缺失")

INPUTS = (
    ID, NAME, TEAM,
    Input("csat", "客户满意度(分)", "score", note="客户满意度调查得分, 0–100 分",
          sample=drawn("csat")),
    Input("detail", "服务细致(级别)", "choice", DETAIL_LEVELS,
          note="1级 完成KPI服务流程; 2级 主动问询; 3级 无客户投诉; 4级 全面与实诚服务; 5级 超出预期"
               "; "
               "或 部分不完整 / 严重缺失",
          sample=drawn("detail")),
    Input("visit_done", "回访完成目标值(是/否)", "yesno",
          note="有回访标准、流程, 重点客户每月回访一次, 完成目标值要求 → 是",
          sample=lambda r: "是" if r.tiers["visit@tier"] == 0 else "否"),
    Input("visit_rate", "回访率", "rate", note="填 92% 或 0.92",
          sample=lambda r: r.item("visit")),
    Input("complaint_misses", "投诉处理未达标项数", "count",
          note="三项要求: 2小时内响应、3个工作日解决、解决率100%; 填未满足的项数 0–3",
          sample=drawn("complaints")),
    LOSS,
)

ITEMS = (
    Item("csat", "客户满意度", definition="客户满意度在90分以上20分, 85分以上10分, 80分以上5分, 低"
                                     "于80分0分",
         rule="≥90:20; [85,90):10; [80,85):5; <80:0", value="csat",
         sample=((90.5, 99.0), (85.5, 89.5), (80.5, 84.5), (70.0, 79.5)),
         sample_weights=(5, 4, 2, 1)),
    Item("detail", "服务细致", definition="按服务级别评分 (最高 50 分)",
         rule="5级:50; 4级:40; 3级:30; 2级:20; 1级:10; 部分不完整:10; 严重缺失:0", value="detail",
         assumption="原表只写到“3级30分…”; 4级 40、5级 50 按每级 10 分推出 (本项权重 50%)。",
         sample=DETAIL_LEVELS, sample_weights=(2, 4, 5, 3, 1, 1, 1)),
    Item("visit", "客户回访",
         definition="完成目标值要求 20 分; 未完成时按回访率: ≥90% 10 分; 无标准且低于 80% 0 分",
         rule="≥90%:10; [80%,90%):5; <80%:0", value="visit_rate",
         points="IF({c:visit_done}=\"是\",{p:visit_full},KPI_TIER({c:visit_rate},{rule:visit}))",
         assumption="原表未给回访率 80%–90% 的分数; 取 5 分。",
         sample=((0.93, 0.99), (0.905, 0.98), (0.805, 0.895), (0.6, 0.795)),
         sample_weights=(4, 3, 2, 1)),
    Item("complaints", "投诉处理",
         definition="客户投诉在2小时内响应, 3个工作日解决, 解决率100%: 完成所有要求20分, 任一项没有"
                    "满足扣5分",
         rule="<1:20; =1:15; =2:10; ≥3:5", value="complaint_misses",
         sample=(0, 1, 2, 3), sample_weights=(6, 3, 1, 1)),
)

CALCS = (
    Calc("q", "绩效工资基数Q", "INDEX({t:five_level:2},MATCH({emp:level},{t:five_level:1},0))",
         "lookup", FMT_MONEY),
    Calc("score", "绩效得分", "MIN({p:score_cap},SUM({points}))", "score", FMT_SCORE),
    Calc("coefficient", "绩效工资系数", "KPI_TIER({c:grade},{p:coefficients})", "pay", "0.0"),
    Calc("perf_pay", "绩效工资收入", 'KPI_PAY("等级系数",{c:q},{c:grade},{p:coefficients})', "pay",
         FMT_MONEY),
)

PARAMS = (
    Param("coefficients", "绩效工资系数 (按等级)", "A:1.2; B:1; C:0.8; D:0.5; E:0", notation="tier",
          note="绩效工资收入 = 系数 × Q", defined_name="绩效工资系数"),
    Param("visit_full", "客户回访: 完成目标值得分", 20, "0", kind="points"),
    MIN_WAGE,
    Param("score_cap", "绩效得分上限", 100, "0",
          assumption="原表各项最高分相加为 110 (20+50+20+20); 绩效得分封顶 100, "
                     "与等级 0–100 对应。", kind="points"),
)

TABLES = (
    Table("grade_names", "等级名称", ("等级", "名称", "绩效工资收入"),
          (("A", "优秀", "1.2Q"), ("B", "胜任", "Q"), ("C", "良好", "0.8Q"), ("D", "及格", "0.5Q"),
           ("E", "差级", "0"))),
    Table("five_level", "五级工资制: 绩效工资 Q", ("工资级别", "绩效工资Q (元)"),
          (("一级", 600), ("二级", 800), ("三级", 1000), ("四级", 1200), ("五级", 1500)),
          formats=("@", FMT_MONEY),
          assumption="原表只写“Q为该岗位五级工资制中对应的绩效工资数额”, 未给金额; 金额为示例, 请按"
                     "公司工资制修改。"
                     "员工表 工资级别 列按本表取 Q。"),
)

TEMPLATE = Template(
    id="after-sales",
    source="S2 售后服务员绩效考核表",
    title="售后服务员绩效考核表",
    purpose="售后客服的月度考核: 客户满意度、服务细致、客户回访、投诉处理四项按分累加为绩效得分, "
            "得分定 A–E 等级, 绩效工资 = 等级系数 × Q (Q 为岗位五级工资制中的绩效工资)。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("A", 90), Grade("B", 80), Grade("C", 70), Grade("D", 60), Grade("E", None)),
    pay_lines=(PayLine("绩效工资系数", "coefficient", money=False),
               PayLine("绩效工资收入", "perf_pay")),
    params=PARAMS,
    tables=TABLES,
    roster=(Input("level", "工资级别", "choice", ("一级", "二级", "三级", "四级", "五级"),
                  note="五级工资制中的级别, 决定绩效工资 Q", exact=True,
                  sample=lambda r: ("二级", "三级", "三级", "四级", "一级", "五级")[r.index % 6]),),
    teams=("售后一组", "售后二组", "退换货组"),
    posts=("售后客服",),
    monthly_steps=("服务细致、回访、投诉处理由主管按月评定后填写。",),
)
