"""S6 客服考核标准 — a 130-point sheet; KPI奖金 = 总奖金 × 得分 / 总分, none below 70% of 总分."""

from __future__ import annotations

from kpi_xl.templates.model import Calc, Grade, Input, Item, Param, PayLine, Template
from kpi_xl.templates.specs.common import (
    FMT_MONEY,
    FMT_POINTS,
    FMT_RATE,
    FMT_SCORE,
    ID,
    LOSS,
    MIN_WAGE,
    NAME,
    QUALITY_LEVELS,
    TEAM,
    drawn,
    occasional,
)

QUALITY_RULE = "优:20; 良:15; 中:10; 差:0"


def _quality(key: str, name: str, definition: str) -> tuple[Input, Item]:
    """An 优/良/中/差 item: one dropdown column and its 20-point rule."""
    return (
        Input(key, name, "choice", QUALITY_LEVELS, note=f"{definition}: 优/良/中/差",
              sample=drawn(key)),
        Item(key, name, definition=definition, rule=QUALITY_RULE, value=key,
             sample=QUALITY_LEVELS, sample_weights=(4, 5, 2, 1)),
    )


QUALITY = (
    _quality("quality", "售后客服素质", "调查聊天记录: 响应时间、沟通情况、处理问题水平、产品及促销"
                                  "了解程度"),
    _quality("complaints", "投诉维权处理", "投诉、维权、举报、退款纠纷的及时处理情况及程度"),
    _quality("cooperation", "配合度", "与团队配合、团队合作情况"),
    _quality("execution", "执行力", "上级主管安排的工作完成情况"),
)

INPUTS = (
    ID, NAME, TEAM,
    QUALITY[0][0],
    Input("refund_in", "退款率(可直接填)", "rate", optional=True,
          note="后台有现成退款率就填这里; 否则按 退款订单数/成交订单数",
          sample=lambda r: round(float(r.item("refund")), 4) if r.every(4) else None),
    Input("refunds", "退款订单数", "count",
          sample=lambda r: r.numerator(r.num("orders"), "refund")),
    Input("orders", "成交订单数", "count", sample=lambda r: r.uniform(300, 900)),
    *(q[0] for q in QUALITY[1:]),
    Input("late", "迟到次数", "count", sample=occasional({2: 1, 6: 2, 15: 1})),
    Input("leave", "请假次数", "count", sample=occasional({4: 1, 11: 1, 19: 2})),
    Input("absent", "旷工次数", "count", sample=occasional({9: 1})),
    Input("low_reviews", "低质评价次数", "count", note="由于售后原因的低质评价, 数据由客服主管提供",
          sample=occasional({3: 1, 12: 2})),
    Input("complaint_points", "客户投诉扣分", "points",
          note="查实的客户投诉, 视情况每次扣 5–20 分; 填本月合计扣分 (正数)",
          sample=occasional({7: 10, 18: 5})),
    Input("praise", "客户表扬次数", "count", sample=occasional({1: 1, 5: 2, 14: 1})),
    Input("outstanding", "表现突出加分", "points", note="工作态度、进步快、学习能力强等, 加 2–5 分",
          sample=occasional({0: 3, 10: 2})),
    LOSS,
)

ITEMS = (
    QUALITY[0][1],
    Item("refund", "退款率", definition="退款订单数 / 成交订单数 (30 分)",
         rule="≤5%:30; 5%<X≤8%:20; 8%<X≤11%:10; X>11%:0", value="refund", lower_is_better=True,
         sample=((0.01, 0.048), (0.052, 0.078), (0.082, 0.108), (0.113, 0.16)),
         sample_weights=(5, 3, 2, 1)),
    *(q[1] for q in QUALITY[1:]),
    Item("attendance", "出勤率", definition="全勤 20 分; 迟到 1 次扣 5 分, 请假 1 次扣 5 分, 旷工 1"
                                         " 次扣 10 分",
         rule="", value="late",
         points="MAX(0,{p:attendance_full}+KPI_DEDUCT({c:late},{p:late_rule})"
                "+KPI_DEDUCT({c:leave},{p:leave_rule})+KPI_DEDUCT({c:absent},{p:absent_rule}))",
         assumption="原表未说明出勤扣分能否扣到 0 以下; 本项最低 0 分。"),
)

