"""S3 售前客服绩效KPI考核表(细则) — team-relative 客单价, KPI_DEDUCT counts, rank bonus pool."""

from __future__ import annotations

from kpi_xl.templates.model import Calc, Grade, HistoryRule, Input, Item, Param, PayLine, Template
from kpi_xl.templates.specs.common import (
    AT_LEAST_ONE,
    FMT_MONEY,
    FMT_POINTS,
    FMT_RATE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    TEAM,
    drawn,
    occasional,
    ready_ratio,
)

TEAM_AVG = "(SUMIF({col:team},{c:team},{col:%s})/COUNTIF({col:team},{c:team}))"

INPUTS = (
    ID, NAME, TEAM,
    Input("sales", "个人销售额", "money", note="本人落实且付款的销售额 (元); 绩效分相同时按此排名",
          sample=lambda r: r.uniform(50_000, 260_000, 100)),
    Input("consults", "询单人数", "count", optional=True,
          sample=lambda r: r.denominator(r.num("orders"), "conversion")),
    Input("orders", "下单人数", "count",
          sample=lambda r: max(1, round(r.num("sales") / (260 * float(r.item("aov_relative")))))),
    Input("conversion_in", "询单转化率(可直接填)", "rate", optional=True,
          note="后台有现成的转化率就填这里; 否则留空, 按 下单人数/询单人数 计算",
          sample=ready_ratio("orders", "consults")),
    Input("received", "接待人数", "count", sample=lambda r: r.uniform(500, 1_600)),
    Input("replied", "回复人数", "count", sample=lambda r: r.numerator(r.num("received"), "reply")),
    Input("response", "平均响应时间(秒)", "seconds", sample=drawn("response")),
    Input("late", "迟到早退次数(15分钟内)", "count",
          note="迟到/早退 15 分钟内每次扣 1 分; 当月累计满 3 次, 每次扣 15 分",
          sample=occasional({2: 1, 5: 2, 9: 3, 21: 1})),
    Input("handover", "工作转交他人次数", "count",
          note="非特殊情况将个人职责范围内的工作转交他人: 每月 2 次不扣分, 超过部分每次扣 3 分",
          sample=occasional({3: 1, 7: 3, 11: 4, 16: 2})),
    Input("handover_complaints", "未交接清楚致投诉次数", "count",
          note="团队之间未交接清楚导致客户投诉: 每月 2 次不扣分, 超过部分双方每次各扣 2 分",
          sample=occasional({6: 3, 12: 1})),
    Input("online_hours", "旺旺在线时长(小时)", "hours",
          sample=lambda r: round(r.rng.uniform(172, 178) * (1.6 if r.index % 9 == 0 else (
              1.38 if r.index % 9 == 4 else 1.0)), 1)),
    Input("praise", "点名表扬次数", "count", sample=occasional({1: 1, 8: 2, 14: 1})),
    Input("overtime", "主动非工作时间处理次数", "count", sample=occasional({0: 1, 10: 2})),
    LOSS,
)

ITEMS = (
    Item("conversion", "询单转化率", definition="下单人数 / 询单人数",
         rule="≥60%:100; [55%,60%):85; [45%,55%):70; [35%,45%):50; <35%:0",
         weight=0.25, value="conversion",
         assumption="原表只给档位 ≥60%、≥55%、≥45%、≥35%、<35%, 未给分值与权重; 取 100/85/70/50/0, "
                    "权重 25%。",
         sample=((0.605, 0.7), (0.555, 0.595), (0.455, 0.545), (0.355, 0.445), (0.25, 0.345)),
         sample_weights=(3, 4, 5, 2, 1)),
    Item("aov_relative", "客单价", definition="个人客单价 / 本团队平均客单价 (客单价 = 个人销售额 /"
                                           " 下单人数)",
         rule="≥100%:100; [90%,100%):80; [80%,90%):60; <80%:0",
         weight=0.15, value="aov_relative",
         assumption="原表按团队平均客单价分档 (≥平均; 平均的90%–100%; 80%–90%; <80%), 未给分值与权"
                    "重; "
                    "取 100/80/60/0, 权重 15%。",
         sample=((1.05, 1.3), (0.91, 0.99), (0.81, 0.89), (0.6, 0.78)),
         sample_weights=(4, 4, 3, 1)),
    Item("reply", "回复率", definition="回复人数 / 接待人数",
         rule="≥98%:100; [95%,98%):80; [90%,95%):60; <90%:0", weight=0.15, value="reply",
         assumption="原表未给分值与权重; 取 100/80/60/0, 权重 15%。",
         sample=((0.982, 1.0), (0.952, 0.978), (0.905, 0.945), (0.82, 0.895)),
         sample_weights=(5, 4, 2, 1)),
    Item("response", "响应时间", definition="平均响应时间 (秒), 越短越好",
         rule="≤15s:100; 15s<N<22s:80; 22s≤N<30s:60; N≥30s:0", weight=0.15, value="response",
         lower_is_better=True,
         assumption="原表只给 ≤15s、15–22s、22–30s 三档; 30 秒及以上取 0 分; 分值取 100/80/60, 权重"
                    " 15%。",
         sample=((9.0, 14.5), (15.5, 21.5), (22.5, 29.5), (30.5, 45.0)),
         sample_weights=(3, 5, 3, 1)),
    Item("teamwork", "团队协作", definition="满分 20 分 (权重 20%): 工作转交他人 免2次 每次-3; "
         "未交接清楚致投诉 免2次 每次-2; 扣完为止",
         rule="", weight=0.20, value="teamwork_deduct",
         points="MAX(0,100+{c:teamwork_deduct}*100/{p:teamwork_full})"),
    Item("attendance", "考勤", definition="迟到早退 15 分钟内每次 -1; 当月累计满 3 次每次 -15 (从 1"
                                        "00 分扣)",
         rule="", weight=0.10, value="late",
         points="MAX(0,100+KPI_DEDUCT({c:late},{p:late_rule}))"),
)

