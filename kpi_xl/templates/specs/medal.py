"""S4 客服KPI绩效考核表 — six weighted KPIs, 金牌/银牌/铜牌, a special-cases table kept as text."""

from __future__ import annotations

from kpi_xl.templates.model import Calc, Grade, Input, Item, Param, PayLine, Table, Template
from kpi_xl.templates.specs.common import (
    FMT_MONEY,
    FMT_RATE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    TEAM,
    drawn,
    ready_ratio,
)

INPUTS = (
    ID, NAME, TEAM,
    Input("plan", "计划销售额", "money", sample=lambda r: r.uniform(50_000, 180_000, 1_000)),
    Input("actual", "实际销售额", "money",
          sample=lambda r: round(r.num("plan") * float(r.item("completion")), 2)),
    Input("consults", "咨询人数", "count", optional=True,
          sample=lambda r: r.denominator(r.num("paid"), "conversion")),
    Input("paid", "最终下单付款人数", "count",
          sample=lambda r: r.denominator(r.num("actual"), "aov")),
    Input("conversion_in", "最终咨询付款转化率(可直接填)", "rate", optional=True,
          note="后台有现成的转化率就填这里; 否则留空, 按 最终下单付款人数/咨询人数 计算",
          sample=ready_ratio("paid", "consults")),
    Input("received", "总接待客户数", "count", sample=lambda r: r.uniform(400, 1_400)),
    Input("replied", "回复过的客户数", "count",
          sample=lambda r: r.numerator(r.num("received"), "reply")),
    Input("response", "平均响应时间(秒)", "seconds", sample=drawn("response")),
    Input("late", "迟到早退次数", "count", note="值班人员按规定工作时间全勤出勤填 0",
          sample=drawn("attendance")),
    LOSS,
)

ITEMS = (
    Item("completion", "成交销售额", definition="实际销售额 / 计划销售额",
         rule="X≥100%:100; 90%≤X<100%:85; 80%≤X<90%:70; 70%≤X<80%:55; 60%≤X<70%:40; "
              "50%≤X<60%:25; 40%≤X<50%:10; X<40%:0",
         weight=0.30, value="completion",
         sample=((1.005, 1.2), (0.905, 0.995), (0.805, 0.895), (0.705, 0.795), (0.605, 0.695),
                 (0.505, 0.595), (0.405, 0.495), (0.25, 0.395)),
         sample_weights=(6, 6, 5, 3, 2, 1, 1, 1)),
    Item("conversion", "最终咨询付款转化率", definition="最终下单付款人数 / 咨询人数",
         rule="≥45%:100; [40%,45%):80; [35%,40%):60; <35%:0", weight=0.20, value="conversion",
         sample=((0.455, 0.55), (0.405, 0.445), (0.355, 0.395), (0.25, 0.345)),
         sample_weights=(4, 5, 3, 1)),
    Item("aov", "客单价", definition="本客服落实且最终付款: 销售额 / 下单付款人数 (有效客单价)",
         rule="≥250:100; [230,250):80; [210,230):60; <210:0", weight=0.20, value="aov",
         sample=((255, 320), (234, 246), (214, 226), (165, 205)), sample_weights=(4, 4, 3, 1)),
    Item("reply", "客服回复率", definition="回复过的客户 / 总接待客户数",
         rule="≥98%:100; [95%,98%):80; [92%,95%):60; <92%:0", weight=0.20, value="reply",
         sample=((0.982, 1.0), (0.952, 0.978), (0.922, 0.948), (0.85, 0.915)),
         sample_weights=(5, 4, 2, 1)),
    Item("response", "客服响应时间", definition="平均响应时间 (秒), 越短越好",
         rule="≤35:100; (35,45]:80; (45,55]:60; >55:0", weight=0.05, value="response",
         lower_is_better=True,
         sample=((15.0, 34.5), (35.5, 44.5), (45.5, 54.5), (55.5, 75.0)),
         sample_weights=(5, 4, 2, 1)),
    Item("attendance", "出勤率", definition="值班人员按规定工作时间全勤出勤 100; 发生≤3次迟到、早退"
                                         " 80; >3次 60",
         rule="<1:100; ≤3:80; >3:60", value="late", weight=0.05,
         assumption="原表此行文字残缺; 读作 全勤 100、迟到早退 ≤3 次 80、>3 次 60, 按迟到早退次数计"
                    "。",
         sample=(0, (1, 3), (4, 6)), sample_weights=(8, 3, 1)),
)

CALCS = (
    Calc("completion", "成交销售额完成率", 'KPI_RATE("",{c:actual},{c:plan})', "value", FMT_RATE),
    Calc("conversion", "最终咨询付款转化率", "KPI_RATE({c:conversion_in},{c:paid},{c:consults})",
         "value", FMT_RATE),
    Calc("aov", "客单价", 'KPI_RATE("",{c:actual},{c:paid})', "value", FMT_MONEY),
    Calc("reply", "客服回复率", 'KPI_RATE("",{c:replied},{c:received})', "value", FMT_RATE),
    Calc("medal_pay", "基础绩效薪资", "KPI_TIER({c:grade},{tbl:medal_pay})", "pay",
         FMT_MONEY),
)

SPECIAL_CASES = (
    ("中午吃饭", "交接班 (安排轮流就餐, 保证有人在线)"),
    ("开会或培训", "早晚班集中培训, 其间由当班客服接待"),
    ("周末接旺", "计入当班客服"),
    ("其他岗位参与", "业绩绑定当班客服"),
    ("外出旅游或活动", "全场自助; 未支付金额的催款或联系计入当班客服"),
    ("大型促销活动", "提前做好应对准备"),
    ("法定节假日", "不计入, 按照加班待遇归给加班者"),
    ("其他未考虑到情况", "视情况而定"),
)

TEMPLATE = Template(
    id="medal",
    source="S4 客服KPI绩效考核表 (金牌/银牌/铜牌)",
    title="客服KPI绩效考核表",
    purpose="客服绩效薪资评分: 成交销售额 30%、最终咨询付款转化率 20%、客单价 20%、客服回复率 20%、"
            "响应时间 5%、出勤率 5%, 按总分评金牌/银牌/铜牌客服, 对应基础绩效薪资。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("金牌客服", 90), Grade("银牌客服", 80), Grade("铜牌客服", 70),
            Grade("未达标", None)),
    grade_assumption="原表只有金牌 [90,100]、银牌 [80,90)、铜牌 [70,80); 低于 70 记为“未达标”。",
    pay_lines=(PayLine("基础绩效薪资", "medal_pay"),),
    tables=(
        Table("medal_pay", "基础绩效分数薪资表", ("客服等级", "基础绩效薪资 (元)"),
              (("金牌客服", None), ("银牌客服", None), ("铜牌客服", None), ("未达标", 0)),
              formats=("@", FMT_MONEY),
              assumption="原表有“基础绩效分数薪资表”但没有金额; 金额空白待 HR 填写 (未填时 基础绩效"
                         "薪资 列显示错误提示)。",
              sample_rows=(("金牌客服", 800), ("银牌客服", 500), ("铜牌客服", 300), ("未达标", 0))),
        Table("special_cases", "特殊情况处理方案", ("情况类型", "处理方案"), SPECIAL_CASES,
              assumption="原表此表文字错乱; 按最接近的读法整理, 仅作说明, 不参与计算。"),
    ),
    params=(Param("late_note", "出勤记录来源", "观察记录", "General", "出勤率按观察记录填写迟到早退"
                                                            "次数"),
            MIN_WAGE),
    teams=("客服一组", "客服二组", "夜班组"),
    posts=("售前客服",),
)