CALCS = (
    Calc("refund", "退款率", "KPI_RATE({c:refund_in},{c:refunds},{c:orders})", "value", FMT_RATE),
    Calc("low_review_deduct", "低质评价扣分", "KPI_DEDUCT({c:low_reviews},{p:low_review_rule})",
         "adjust",
         FMT_POINTS),
    Calc("complaint_deduct", "客户投诉扣分", "-{c:complaint_points}", "adjust", FMT_POINTS),
    Calc("praise_bonus", "表扬加分", "{c:praise}*{p:praise_points}", "adjust", FMT_POINTS),
    Calc("outstanding_bonus", "表现突出加分", "{c:outstanding}", "adjust", FMT_POINTS),
    Calc("score", "得分", "MAX(0,MIN({p:total},SUM({points})+SUM({adj})))", "score", FMT_SCORE),
    Calc("base_salary", "基本工资", "{emp:base_salary}", "pay", FMT_MONEY),
    Calc("bonus", "KPI考核奖金",
         'KPI_PAY("按分",{p:bonus_total},{c:score},{p:total},{p:threshold})',
         "pay", FMT_MONEY),
)

PARAMS = (
    Param("total", "总分", 130, "0", defined_name="总分", kind="points",
          assumption="原表未说明加分后能否超过总分; 得分封顶 130, 扣分后最低 0。"),
    Param("threshold", "KPI奖金门槛 (占总分)", 0.7, "0%", "低于总分 70% (91 分) 考核不合格, 无KPI考"
                                                   "核奖金",
          kind="rate"),
    Param("bonus_total", "KPI总奖金 (每人)", None, FMT_MONEY,
          "原表“KPI总奖金( )”括号内为空, 请填写; 所得KPI考核奖金 = 总奖金 × 得分 / 总分",
          sample_value=1000, defined_name="KPI总奖金", kind="money"),
    Param("attendance_full", "出勤率满分 (全勤)", 20, "0", kind="points"),
    Param("late_rule", "迟到扣分", "每次-5", notation="deduct"),
    Param("leave_rule", "请假扣分", "每次-5", notation="deduct"),
    Param("absent_rule", "旷工扣分", "每次-10", notation="deduct"),
    Param("low_review_rule", "低质评价扣分", "每次-5", notation="deduct"),
    Param("praise_points", "客户表扬 (每次加分)", 2, "0", kind="points"),
    MIN_WAGE,
)

TEMPLATE = Template(
    id="score-130",
    source="S6 客服考核标准",
    title="客服考核标准 (总分130分)",
    purpose="售后客服考核: 素质 20、退款率 30、投诉维权 20、配合度 20、执行力 20、出勤率 20, 合计 1"
            "30 分, "
            "另有扣分与加分项。低于总分 70% 无 KPI 奖金; KPI考核奖金 = 总奖金 × 得分 / 总分; "
            "客服工资 = 基本工资 + KPI考核奖金。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("合格", 91), Grade("不合格", None)),
    grade_open_top=True,
    grade_assumption="原表只规定低于总分 70% (130 × 70% = 91 分) 考核不合格; 等级只分 合格 / 不合格"
                     "。"
                     "改总分或比例时请同时改此分数线。",
    pay_lines=(PayLine("基本工资", "base_salary"), PayLine("KPI考核奖金", "bonus")),
    params=PARAMS,
    roster=(Input("base_salary", "基本工资", "money",
                  sample=lambda r: (2800, 3000, 3200, 3500)[r.index % 4]),),
    max_score=130,
    score_bins=("<91", "[91,104)", "[104,117)", "≥117"),
    teams=("售后一组", "售后二组", "纠纷组"),
    posts=("售后客服",),
)
