"""S1 淘宝客服员工KPI绩效考核表 — the flagship: eight weighted KPIs, 差评 deductions, S1 pay."""

from __future__ import annotations

from kpi_xl.templates.model import (
    Calc,
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
    AT_LEAST_ONE,
    FMT_MONEY,
    FMT_POINTS,
    FMT_RATE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    SATISFACTION_LEVELS,
    TEAM,
    drawn,
    occasional,
    ready_ratio,
)

INPUTS = (
    ID, NAME, TEAM,
    Input("plan", "计划销售额", "money", sample=lambda r: r.uniform(60_000, 200_000, 1_000)),
    Input("actual", "实际销售额", "money",
          sample=lambda r: round(r.num("plan") * float(r.item("completion")), 2)),
    Input("consults", "咨询人数", "count", optional=True,
          sample=lambda r: r.denominator(r.num("orders"), "conversion")),
    Input("orders", "最终下单人数", "count",
          sample=lambda r: r.denominator(r.num("actual"), "aov")),
    Input("conversion_in", "询单转化率(可直接填)", "rate", optional=True,
          note="后台有现成的询单转化率就填这里 (47% 或 0.47); 否则留空, 按 最终下单人数/咨询人数 计"
               "算",
          sample=ready_ratio("orders", "consults")),
    Input("aov_in", "客单价(可直接填)", "money", optional=True,
          note="后台有现成的客单价就填这里; 否则留空, 按 实际销售额/最终下单人数 计算",
          sample=ready_ratio("actual", "orders", every=7, digits=2)),
    Input("received", "总接待客户数", "count", optional=True,
          sample=lambda r: r.uniform(400, 1_500)),
    Input("replied", "回复过的旺旺数", "count", optional=True,
          sample=lambda r: r.numerator(r.num("received"), "reply")),
    Input("reply_in", "回复率(可直接填)", "rate", optional=True,
          note="后台有现成的回复率就填这里; 否则留空, 按 回复过的旺旺数/总接待客户数 计算",
          sample=ready_ratio("replied", "received", every=6)),
    Input("response", "平均响应时间(秒)", "seconds", sample=drawn("response")),
    Input("assist", "协助跟进服务金额", "money", note="客户下单后的跟进服务金额 (催款或处理售后), "
                                              "元",
          sample=drawn("assist")),
    Input("execution", "执行力", "choice", SATISFACTION_LEVELS, note="上级主管打分",
          sample=drawn("execution")),
    Input("satisfaction", "满意度", "rate", note="旺旺满意度评价: 填 96% 或 0.96",
          sample=drawn("satisfaction")),
    Input("bad_reviews", "差评数", "count", sample=occasional({4: 1, 13: 1})),
    Input("full_attendance", "全勤(是/否)", "yesno",
          sample=lambda r: "否" if r.index % 7 == 2 else "是"),
    LOSS,
)

