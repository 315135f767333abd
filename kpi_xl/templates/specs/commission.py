"""S5 客服KPI考核 — 提成 = 成交订单金额 × 提点比例 (by 咨询转化率) × 绩效得分 / 100; prizes."""

from __future__ import annotations

from kpi_xl.templates.model import (
    Calc,
    Draw,
    Grade,
    HistoryRule,
    Input,
    Item,
    Param,
    PayLine,
    Table,
    Template,
)
from kpi_xl.templates.specs.common import (
    FMT_MONEY,
    FMT_RATE,
    FMT_SCORE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    TEAM,
    drawn,
    ready_ratio,
)

SALES_RANK = "RANK({c:amount},{col:amount})"

INPUTS = (
    ID, NAME, TEAM,
    Input("amount", "成交订单金额", "money", note="按淘宝后台软件拉出的销售核算 (元)",
          sample=lambda r: r.uniform(80_000, 420_000, 10)),
    Input("consults", "咨询人数", "count", optional=True,
          sample=lambda r: r.denominator(r.num("buyers"), "conversion")),
    Input("buyers", "成交人数", "count", sample=lambda r: r.uniform(250, 900)),
    Input("conversion_in", "咨询转化率(可直接填)", "rate", optional=True,
          note="成功率 = 成交人数/咨询人数; 后台有现成数就填这里", sample=ready_ratio("buyers", "co"
                                                                           "nsults")),
    Input("response", "平均响应时间(秒)", "seconds", sample=drawn("response")),
    Input("questions", "所有咨询数", "count", sample=lambda r: r.uniform(800, 2_500)),
    Input("answered", "顾客问题的回复数", "count",
          sample=lambda r: r.numerator(r.num("questions"), "reply")),
    Input("very_satisfied", "非常满意数", "count",
          sample=lambda r: r.numerator(r.num("surveys"), "satisfaction") - int(r.num("satisfied"))),
    Input("satisfied", "满意数", "count", sample=lambda r: int(r.num("surveys") * 0.25)),
    Input("surveys", "参与满意度调查数", "count", sample=lambda r: r.uniform(120, 400)),
    LOSS,
)

ITEMS = (
    Item("response", "平均响应时间", definition="每次回复时间的平均值 (秒), 越短越好; 权重 15%",
         rule="<30:15; [30,40):12; [40,50):8; [50,60):4; ≥60:0", value="response",
         lower_is_better=True,
         assumption="原表最后一档写“平均响应时间>60 0分”, 恰好 60 秒未说明; 取 ≥60 为 0 分。",
         sample=((12.0, 29.5), (30.5, 39.5), (40.5, 49.5), (50.5, 59.5), (60.5, 80.0)),
         sample_weights=(5, 4, 3, 1, 1)),
    Item("reply", "旺旺回复率", definition="顾客问题的回复数 / 所有咨询数; 权重 15%",
         rule="≥100%:15; [98%,100%):12; [96%,98%):8; [94%,96%):4; [90%,94%):2; <90%:0",
         value="reply",
         sample=(1.0, (0.982, 0.998), (0.962, 0.978), (0.942, 0.958), (0.905, 0.938), (0.8, 0.895)),
         sample_weights=(3, 5, 4, 2, 1, 1)),
    Item("satisfaction", "客户满意度", definition="(非常满意+满意) / 所有顾客参与的满意度调查数; 权"
                                             "重 20%",
         rule="≥95%:20; [92%,95%):16; [90%,92%):12; [88%,90%):8; [85%,88%):4; <85%:0",
         value="satisfaction",
         sample=((0.952, 0.99), (0.922, 0.948), (0.902, 0.918), (0.882, 0.898), (0.852, 0.878),
                 (0.7, 0.845)),
         sample_weights=(4, 5, 3, 2, 1, 1)),
)

