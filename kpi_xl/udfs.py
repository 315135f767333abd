"""Worksheet functions for Excel: classic xlwings UDFs (Windows) and xlwings Lite.

Thin: each function hands its ranges to :mod:`kpi_xl.functions` and turns the answer into
what Excel shows. One call may take a whole column and returns the same shape. A single cell
in error raises, so Excel shows the error with its message; in a range each cell in error
gets its Excel error code (``#N/A``, ``#VALUE!``), and ``KPI_EXPLAIN`` tells why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xlwings import arg, func

from kpi_xl import functions
from kpi_xl.core.errors import KpiError

_RANGE = {"ndim": 2, "err_to_str": True}


def to_excel(grid: np.ndarray) -> Any:
    """A function's 2-D result as xlwings returns it to Excel."""
    if grid.shape == (1, 1):
        cell = grid[0, 0]
        if isinstance(cell, KpiError):
            raise cell
        return cell.item() if isinstance(cell, np.generic) else cell
    rows = grid.tolist()
    if not any(issubclass(kind, KpiError) for kind in set(map(type, grid.ravel()))):
        return rows  # the common case: no cell in error, nothing to convert
    return [[_excel_cell(cell) for cell in row] for row in rows]


def _excel_cell(cell: object) -> object:
    return cell.code if isinstance(cell, KpiError) else cell


@func
@arg("value", doc="数值或区域, 如 C5 或 C5:C40 (value or range to score)", **_RANGE)
@arg(
    "rule",
    doc='规则文字或两列区域, 如 "≥50%:100; [45%,50%):80; <45%:0" (rule text or 2-column range)',
    **_RANGE,
)
def KPI_TIER(value: Any, rule: Any) -> Any:
    """按规则档位取结果 (score a value by the first tier of the rule it meets)."""
    return to_excel(functions.kpi_tier(value, rule))


@func
@arg("value", doc="数值或区域 (value or range)", **_RANGE)
@arg("rule", doc="规则文字或两列区域 (rule text or 2-column range)", **_RANGE)
def KPI_EXPLAIN(value: Any, rule: Any) -> Any:
    """说明命中哪一档及原因, 如 47% ∈ [45%,50%) → 80 (which tier matched, and why)."""
    return to_excel(functions.kpi_explain(value, rule))


@func
@arg("scores", doc="各项得分, 每人一行 (item points, one row per agent)", **_RANGE)
@arg("weights", doc="各项权重, 合计须为 100% (weights, must total 100%)", **_RANGE)
@arg("adjustments", doc="加扣分, 在加权后计入, 如差评 -50 (points added after weighting)", **_RANGE)
def KPI_SCORE(scores: Any, weights: Any, adjustments: Any = None) -> Any:
    """加权总分, 加扣分后不低于 0 (weighted total plus adjustments, floored at 0)."""
    return to_excel(functions.kpi_score(scores, weights, adjustments))


@func
@arg("score", doc="总分或区域 (total score or range)", **_RANGE)
@arg(
    "bands",
    doc='等级规则, 如 "[90,100]:高级客服; [80,90):中级客服; <70:不合格" (grade bands)',
    **_RANGE,
)
def KPI_GRADE(score: Any, bands: Any) -> Any:
    """按分数段定等级 (grade label for each score)."""
    return to_excel(functions.kpi_grade(score, bands))


@func
@arg("scheme", doc="方案: 80/20、等级系数、提成、按分 (pay scheme)", **_RANGE)
@arg("base", doc="基数: 目标工资 / Q / 成交金额 / 总奖金 (base amount)", **_RANGE)
@arg("score", doc="得分、系数或等级 (score, coefficient or grade)", **_RANGE)
@arg("param", doc="参数: 固定比例 / 系数规则 / 提点规则 / 总分 (scheme parameter)", **_RANGE)
@arg(
    "basis", doc="依据: 转化率 (提成) 或 门槛比例 (按分) (basis: conversion or threshold)", **_RANGE
)
def KPI_PAY(scheme: Any, base: Any, score: Any, param: Any = None, basis: Any = None) -> Any:
    """按方案计算绩效工资, 四舍五入到分 (pay by scheme, half-up to 0.01 元)."""
    return to_excel(functions.kpi_pay(scheme, base, score, param, basis))


@func
@arg("count", doc="次数或区域 (number of occurrences)", **_RANGE)
@arg("rule", doc='扣分规则, 如 "免2次; 每次-3; 封顶-20" (deduction rule)', **_RANGE)
def KPI_DEDUCT(count: Any, rule: Any) -> Any:
    """按次数扣分: 免扣次数、每次扣分、累计加重、封顶 (points deducted for a count)."""
    return to_excel(functions.kpi_deduct(count, rule))


@func
@arg("rate", doc="平台给出的比率, 可空 (ready rate from the platform, may be blank)", **_RANGE)
@arg("numerator", doc="分子人数, 如最终下单人数 (numerator count)", **_RANGE)
@arg("denominator", doc="分母人数, 如咨询人数 (denominator count)", **_RANGE)
def KPI_RATE(rate: Any, numerator: Any = None, denominator: Any = None) -> Any:
    """比率: 有现成比率用比率, 否则分子/分母 (the ready rate, else numerator / denominator)."""
    return to_excel(functions.kpi_rate(rate, numerator, denominator))


@func
@arg("pool", doc="奖金池金额, 按比例全部分完 (bonus pool amount, shared out in full)", **_RANGE)
@arg("scores", doc="得分列 (scores, one per agent)", **_RANGE)
@arg("tiebreak", doc="同分比较列, 如销售额 (tie-break column, e.g. sales)", **_RANGE)
@arg(
    "split",
    doc='分配规则, 默认 "1:40%+200; 2:30%+100; 其余:30%"; +200 等为奖金池之外另加的奖金 '
        "(split rule; the +200 prizes are paid on top of the pool)",
    **_RANGE,
)
def KPI_POOL(pool: Any, scores: Any, tiebreak: Any = None, split: Any = None) -> Any:
    """按名次分完奖金池, 另加固定奖金 (默认 +200、+100) (pool by rank, plus fixed prizes)."""
    return to_excel(functions.kpi_pool(pool, scores, tiebreak, split))


@func
@arg("total", doc="总额 (amount to split)", **_RANGE)
@arg("weights", doc="分配依据, 如销售额 (weights, e.g. sales)", **_RANGE)
@arg("groups", doc="分组, 如团队; 可空 (groups, e.g. team; optional)", **_RANGE)
def KPI_SHARE(total: Any, weights: Any, groups: Any = None) -> Any:
    """按比例分摊到分, 合计等于总额 (split an amount by weights, exact to the fen)."""
    return to_excel(functions.kpi_share(total, weights, groups))
