"""Deterministic sample months: a roster of agents with Chinese names and clean, realistic metrics.

Every item of a template lists, per tier, a range (or a label) to draw its value from; the
first pass gives each tier to one randomly chosen agent, so every tier of every item rule is
hit by someone, and the rest of the agents draw tiers by the item's ``sample_weights``. Input
columns then derive their counts from the drawn values (``SampleRow.denominator`` etc.).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kpi_xl.templates.model import SampleRow, Template

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
    "胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
    "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "蒋", "蔡", "杜", "叶", "程", "魏",
    "苏", "吕", "沈",
)
GIVEN = (
    "思琪", "雨欣", "子涵", "欣怡", "梓萱", "佳怡", "诗涵", "梦瑶", "晓雯", "静怡",
    "浩然", "宇轩", "俊杰", "子豪", "明轩", "嘉怡", "雅婷", "婉清", "可馨", "文博",
    "佳琪", "一诺", "若曦", "晨阳", "书瑶", "紫涵", "天佑", "志强", "丽娜", "小燕",
    "海燕", "春梅", "秀英", "建华", "伟", "芳", "敏", "静", "磊", "娜",
    "婷", "杰", "丹", "鑫", "悦", "倩",
)

PROFILE_WEAK = (0, 1)
"""Agents whose history sits below the elimination line (淘汰 / 淘汰预警 have someone to act on)."""
PROFILE_STEADY = (2, 3, 4)
"""Agents whose history is always ≥ 中级 (晋升 after 3 months has someone to act on)."""

STAR = 2
"""The agent who draws the top tier of every item (so the top grade band is hit too)."""


@dataclass(frozen=True)
class Agent:
    index: int
    id: str
    name: str
    team: str
    post: str
    wangwang: str


def make_agents(template: Template, count: int, rng: random.Random) -> list[Agent]:
    """``count`` agents with unique Chinese names, grouped by team in roster order."""
    pool = [s + g for s in SURNAMES for g in GIVEN]
    names = rng.sample(pool, count)
    nicks: set[str] = set()
    agents = []
    teams = template.teams
    for i, name in enumerate(names):
        team = teams[i * len(teams) // count]
        first_of_team = i == 0 or teams[(i - 1) * len(teams) // count] != team
        post = "客服组长" if first_of_team else template.posts[i % len(template.posts)]
        nick = "小" + name[-1]
        while nick in nicks:
            nick += str(len(nicks) % 10)
        nicks.add(nick)
        agents.append(Agent(i, f"KF{i + 1:03d}", name, team, post, f"{template.shop}:{nick}"))
    return agents


def _draw(entry: object, rng: random.Random) -> tuple[object, tuple[float, float] | None]:
    """A value from one tier's sample entry: a ``(low, high)`` range, a number, or a label."""
    if isinstance(entry, tuple):
        low, high = entry
        if isinstance(low, int) and isinstance(high, int):
            return rng.randint(low, high), (low, high)
        step = 0.001 if high <= 2 else 0.1
        value = round(low + step * rng.randint(0, round((high - low) / step)), 6)
        return value, (float(low), float(high))
    if isinstance(entry, int | float):
        return entry, (float(entry), float(entry))
    return entry, None


def draw_tiers(template: Template, count: int, rng: random.Random) -> list[dict[str, object]]:
    """Per agent: ``item → value``, ``item@range → (low, high)``, ``item@tier → index``."""
    rows: list[dict[str, object]] = [{} for _ in range(count)]
    badness = [0.0] * count
    for item in (*template.items, *template.draws):
        if not item.sample:
            continue
        k = len(item.sample)
        weights = item.sample_weights or tuple(range(k, 0, -1))
        # the first pass hits every tier once; the poor tiers go to the agents with the
        # fewest poor tiers so far, so no one collects every bottom tier
        order = sorted((i for i in range(count) if i != STAR),
                       key=lambda i: (badness[i], rng.random()))
        cover = {order[j]: k - 1 - j for j in range(min(k, len(order)))}
        for i in range(count):
            tier = cover.get(i, 0) if i == STAR or i in cover else (
                rng.choices(range(k), weights)[0])
            badness[i] += tier / max(1, k - 1)
            value, span = _draw(item.sample[tier], rng)
            rows[i][item.key] = value
            rows[i][f"{item.key}@range"] = span
            rows[i][f"{item.key}@tier"] = tier
    return rows


def sample_rows(template: Template, agents: list[Agent], rng: random.Random) -> list[SampleRow]:
    """One filled :class:`SampleRow` per agent (all input and roster columns drawn)."""
    tiers = draw_tiers(template, len(agents), rng)
    specs = {spec.key: spec for spec in (*template.inputs, *template.roster)}
    rows = []
    for agent, drawn in zip(agents, tiers, strict=True):
        row = SampleRow(rng, agent.index, agent.team, drawn, specs)
        row.values.update(id=agent.id, name=agent.name, team=agent.team)
        for key in specs:
            row[key]
        rows.append(row)
    return rows


def previous_months(month: str, count: int) -> list[str]:
    """The ``count`` months before ``month`` (``"2026-11"``), oldest first."""
    year, mon = (int(part) for part in month.split("-"))
    out = []
    for back in range(count, 0, -1):
        total = year * 12 + (mon - 1) - back
        out.append(f"{total // 12:04d}-{total % 12 + 1:02d}")
    return out


def history_rows(template: Template, agents: list[Agent], month: str, months: int,
                 rng: random.Random) -> list[tuple[object, ...]]:
    """历史 rows (月份, 工号, 姓名, 团队, KPI得分, 等级, 应发工资=blank) for prior months."""
    scale = template.max_score / 100
    rows = []
    for number, label in enumerate(previous_months(month, months)):
        for agent in agents:
            if agent.index == PROFILE_WEAK[0] or (
                    agent.index == PROFILE_WEAK[1] and number == months - 1):
                share = rng.uniform(0.58, 0.685)
            elif agent.index in PROFILE_STEADY:
                share = rng.uniform(0.82, 0.96)
            else:
                share = rng.triangular(0.62, 0.99, 0.85)
            score = round(share * 100 * scale, 2)
            rows.append((label, agent.id, agent.name, agent.team, score,
                         template.grade_of(score), None))
    return rows
