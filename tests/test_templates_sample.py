"""``new_month``: empty months, and deterministic, clean sample months that exercise every tier."""

from __future__ import annotations

import re

import openpyxl
import pytest

from kpi_xl.templates import TEMPLATES, new_month
from kpi_xl.templates.builder import FIRST_ROW, build_workbook

IDS = list(TEMPLATES)
RATE = re.compile(r'KPI_RATE\((?:""|\{c:(\w+)\}),\{c:(\w+)\}(?:\+\{c:(\w+)\})?,\{c:(\w+)\}\)$')


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    folder = tmp_path_factory.mktemp("months")
    return {tid: new_month(tid, folder / f"{tid}.xlsx", month="2026-11", sample=True,
                           history_months=3) for tid in IDS}


def _rows(path, sheet="考核"):
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[4]]
    rows = []
    for r in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, 1).value is None:
            break
        rows.append({h: ws.cell(r, c).value for c, h in enumerate(header, start=1) if h})
    return rows


def test_empty_month_has_month_and_no_agents(tmp_path):
    path = new_month("taobao-cs", tmp_path / "m.xlsx", month="2026-12")
    wb = openpyxl.load_workbook(path)
    assert wb["考核"]["B2"].value == "2026-12"
    assert wb["考核"]["A5"].value is None and wb["员工"]["A5"].value is None


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="2026-11"):
        new_month("taobao-cs", tmp_path / "m.xlsx", month="2026/11")
    with pytest.raises(ValueError, match="sample"):
        new_month("taobao-cs", tmp_path / "m.xlsx", history_months=2)
    with pytest.raises(KeyError, match="taobao-cs"):
        new_month("no-such", tmp_path / "m.xlsx")


@pytest.mark.parametrize("template_id", IDS)
def test_sample_roster_is_realistic(months, template_id):
    staff = _rows(months[template_id], "员工")
    rows = _rows(months[template_id])
    assert 20 <= len(rows) <= 40
    assert [r["工号"] for r in rows] == [f"KF{i:03d}" for i in range(1, len(rows) + 1)]
    assert [s["工号"] for s in staff] == [r["工号"] for r in rows]
    assert len({r["姓名"] for r in rows}) == len(rows)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", r["姓名"]) for r in rows)
    assert 2 <= len({r["团队"] for r in rows}) <= 4
    assert len({s["旺旺昵称"] for s in staff}) == len(staff)
    assert all(":" in s["旺旺昵称"] for s in staff)


def test_sample_is_deterministic_and_seeded(tmp_path):
    a = new_month("taobao-cs", tmp_path / "a.xlsx", sample=True, history_months=2).read_bytes()
    b = new_month("taobao-cs", tmp_path / "b.xlsx", sample=True, history_months=2).read_bytes()
    c = new_month("taobao-cs", tmp_path / "c.xlsx", sample=True, seed=7).read_bytes()
    assert a == b
    assert a != c


def test_agents_argument(tmp_path):
    assert len(_rows(new_month("medal", tmp_path / "m.xlsx", sample=True, agents=24))) == 24


@pytest.mark.parametrize("template_id", IDS)
def test_history_gives_multi_month_rules_something_to_act_on(months, template_id):
    template = TEMPLATES[template_id]
    history = _rows(months[template_id], "历史")
    assert sorted({h["月份"] for h in history}) == ["2026-08", "2026-09", "2026-10"]
    line = 0.7 * template.max_score
    by_agent: dict[str, list[float]] = {}
    for h in history:
        by_agent.setdefault(h["工号"], []).append(h["KPI得分"])
        assert h["等级"] == template.grade_of(h["KPI得分"])
    assert any(sum(s < line for s in scores) >= 2 for scores in by_agent.values())  # 淘汰
    assert any(all(s >= 0.8 * template.max_score for s in scores)  # 晋升 (≥ 中级 3 months)
               for scores in by_agent.values())


@pytest.mark.parametrize("template_id", IDS)
def test_every_tier_of_every_item_rule_is_hit(months, template_id):
    """Values are computed the way the sheet will (KPI_RATE: ready rate, else counts)."""
    notation = pytest.importorskip("kpi_xl.core.notation")
    tiers = pytest.importorskip("kpi_xl.core.tiers")
    template = TEMPLATES[template_id]
    _, layout = build_workbook(template)
    calcs = {c.key: c for c in template.calcs}
    rows = _rows(months[template_id])
    header = {key: layout.headers[key] for key in layout.columns}
    checked = 0
    for item in template.items:
        if not item.rule or (item.points is not None and "KPI_TIER" not in item.points):
            continue
        values = []
        for row in rows:
            if item.value in {s.key for s in template.inputs}:
                values.append(row[header[item.value]])
                continue
            match = RATE.match(calcs[item.value].formula)
            if match is None:
                break
            ready, num, num2, den = match.groups()
            given = row[header[ready]] if ready else None
            top = row[header[num]] + (row[header[num2]] if num2 else 0)
            values.append(given if given is not None else top / row[header[den]])
        else:
            rule = notation.parse_rule(item.rule)
            found = tiers.match(rule, values)
            assert all(e is None for e in found.errors), (item.key, found.errors)
            assert set(found.tiers.tolist()) == set(range(len(rule.tiers))), item.key
            checked += 1
    assert checked >= 3
