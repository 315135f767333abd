"""S7 客服KPI考核表 80%工资+20%KPI — qualitative levels; 工资 = 目标工资×80% + 目标工资×20%×系数."""

from __future__ import annotations

from kpi_xl.templates.model import Calc, Grade, Input, Item, Param, PayLine, Template
from kpi_xl.templates.specs.common import FMT_MONEY, ID, LOSS, MIN_WAGE, NAME, TEAM, drawn

LEVEL_NOTE = "各档分值原表未给出, 为假设 (最好档 100, 最差档 0), 可在 C 列修改。"


def _levels(key: str, name: str, weight: float, levels: tuple[tuple[str, int, str], ...],
            sample_weights: tuple[float, ...], assumption: str = LEVEL_NOTE) -> tuple[Input, Item]:
    """A qualitative item: the supervisor picks a level; the rule maps it to points."""
    labels = tuple(label for label, _, _ in levels)
    rule = "; ".join(f"{label}:{points}" for label, points, _ in levels)
    definition = "; ".join(f"{label} {text}" for label, _, text in levels)
    return (
        Input(key, name, "choice", labels, note="按 规则 表描述选择档次: " + " / ".join(labels),
              sample=drawn(key)),
        Item(key, name, rule=rule, value=key, weight=weight, definition=definition,
             assumption=assumption, sample=labels, sample_weights=sample_weights),
    )


QUALITATIVE = (
    _levels("handling", "处事能力", 0.10, (
        ("A", 100, "独立处事, 遇到问题独立解决, 没有发生过错误、过失"),
        ("B", 80, "判断能力一般, 独立性一般; 处理问题有 1 次以上错误、过失"),
        ("C", 60, "理解、判断能力不好, 发生 1 次错误、过失且不汇报不询问"),
        ("D", 30, "把握不准, 过失 2 次以上并有隐瞒"),
        ("E", 0, "隐瞒错误和过失, 发生过失、错误 3 次或以上"),
    ), (3, 5, 3, 1, 1)),
    _levels("coordination", "工作协调", 0.10, (
        ("A", 100, "爱护团队, 常协助同事, 获公司通报表扬 1 次或以上"),
        ("B", 85, "积极主动帮助、协调同事, 获部门经理表扬"),
        ("C", 70, "协调性还可以, 有团队合作精神, 无咎无誉"),
        ("D", 40, "仅在必要时与人合作, 缺乏主动和团队意识"),
        ("E", 0, "团队意识散漫, 造成团队进度懈怠, 被严重口头警告"),
    ), (3, 5, 4, 1, 1)),
    _levels("passion", "工作激情", 0.10, (
        ("A", 100, "对工作和团队有持续性激情, 带动团队气氛"),
        ("B", 80, "表现良好, 能配合团队营造激情气氛"),
        ("C", 40, "对工作冷漠、应付, 需要领导两次提醒和监督"),
        ("D", 0, "对工作冷漠、应付, 需要他人 3 次或以上提醒和监督"),
    ), (4, 5, 2, 1)),
    _levels("service", "服务与销售", 0.35, (
        ("A", 100, "工作态度端正, 销售认真勤奋, 迅速在线解决, 无投诉, 完成个人销售任务"),
        ("B", 80, "态度端正, 在线销售个人任务完成 60%–70%, 无投诉"),
        ("C", 60, "业务知识不熟悉, 服务流程不熟练, 在线销售完成 80% 以下"),
        ("D", 30, "热情一般、态度散漫, 处理问题漏洞百出误导客户, 客户投诉 1 次以上"),
        ("E", 0, "粗暴、不礼貌对待客户, 发生语言冲突, 客户严重投诉 2 次或以上"),
    ), (4, 5, 3, 1, 1), "原表 服务/销售 描述未给权重; 取 35% (100% 减去其余各项)。" + LEVEL_NOTE),
    _levels("after_sales", "售后工作", 0.15, (
        ("全部肯定", 100, "处理及时、反馈及时、无错误、无客户投诉 四项当月全部肯定"),
        ("一项1次否定", 90, "四项中任意一项出现 1 次否定"),
        ("一项2次否定", 80, "任意一项出现 2 次否定"),
        ("两项1次否定", 70, "任意两项出现 1 次否定"),
        ("两项2次否定", 60, "任意两项出现 2 次或以上否定"),
        ("三项1次否定", 40, "任意三项出现 1 次否定"),
        ("三项2次否定", 30, "任意三项出现 2 次或以上否定"),
        ("四项1次否定", 20, "四项同时出现 1 次否定"),
        ("四项2次否定", 0, "四项同时出现 2 次或以上否定"),
    ), (5, 4, 3, 2, 1, 1, 1, 1, 1)),
    _levels("promotion", "推广", 0.05, (
        ("A", 100, "完成销售业绩之外, 主动进行宣传推广"),
        ("B", 60, "基本网络推广不熟悉, 缺少主动性"),
        ("C", 0, "未能配合推广工作"),
    ), (3, 4, 1)),
    _levels("summary", "总结与建议", 0.05, (
        ("A", 100, "按要求写好月/周总结, 对团队提出建设性意见并被采纳"),
        ("B", 80, "多次积极提出合理建议"),
        ("C", 60, "按要求完成总结"),
        ("D", 0, "对团队建设缺乏热情, 表现不够积极"),
    ), (3, 4, 3, 1)),
)