CALCS = (
    Calc("conversion", "询单转化率", "KPI_RATE({c:conversion_in},{c:orders},{c:consults})", "value",
         FMT_RATE),
    Calc("aov", "客单价", 'KPI_RATE("",{c:sales},{c:orders})', "value", FMT_MONEY),
    Calc("aov_relative", "客单价/团队平均", "{c:aov}/" + TEAM_AVG % "aov", "value", FMT_RATE),
    Calc("reply", "回复率", 'KPI_RATE("",{c:replied},{c:received})', "value", FMT_RATE),
    Calc("teamwork_deduct", "团队协作扣分",
         "KPI_DEDUCT({c:handover},{p:handover_rule})+KPI_DEDUCT({c:handover_complaints},"
         "{p:complaint_rule})", "value", FMT_POINTS),
    Calc("online_above", "在线时长高于团队平均",
         "{c:online_hours}/" + TEAM_AVG % "online_hours" + "-1",
         "value", FMT_RATE),
    Calc("online_bonus", "在线时长加分", "KPI_TIER({c:online_above},{p:online_rule})", "adjust",
         FMT_POINTS),
    Calc("praise_bonus", "表扬加分", "{c:praise}*{p:praise_points}", "adjust", FMT_POINTS),
    Calc("overtime_bonus", "主动加班加分", "{c:overtime}*{p:overtime_points}", "adjust",
         FMT_POINTS),
    Calc("pool_share", "绩效奖金",
         "KPI_POOL({p:pool},{col:score},{col:sales},{p:pool_split})", "pay", FMT_MONEY,
         array=True, guard=False, width=13),
)

PARAMS = (
    Param("late_rule", "考勤扣分 (迟到早退15分钟内)", "每次-1; 满3次每次-15", notation="deduct",
          note="当月累计满 3 次起每次按 15 分扣"),
    Param("handover_rule", "工作转交他人", "免2次; 每次-3", notation="deduct"),
    Param("complaint_rule", "未交接清楚致投诉 (双方各扣)", "免2次; 每次-2", notation="deduct"),
    Param("teamwork_full", "团队协作满分", 20, "0", "团队协作项满分 20 分、权重 20%: 扣 1 分即总分"
                                              "少 1 分",
          kind="points"),
    Param("online_rule", "在线时长加分", "≥30%:3; [20%,30%):2; <20%:0", notation="tier",
          note="旺旺平均在线时长高于团队平均值 30% 以上加 3 分, 20% 以上加 2 分", kind="rate"),
    Param("praise_points", "点名表扬 (每次加分)", 2, "0", kind="points"),
    Param("overtime_points", "主动利用非工作时间处理公司事务 (每次加分)", 2, "0",
          kind="points"),
    Param("silent_sales", "本月静默下单销售额", None, FMT_MONEY, "每月填写 (元)",
          sample_value=1_860_000, kind="money"),
    Param("pool_rate", "绩效奖金提成比例", 0.006, "0.0%", "静默下单销售额的千分之六", kind="rate"),
    Param("pool", "本月绩效奖金池", "=C{silent_sales}*C{pool_rate}", FMT_MONEY,
          "公式: 静默下单销售额 × 提成比例", defined_name="奖金池", kind="money"),
    Param("pool_split", "奖金池分配", "1:40%+200; 2:30%+100; 其余:30%", notation="split",
          note="第一名 40% + 200 元; 第二名 30% + 100 元; 其余 30% 由剩余人员平均分配; 分数相同按个"
               "人销售额排名"),
    Param("promotion_months", "晋升: 连续月数", 3, "0", "连续 3 个月达到中级或高级客服分值, 升职加"
                                                  "薪 (刷新时按 历史 表提示)",
          kind="count", bounds=AT_LEAST_ONE),
    Param("promotion_grades", "晋升: 等级", "中级客服,高级客服", "General"),
    MIN_WAGE,
)

TEMPLATE = Template(
    id="presales-detail",
    source="S3 售前客服绩效KPI考核表(细则)",
    title="售前客服绩效KPI考核表(细则)",
    purpose="售前客服细则考核: 转化率、相对团队平均的客单价、回复率、响应时间、团队协作与考勤按权重"
            "计分, "
            "另有加分项; 绩效奖金池 (静默下单销售额 6‰) 按名次分配: 第一名 40%+200 元, 第二名 30%+1"
            "00 元, "
            "其余 30% 平均分配。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("高级客服", 90), Grade("中级客服", 80), Grade("初级客服", 70),
            Grade("不合格", None)),
    grade_open_top=True,
    grade_assumption="原表提到“中级或高级客服分值要求”但未给分值; 沿用淘宝客服表 (S1) 的分段, "
                     "加分后可超过 100, 故最高档写作 ≥90。",
    pay_lines=(PayLine("绩效奖金", "pool_share", pool="all"),),
    history_rules=(HistoryRule("promotion", "run", flag="晋升", times="promotion_months",
                               grades="promotion_grades"),),
    params=PARAMS,
    teams=("售前一组", "售前二组", "售前三组"),
    posts=("售前客服",),
    monthly_steps=("在 规则 表填本月静默下单销售额 (奖金池随之计算)。",
                   "考勤、转交、表扬、加班按次数填写; 扣分与加分由公式按 规则 计算。"),
    notes=("绩效奖金列是整列的数组公式 (KPI_POOL): 它按全体得分排名分配奖金池, "
           "不要单独改其中一格。",),
)