CALCS = (
    Calc("conversion", "咨询转化率", "KPI_RATE({c:conversion_in},{c:buyers},{c:consults})",
         "value", FMT_RATE),
    Calc("reply", "旺旺回复率", 'KPI_RATE("",{c:answered},{c:questions})', "value", FMT_RATE),
    Calc("satisfaction", "客户满意度", 'KPI_RATE("",{c:very_satisfied}+{c:satisfied},{c:surveys})',
         "value", FMT_RATE),
    Calc("score", "绩效得分", "ROUND(SUM({points})*100/{p:points_total},2)", "score", FMT_SCORE),
    Calc("commission_rate", "提点比例", "KPI_TIER({c:conversion},{p:commission_rule})", "pay",
         "0.00%"),
    Calc("commission", "提成奖金",
         'KPI_PAY("提成",{c:amount},{c:score},{p:commission_rule},{c:conversion})', "pay",
         FMT_MONEY),
    Calc("sales_prize", "销售单项奖",
         f"IF(COUNT({{col:amount}})<={{p:small_team}},IF({SALES_RANK}=1,{{p:small_prize}},0),"
         f"IFERROR(INDEX({{t:sales_prizes:2}},{SALES_RANK}),0))", "pay", FMT_MONEY),
)

PARAMS = (
    Param("commission_rule", "提点比例 (按咨询转化率)",
          "≥60%:6‰; [55%,60%):4‰; [50%,55%):3‰; [40%,50%):2‰; <40%:1‰", notation="tier",
          assumption="原表 D 档印作“2%”, 夹在 ‰ 档之间, 按笔误读作 2‰。", defined_name="提点比例",
          kind="rate"),
    Param("points_total", "本表考核项目满分合计", 50, "0",
          assumption="原表只列出 响应时间 15%、回复率 15%、满意度 20% 三项 (合计 50 分), 其余权重未"
                     "给; "
                     "绩效得分 = 三项得分之和 ÷ 50 × 100。若增加项目, 请改此满分。",
          kind="points"),
    Param("small_team", "小团队人数 (≤ 此人数只设一名)", 5, "0",
          assumption="原表写“人少的话只设置一名, 奖金金额为 200”, 未说明多少算人少; "
                     "取 5 人及以下。", kind="count"),
    Param("small_prize", "小团队单项奖金额", 200, FMT_MONEY, kind="money"),
    MIN_WAGE,
)

TABLES = (
    Table("sales_prizes", "每月单项奖 (月销售额前三名)", ("名次", "奖金 (元)"),
          ((1, 300), (2, 200), (3, 100)), formats=("0", FMT_MONEY)),
    Table("quarter_prizes", "季度优异奖 (季度绩效总分前三名, 次季度第一个月发放)", ("名次", "奖金 ("
                                                                   "元)"),
          ((1, 800), (2, 600), (3, 300)), formats=("0", FMT_MONEY),
          note="季度总分 = 三个月绩效得分之和 (取自 历史 表), 由刷新程序在次季度第一个月计算。"),
)

TEMPLATE = Template(
    id="commission",
    source="S5 客服KPI考核",
    title="客服KPI考核 (提成)",
    purpose="售前客服提成: 应发奖金 = 成交订单金额 × 提点比例 × 绩效得分 / 100; 提点比例按咨询转化"
            "率 1‰–6‰; "
            "绩效得分来自响应时间、旺旺回复率、客户满意度。另有每月销售前三名单项奖与季度优异奖。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("优秀", 90), Grade("良好", 75), Grade("合格", 60), Grade("不合格", None)),
    grade_assumption="原表没有等级; 为统计与概览设 优秀 ≥90、良好 [75,90)、合格 [60,75)、不合格 <60"
                     ", 不影响奖金。",
    pay_lines=(PayLine("提点比例", "commission_rate", money=False),
               PayLine("提成奖金", "commission"), PayLine("销售单项奖", "sales_prize"),
               PayLine("季度优异奖", "quarter_prize", history=True)),
    history_rules=(HistoryRule("quarter_prize", "quarter_prize", table="quarter_prizes"),),
    params=PARAMS,
    tables=TABLES,
    score_bins=("<60", "[60,75)", "[75,90)", "≥90"),
    teams=("售前一组", "售前二组"),
    draws=(Draw("conversion", ((0.605, 0.7), (0.555, 0.595), (0.505, 0.545), (0.405, 0.495),
                               (0.3, 0.395)), (2, 3, 4, 4, 1)),),
    posts=("售前客服",),
)