DISCIPLINE = Item(
    "discipline", "纪律性", rule="<1:100; =1:80; =2:60; ≥3:0", value="discipline", weight=0.10,
    definition="本月迟到、早退、旷工、请假的次数: 0 次 / 1 次 / 2 次 / 3 次及以上",
    assumption="原表按 0/1/2/3 次分档但未给分值; 取 100/80/60/0。违反规章制度的情况请在备注说明。",
    sample=(0, 1, 2, (3, 4)), sample_weights=(8, 3, 2, 1),
)

INPUTS = (
    ID, NAME, TEAM,
    *(q[0] for q in QUALITATIVE[:3]),
    Input("discipline", "迟到早退旷工请假次数", "count", sample=drawn("discipline")),
    *(q[0] for q in QUALITATIVE[3:]),
    LOSS,
)

ITEMS = (*(q[1] for q in QUALITATIVE[:3]), DISCIPLINE, *(q[1] for q in QUALITATIVE[3:]))

CALCS = (
    Calc("target", "目标工资", "{emp:target}", "lookup", FMT_MONEY),
    Calc("coefficient", "KPI考核系数", "ROUND({c:score}/100,4)", "pay", "0.00%"),
    Calc("pay", "工资", 'KPI_PAY("80/20",{c:target},{c:score},{p:fixed_share})', "pay", FMT_MONEY),
    Calc("fixed_part", "目标工资80%部分", "ROUND({c:target}*{p:fixed_share},2)", "pay", FMT_MONEY),
    Calc("kpi_part", "KPI工资20%部分", "ROUND({c:pay}-{c:fixed_part},2)", "pay", FMT_MONEY),
)

TEMPLATE = Template(
    id="salary-80-20",
    source="S7 客服KPI考核表 80%工资+20%KPI",
    title="客服KPI考核表 (80%工资+20%KPI)",
    purpose="定性考核: 处事能力、工作协调、工作激情、纪律性、服务与销售、售后工作、推广、总结与建议"
            ", "
            "主管按描述选档, 加权得 KPI 考核系数; 工资 = 目标工资 × 80% + 目标工资 × 20% × KPI考核"
            "系数。",
    inputs=INPUTS,
    items=ITEMS,
    calcs=CALCS,
    grades=(Grade("优秀", 90), Grade("良好", 80), Grade("合格", 60), Grade("待改进", None)),
    grade_assumption="原表没有等级; 为统计设 优秀 ≥90、良好 [80,90)、合格 [60,80)、待改进 <60, 不影"
                     "响工资。",
    pay_lines=(PayLine("目标工资", "target", money=False),
               PayLine("KPI考核系数", "coefficient", money=False),
               PayLine("目标工资80%部分", "fixed_part"), PayLine("KPI工资20%部分", "kpi_part")),
    params=(
        Param("fixed_share", "固定部分比例", 0.8, "0%", "工资 = 目标工资 × 80% + 目标工资 × 20% × K"
                                                  "PI考核系数",
              defined_name="固定比例", kind="rate"),
        MIN_WAGE,
    ),
    roster=(Input("target", "目标工资", "money",
                  sample=lambda r: (4000, 4500, 5000, 5500, 6000)[r.index % 5]),),
    teams=("客服一组", "客服二组", "售后组"),
    posts=("客服专员",),
)
