"""Pieces several template descriptions share (columns, choice scales, sample helpers)."""

from __future__ import annotations

from kpi_xl.templates.model import Bounds, Input, Param, SampleRow

FMT_MONEY = "¥#,##0.00"
FMT_RATE = "0.0%"
FMT_POINTS = "0.0"
FMT_SCORE = "0.00"

SATISFACTION_LEVELS = ("非常满意", "比较满意", "一般", "不满意")
"""执行力 (S1): 上级主管打分."""
QUALITY_LEVELS = ("优", "良", "中", "差")
"""S6 items: 优 20 良 15 中 10 差 0."""
ABCDE = ("A", "B", "C", "D", "E")

ID = Input("id", "工号", "id")
NAME = Input("name", "姓名", "name")
TEAM = Input("team", "团队", "team")
"""Filled by the sample generator from the roster (never through ``sample``)."""

LOSS = Input("loss", "扣款(赔偿损失)", "money", optional=True,
             note="因本人原因给公司造成经济损失、按劳动合同约定从工资中扣除的赔偿 (元); 空白 = 0。"
                  "每月扣除部分不得超过当月工资的 20%, 扣除后不得低于最低工资 (刷新时自动把关)",
             sample=lambda r: {5: 150, 8: 2000}.get(r.index))
"""The loss deduction 《工资支付暂行规定》§16 caps (every template; blank = 0)."""

MIN_WAGE = Param("min_wage", "最低工资", None, FMT_MONEY,
                 "当地月最低工资标准 (元); 空白 = 不检查。填写后: 赔偿扣款最多扣到此数为止; "
                 "应发工资本身低于此数的不会自动补足, 在 工资 表备注“低于最低工资”标记出来, "
                 "由 HR 决定。",
                 defined_name="最低工资", kind="money")
"""The local monthly minimum wage (blank until HR fills it)."""

AT_LEAST_ONE = Bounds(1, 1_000, whole=True)
"""A number of times or months a multi-month rule counts (0 or 2.5 times is a typo)."""


def ready_rate(item: str, every: int = 5) -> object:
    """Sample for a "(可直接填)" column: blank mostly, the platform's rate for every n-th agent."""

    def fill(r: SampleRow) -> object:
        return round(float(r.item(item)), 4) if r.every(every) else None  # type: ignore[arg-type]

    return fill


def ready_ratio(numerator: str, denominator: str, every: int = 5, digits: int = 4) -> object:
    """Like :func:`ready_rate` but the exact ratio of two sample columns (consistent counts)."""

    def fill(r: SampleRow) -> object:
        if not r.every(every):
            return None
        return round(r.num(numerator) / r.num(denominator), digits)

    return fill


def drawn(item: str) -> object:
    """The value drawn for ``item`` itself (a rate, seconds, amount or label)."""
    return lambda r: r.item(item)


def occasional(values: dict[int, object], default: object = 0) -> object:
    """A fixed value for a few agents by index (差评, 迟到…), ``default`` for everyone else."""
    return lambda r: values.get(r.index, default)