ITEMS = (
    Item("completion", "成交额完成度", symbol="X", definition="实际销售额 / 计划销售额",
         rule="X≥100%:100; 90%≤X<100%:85; 80%≤X<90%:70; 70%≤X<80%:55; 60%≤X<70%:40; "
              "50%≤X<60%:25; 40%≤X<50%:10; X<40%:0",
         weight=0.30, value="completion",
         sample=((1.005, 1.25), (0.905, 0.995), (0.805, 0.895), (0.705, 0.795), (0.605, 0.695),
                 (0.505, 0.595), (0.405, 0.495), (0.2, 0.395)),
         sample_weights=(10, 8, 4, 2, 1, 1, 1, 1)),
    Item("conversion", "询单转化率", symbol="Y", definition="最终下单人数 / 咨询人数",
         rule="Y≥50%:100; 45%≤Y<50%:80; 40%≤Y<45%:60; Y<40%:0",
         weight=0.20, value="conversion",
         sample=((0.505, 0.62), (0.455, 0.495), (0.405, 0.445), (0.28, 0.395)),
         sample_weights=(6, 5, 2, 1)),
    Item("aov", "客单价", symbol="M",
         definition="实际销售额 / 最终下单人数 (本旺旺落实且最终付款, 有效客单价)",
         rule="M≥250:100; 230≤M<250:80; 210≤M<230:60; M<210:0",
         weight=0.10, value="aov",
         sample=((255, 320), (234, 246), (214, 226), (165, 205)), sample_weights=(6, 4, 2, 1)),
    Item("reply", "旺旺回复率", symbol="Z", definition="回复过的旺旺数 / 总接待客户数",
         rule="Z≥98%:100; 95%≤Z<98%:80; 92%≤Z<95%:60; Z<92%:0",
         weight=0.10, value="reply",
         sample=((0.982, 1.0), (0.952, 0.978), (0.922, 0.948), (0.85, 0.915)),
         sample_weights=(8, 4, 2, 1)),
    Item("response", "旺旺响应时间", symbol="N", definition="平均响应时间 (秒), 越短越好",
         rule="N≤30s:100; 30s<N≤45s:80; 45s<N≤55s:60; N>55s:0",
         weight=0.05, value="response", lower_is_better=True,
         sample=((12.0, 29.5), (30.5, 44.5), (45.5, 54.5), (55.5, 75.0)),
         sample_weights=(8, 4, 2, 1)),
    Item("assist", "协助跟进服务", symbol="P", definition="客户下单后的跟进服务金额 (催款或处理售后"
                                                    ")",
         rule="P≥4W:100; 3W≤P<4W:80; 2W≤P<3W:60; P<2W:0",
         weight=0.05, value="assist",
         sample=((40_500, 68_000), (30_500, 39_500), (20_500, 29_500), (5_000, 19_500)),
         sample_weights=(4, 4, 2, 1)),
    Item("execution", "执行力", symbol="Q", definition="按照主管要求完成分配的任务; 上级主管打分",
         rule="非常满意:100; 比较满意:90; 一般:60; 不满意:0",
         weight=0.10, value="execution", sample=SATISFACTION_LEVELS,
         sample_weights=(5, 6, 2, 1)),
    Item("satisfaction", "满意度", symbol="W", definition="旺旺满意度评价",
         rule="W≥95%:100; 90%≤W<95%:80; 85%≤W<90%:60; W<85%:0",
         weight=0.10, value="satisfaction",
         assumption="原表只给出权重 10%, 未给档位; 取 ≥95%:100, [90%,95%):80, [85%,90%):60, <85%:0",
         sample=((0.952, 0.995), (0.902, 0.948), (0.852, 0.898), (0.72, 0.845)),
         sample_weights=(6, 4, 2, 1)),
)

CALCS = (
    Calc("completion", "成交额完成度", 'KPI_RATE("",{c:actual},{c:plan})', "value", FMT_RATE),
    Calc("conversion", "询单转化率", "KPI_RATE({c:conversion_in},{c:orders},{c:consults})",
         "value", FMT_RATE),
    Calc("aov", "客单价", "KPI_RATE({c:aov_in},{c:actual},{c:orders})", "value", FMT_MONEY),
    Calc("reply", "旺旺回复率", "KPI_RATE({c:reply_in},{c:replied},{c:received})", "value",
         FMT_RATE),
    Calc("bad_review", "差评扣分", "-{c:bad_reviews}*{p:bad_review_points}", "adjust", FMT_POINTS),
    Calc("salary", "薪资", "{p:salary}", "pay", FMT_MONEY),
    Calc("post_bonus", "岗位奖金", "KPI_TIER({c:grade},{p:post_bonus})", "pay", FMT_MONEY),
    Calc("meal", "餐补", "{p:meal}", "pay", FMT_MONEY),
    Calc("attendance_bonus", "全勤奖", 'IF({c:full_attendance}="是",{p:attendance_bonus},0)',
         "pay", FMT_MONEY),
    Calc("team_pool", "团队超额奖金池",
         "ROUND({p:team_rate}*MAX(0,SUMIF({col:team},{c:team},{col:actual})"
         "-IF(SUMIF({t:team_target:1},{c:team},{t:team_target:2})>0,"
         "SUMIF({t:team_target:1},{c:team},{t:team_target:2}),"
         "SUMIF({col:team},{c:team},{col:plan}))),2)", "pay", FMT_MONEY, width=14),
    Calc("team_bonus", "团队超额奖金", "KPI_SHARE({col:team_pool},{col:actual},{col:team})", "pay",
         FMT_MONEY, array=True, guard=False, width=13),
)

