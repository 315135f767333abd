"""Hand-worked expected values for the taobao-cs sample month (S1), checked after a headless recalc.

Every number below was computed by hand from the tiers in docs/seed-catalogue (S1) and the
sample inputs, which are deterministic (``new_month("taobao-cs", …, sample=True)`` with the
default seed). Weights: X 30%, Y 20%, M 10%, Z 10%, N 5%, P 5%, Q 10%, W 10%; 差评 −50 each
from the weighted total (floored at 0). Grades: [90,100] 高级客服, [80,90) 中级客服,
[70,80) 初级客服, <70 不合格.

KF003 陈娜 (row 7): 计划 107000, 实际 121659, 咨询 897, 下单 463, 接待 428, 回复 424,
  响应 29 s, 跟进 61475, 执行力 非常满意, 满意度 96.2%, 差评 0.
  X = 121659/107000 = 113.7%  → ≥100%        → 100
  Y = 463/897      = 51.6%    → ≥50%         → 100
  M = 121659/463   = 262.76   → ≥250         → 100
  Z = 424/428      = 99.07%   → ≥98%         → 100
  N = 29 s                    → ≤30s         → 100
  P = 61475                   → ≥4W          → 100
  Q = 非常满意                                → 100
  W = 96.2%                   → ≥95%         → 100
  total = 100 → 高级客服

KF005 何若曦 (row 9): 计划 124000, 实际 145948, 询单转化率(可直接填) 53.31% (596/1118),
  下单 596, 接待 565, 回复 540, 响应 13.9 s, 跟进 12662, 执行力 一般, 满意度 92.7%, 差评 1.
  X = 145948/124000 = 117.7%  → 100
  Y = 53.31% (ready rate)      → ≥50%          → 100
  M = 145948/596   = 244.88   → [230,250)     → 80
  Z = 540/565      = 95.58%   → [95%,98%)     → 80
  N = 13.9 s                  → ≤30s          → 100
  P = 12662                   → <2W           → 0
  Q = 一般                                      → 60
  W = 92.7%                   → [90%,95%)     → 80
  weighted = 30 + 20 + 8 + 8 + 5 + 0 + 6 + 8 = 85; 差评 1 × 50 → 35 → 不合格

KF014 郭敏 (row 18): 计划 129000, 实际 126162, 咨询 1226, 下单 559, 客单价(可直接填) 225.69,
  接待 525, 回复 520, 响应 25.5 s, 跟进 37033, 非常满意, 满意度 91.7%, 差评 1.
  X = 126162/129000 = 97.8%   → [90%,100%)    → 85
  Y = 559/1226     = 45.6%    → [45%,50%)     → 80
  M = 225.69 (ready)          → [210,230)     → 60
  Z = 520/525      = 99.05%   → ≥98%          → 100
  N = 25.5 s                  → ≤30s          → 100
  P = 37033                   → [3W,4W)       → 80
  Q = 非常满意                                  → 100
  W = 91.7%                   → [90%,95%)     → 80
  weighted = 25.5 + 16 + 6 + 10 + 5 + 4 + 10 + 8 = 84.5; 差评 1 × 50 → 34.5 → 不合格

KF030 徐佳怡 (row 34): 计划 67000, 实际 59697, 询单转化率(可直接填) 52.66%, 下单 228,
  回复率(可直接填) 93.36% (394/422), 响应 38.7 s, 跟进 60801, 比较满意, 满意度 90.6%, 差评 0.
  X = 59697/67000  = 89.1%    → [80%,90%)     → 70
  Y = 52.66% (ready)          → ≥50%          → 100
  M = 59697/228    = 261.83   → ≥250          → 100
  Z = 93.36% (ready)          → [92%,95%)     → 60
  N = 38.7 s                  → (30s,45s]     → 80
  P = 60801                   → ≥4W           → 100
  Q = 比较满意                                  → 90
  W = 90.6%                   → [90%,95%)     → 80
  weighted = 21 + 20 + 10 + 6 + 4 + 5 + 9 + 8 = 83 → 中级客服
"""

from __future__ import annotations

import importlib
import re

import pytest

HAND = {
    # 工号: (points per KPI in item order X Y M Z N P Q W, 差评扣分, KPI得分, 等级)
    "KF003": ((100, 100, 100, 100, 100, 100, 100, 100), 0, 100.0, "高级客服"),
    "KF005": ((100, 100, 80, 80, 100, 0, 60, 80), -50, 35.0, "不合格"),
    "KF014": ((85, 80, 60, 100, 100, 80, 100, 80), -50, 34.5, "不合格"),
    "KF030": ((70, 100, 100, 60, 80, 100, 90, 80), 0, 83.0, "中级客服"),
}
POINT_HEADERS = ("成交额完成度得分", "询单转化率得分", "客单价得分", "旺旺回复率得分",
                 "旺旺响应时间得分", "协助跟进服务得分", "执行力得分", "满意度得分")


def test_taobao_cs_sample_month_matches_hand_worked_numbers(tmp_path):
    try:
        recalc = importlib.import_module("kpi_xl.recalc")
        reader = importlib.import_module("kpi_xl.workbook.xlsx_read")
    except ImportError as exc:  # pragma: no cover - until the engine lands
        pytest.skip(f"headless recalc not available yet: {exc}")
    from kpi_xl.templates import new_month

    path = new_month("taobao-cs", tmp_path / "month.xlsx", month="2026-11", sample=True)
    book = reader.read_book(path)
    result = recalc.recalculate(book)
    sheet = book.sheets["考核"]
    headers = {sheet.values.get((4, c)): c for c in range(1, sheet.max_column + 1)}
    ids = {sheet.values.get((r, 1)): r for r in range(5, 5 + 200)}
    values = result.values["考核"]

    def cell(agent: str, header: str) -> object:
        value = values.get((ids[agent], headers[header]))
        assert value is not None, f"{agent} {header}: no value ({_why(result, ids[agent])})"
        return value

    for agent, (points, bad, total, grade) in HAND.items():
        got = tuple(cell(agent, h) for h in POINT_HEADERS)
        assert got == pytest.approx(points), agent
        assert cell(agent, "差评扣分") == pytest.approx(bad), agent
        assert cell(agent, "KPI得分") == pytest.approx(total, abs=1e-9), agent
        assert cell(agent, "等级") == grade, agent


def _why(result: object, row: int) -> str:
    problems = [p for p in (*result.problems, *result.not_computable)  # type: ignore[attr-defined]
                if p.sheet == "考核" and re.fullmatch(rf"[A-Z]+{row}", p.cell)]
    return "; ".join(f"{p.cell}: {p.message}" for p in problems[:3]) or "no report"