PARAMS = (
    Param("bad_review_points", "差评扣分 (每个差评)", 50, "0", notation=None, kind="deduction",
          assumption="原表写“一个差评扣50(待定)”; 取 50 分, 从加权总分中扣, 总分最低为 0。",
          defined_name="差评扣分"),
    Param("salary", "薪资", 1280, FMT_MONEY, "各等级相同", defined_name="薪资",
          kind="money"),
    Param("post_bonus", "岗位奖金 (按等级)", "高级客服:400; 中级客服:200; 初级客服:0; 不合格:0",
          notation="tier",
          assumption="原表只列高级/中级/初级; 低于 70 分 (不合格) 无岗位奖金, 仍发薪资、餐补 (及全"
                     "勤奖)。",
          defined_name="岗位奖金"),
    Param("meal", "餐补", 150, FMT_MONEY, defined_name="餐补", kind="money"),
    Param("attendance_bonus", "全勤奖", 100, FMT_MONEY, "仅 考核表 全勤=是 者发放",
          defined_name="全勤奖", kind="money"),
    Param("team_rate", "团队超额奖金比例", 0.01, "0.0%",
          "团队实际销售额超过团队目标的部分 × 本比例, 按个人销售额占团队销售额的比例分给团队全体成"
          "员。",
          defined_name="团队超额比例", kind="rate"),
    MIN_WAGE,
    Param("eliminate_below", "淘汰分数线", 70, "0", "KPI 得分低于此分记一次", defined_name="淘汰分"
                                                                             "数线",
          kind="points"),
    Param("eliminate_times", "淘汰次数", 2, "0", "原表: 两次低于70分, 淘汰。第一次标“淘汰预警”。",
          kind="count", bounds=AT_LEAST_ONE),
    Param("eliminate_window", "淘汰窗口 (月)", "全部", "General",
          assumption="原表未说明两次是否须连续; 取 历史 表中记录的全部月份内任意两次。"
                     "可改为月数, 如 3 = 最近 3 个月内。",
          defined_name="淘汰窗口"),
)

TABLES = (
    Table("team_target", "团队目标销售额", ("团队", "团队目标销售额"),
          tuple((None, None) for _ in range(6)), formats=("@", FMT_MONEY),
          assumption="原表未给团队目标; 某团队不在本表时, 目标 = 该团队成员计划销售额之和。",
          sample_rows=(("售前一组", 1_000_000),)),
    Table("sales_brackets", "销售额A(万) 档位", ("销售额A", "金额 (元)"),
          (("A≤8万", None), ("8万<A≤12万", None), ("12万<A≤16万", None), ("A>16万", None)),
          formats=("@", FMT_MONEY),
          assumption="原表列出 销售额A(万) 档位 ≤8, (8,12], (12,16], >16 但没有金额; 金额空白待 HR "
                     "填写, "
                     "填好前不参与计算。"),
)

TEMPLATE = Template(
    id="taobao-cs",
    source="S1 淘宝客服员工KPI绩效考核表",
    title="淘宝客服员工KPI绩效考核表",
    purpose="淘宝售前客服的月度 KPI 考核与工资: 8 项加权指标 (成交额完成度 30%、询单转化率 20%、客"
            "单价、"
            "旺旺回复率、响应时间、协助跟进服务、执行力、满意度), 差评扣分, 按总分定客服等级; "
            "工资 = 薪资 + 岗位奖金 (按等级) + 餐补 + 全勤奖 + 团队超额奖金。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("高级客服", 90), Grade("中级客服", 80), Grade("初级客服", 70),
            Grade("不合格", None)),
    pay_lines=(PayLine("薪资", "salary"), PayLine("岗位奖金", "post_bonus"),
               PayLine("餐补", "meal"), PayLine("全勤奖", "attendance_bonus"),
               PayLine("团队超额奖金", "team_bonus", pool="team")),
    history_rules=(HistoryRule("elimination", "elimination", flag="淘汰", warning="淘汰预警",
                               threshold="eliminate_below", times="eliminate_times",
                               window="eliminate_window"),),
    params=PARAMS,
    tables=TABLES,
    teams=("售前一组", "售前二组", "售前三组"),
    posts=("售前客服",),
    monthly_steps=("执行力由上级主管从下拉选择; 差评数填本月差评个数; 全勤填 是/否。",),
    notes=("两次低于 70 分淘汰: 刷新时按 历史 表判断, 第一次在 工资 表备注“淘汰预警”, 第二次“淘汰”"
           "。",),
)
