"""The payroll refresh as a pure function: sheets in (as cell grids), rows out.

:func:`compute_payroll` reads 考核 (values as computed), 员工, 规则 and 历史 of one month
workbook against its template, and returns the rows of 工资, 明细, 历史 and 异常 and the
概览 data blocks. No rule lives here that a template does not name: pay lines are 考核
columns (formulas HR can trace) or history rules; money is Decimal, half-up to the fen; the
wage law is :func:`kpi_xl.core.pay.apply_wage_law`. An agent with any problem keeps a 工资 row
marked 待核 with the problem cells blank or showing the error code — never a made-up 0 — and no
应发工资.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kpi_xl.core import history as core_history
from kpi_xl.core.errors import CellProblem as Problem
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import CENT, MoneyColumn, to_money
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.pay import FLAG_MINIMUM_WAGE, FLAG_OVER_20, apply_wage_law
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import Kind, read_cell, shown_decimal
from kpi_xl.payroll.grid import (
    Grid,
    GridLike,
    a1,
    as_grid,
    error_code,
    error_message,
    find_cells,
    header_columns,
    header_row,
    identity,
    is_blank,
    is_error,
    label_value,
    month_text_of,
    rows_below,
    text_of,
)
from kpi_xl.payroll.history import HistoryRow, apply_rules, merge, read_history
from kpi_xl.payroll.result import ON_HOLD, TOTAL, AgentPay, PayrollResult, SheetRows
from kpi_xl.payroll.rules import RULES, RuleBook
from kpi_xl.templates.layout import (
    ASSESSMENT,
    DETAIL,
    DETAIL_HEADERS,
    FIRST_ROW,
    GUIDE,
    HEADER_ROW,
    HISTORY,
    HISTORY_HEADERS,
    ISSUE_HEADERS,
    ISSUES,
    MONTH_LABEL,
    OVERVIEW,
    OVERVIEW_BLOCKS,
    PAY,
    PAY_LEAD,
    PAY_TAIL,
    ROSTER,
    TEAM_ROWS,
    TEMPLATE_ID_LABEL,
)
from kpi_xl.templates.model import Template
from kpi_xl.templates.specs import TEMPLATES

NUMERIC_KINDS = frozenset({"money", "count", "rate", "seconds", "hours", "points", "score"})


@dataclass
class _Row:
    row: int
    agent: str
    values: dict[str, object]


class _Issues:
    def __init__(self) -> None:
        self.rows: list[list[object]] = []

    def add(self, sheet: str, cell: str, agent: str, message: str) -> None:
        self.rows.append([sheet, cell, agent, message])


def detect_template(sheets: Mapping[str, GridLike]) -> Template:
    """The template a workbook was made from: 说明 names it (``模板编号: taobao-cs``); else the
    template whose 考核 headers all appear on the 考核 sheet."""
    guide = as_grid(sheets.get(GUIDE))
    pattern = re.compile(re.escape(TEMPLATE_ID_LABEL) + r"\s*([\w-]+)")
    for value in guide.values():
        found = pattern.search(str(value))
        if found and found.group(1) in TEMPLATES:
            return TEMPLATES[found.group(1)]
    assessment = as_grid(sheets.get(ASSESSMENT))
    top = header_row(assessment, "工号")
    if top is not None:
        present = set(header_columns(assessment, top))
        for template in TEMPLATES.values():
            if all(text_of(header) in present for _, header, _ in template.columns()):
                return template
    raise ValueProblem("无法识别模板: 说明 表没有“模板编号”, 考核 表头也不匹配任何模板",
                       "cannot tell which template this workbook was made from")


def compute_payroll(template: Template, sheets: Mapping[str, GridLike], month: str | None = None,
                    problems: Iterable[Problem] = ()) -> PayrollResult:
    """Refresh one month: see the module doc. ``sheets`` maps sheet names to grids (dicts or
    2-D lists) of values as Excel shows them; ``month`` defaults to 考核!考核月份; ``problems``
    are the recalc's error cells and formulas it could not compute (each cell not already
    listed goes to 异常 as it is)."""
    grids = {name: as_grid(data) for name, data in sheets.items()}
    assessment = grids.get(ASSESSMENT, {})
    month = _month(assessment, month)
    issues = _Issues()
    book = RuleBook(template, grids.get(RULES, {}))
    book.check_rule_params()

    top = header_row(assessment, "工号")
    if top is None:
        raise ValueProblem("考核表找不到表头“工号”", "the 考核 sheet has no 工号 header")
    columns = _columns(template, assessment, top, issues)
    rows = _agent_rows(template, assessment, top, columns, issues)
    roster = _roster(grids.get(ROSTER, {}), issues)

    counts: dict[str, int] = {}
    for row in rows:
        counts[row.agent] = counts.get(row.agent, 0) + 1
    reasons: dict[int, list[str]] = {row.row: [] for row in rows}
    for row in rows:
        if counts[row.agent] > 1:
            issues.add(ASSESSMENT, a1(row.row, columns["id"]), row.agent,
                       f"工号 {row.agent} 在考核表出现 {counts[row.agent]} 次 (duplicate staff id)")
            reasons[row.row].append("工号重复")
        if roster and row.agent not in roster:
            issues.add(ASSESSMENT, a1(row.row, columns["id"]), row.agent,
                       f"工号 {row.agent} 不在员工表 (not on the roster)")
            reasons[row.row].append("员工表无此工号")
        if _row_problems(template, row, columns, issues):
            reasons[row.row].append("输入有误")
    listed = {row.agent for row in rows}
    for agent, cell in roster.items():
        if agent not in listed:
            issues.add(ROSTER, cell, agent,
                       f"工号 {agent} 在员工表, 但考核表没有 (not in 考核 this month)")

    minimum = book.money_param(template.min_wage_key)
    agents = [_agent_pay(template, row, reasons[row.row]) for row in rows]

    # this month's history rows come from scores and grades, before pay (history pay lines)
    unique = [a for a in agents if counts[a.agent] == 1]
    current: list[HistoryRow] = [
        (month, a.agent, a.name, a.team, a.score, a.grade, None) for a in unique
        if isinstance(a.score, float) and isinstance(a.grade, str) and not is_error(a.grade)]
    merged = merge(read_history(grids.get(HISTORY, {})), month, current)
    outcome = apply_rules(template.history_rules, merged, month, book)
    for note in outcome.notes:
        issues.add(HISTORY, "", "", note)
    for agent in agents:
        _history_lines(template, agent, outcome.amounts)
        for message in outcome.errors.get(agent.agent, []):
            issues.add(HISTORY, "", agent.agent, message)
            agent.notes.append("历史有误")

    _settle(template, agents, minimum)
    for agent in agents:
        agent.notes.extend(outcome.flags.get(agent.agent, []))
        agent.flags.extend(flag.split(" ")[0] for flag in outcome.flags.get(agent.agent, []))

    nets = {a.agent: a.net for a in unique}
    history_rows = [[*row[:6], nets.get(str(row[1])) if row[0] == month else row[6]]
                    for row in merged]
    listed_cells = {(row[0], row[1]) for row in issues.rows}
    for problem in problems:
        if (problem.sheet, problem.cell) not in listed_cells:
            listed_cells.add((problem.sheet, problem.cell))
            issues.add(problem.sheet, problem.cell, "", problem.message)
    for issue in book.issues:
        issues.add(RULES, issue.cell, "", issue.message)

    pay_headers = (*PAY_LEAD, *template.pay_headers, *PAY_TAIL)
    pay_rows = [_pay_row(a) for a in agents] + [_total_row(template, agents)]
    detail_rows = _detail(template, rows, book)
    overview = _overview(template, grids.get(OVERVIEW, {}), agents)
    writes = tuple(
        SheetRows(sheet, _first_row(grids.get(sheet, {}), headers[0]), len(headers), data)
        for sheet, headers, data in (
            (PAY, pay_headers, pay_rows), (DETAIL, DETAIL_HEADERS, detail_rows),
            (HISTORY, HISTORY_HEADERS, history_rows), (ISSUES, ISSUE_HEADERS, issues.rows)))
    return PayrollResult(template.id, month, pay_headers,
                         tuple(line.money for line in template.pay_lines), agents, pay_rows,
                         detail_rows, history_rows, issues.rows, overview, writes)


# ---------------------------------------------------------------------------------- reading


def _month(assessment: Grid, month: str | None) -> str:
    value: object = month
    if month is None:
        _, value = label_value(assessment, MONTH_LABEL)
    value = month_text_of(value)
    if is_blank(value):
        raise ValueProblem("考核月份未填写: 请在 考核!B2 填写 (如 2026-11) 或使用 --month",
                           "the month is blank: fill 考核!B2 or pass --month")
    return core_history.month_text(core_history.month_number(value))


def _columns(template: Template, grid: Grid, top: int, issues: _Issues) -> dict[str, int]:
    found = header_columns(grid, top)
    columns: dict[str, int] = {}
    for key, header, _ in template.columns():
        col = found.get(text_of(header))
        if col is None:
            issues.add(ASSESSMENT, a1(top, 1), "", f"考核表缺少列“{header}” (missing column)")
        else:
            columns[key] = col
    return columns


def _agent_rows(template: Template, grid: Grid, top: int, columns: dict[str, int],
                issues: _Issues) -> list[_Row]:
    id_col = columns.get("id", 1)
    inputs = [columns[s.key] for s in template.inputs if s.key in columns]
    rows = []
    for r in rows_below(grid, top):
        if is_blank(grid.get((r, id_col))):
            if any(not is_blank(grid.get((r, c))) for c in inputs):
                issues.add(ASSESSMENT, a1(r, id_col), "",
                           "本行有数据但没有工号, 未计算 (a row with data but no staff id)")
            continue
        values = {key: grid.get((r, col)) for key, col in columns.items()}
        rows.append(_Row(r, identity(grid.get((r, id_col))), values))
    return rows


def _roster(grid: Grid, issues: _Issues) -> dict[str, str]:
    """工号 → its cell on 员工 (empty when the sheet has no header: nothing to check)."""
    top = header_row(grid, "工号")
    if top is None:
        return {}
    col = header_columns(grid, top)["工号"]
    found: dict[str, str] = {}
    for r in rows_below(grid, top):
        value = grid.get((r, col))
        if is_blank(value):
            continue
        agent = identity(value)
        if agent in found:
            issues.add(ROSTER, a1(r, col), agent, f"工号 {agent} 在员工表重复 (duplicate)")
            continue
        found[agent] = a1(r, col)
    return found


def _row_problems(template: Template, row: _Row, columns: dict[str, int],
                  issues: _Issues) -> bool:
    """List blank required inputs, text in number columns and error cells of one agent row."""
    before = len(issues.rows)
    for spec in template.inputs:
        if spec.key not in columns:
            continue
        value = row.values.get(spec.key)
        cell = a1(row.row, columns[spec.key])
        if is_blank(value):
            if not spec.optional:
                issues.add(ASSESSMENT, cell, row.agent,
                           f"“{spec.header}”为空, 请填写 (required input is blank)")
            continue
        if spec.kind in NUMERIC_KINDS and not is_error(value):
            kind, _, label, _ = read_cell(value)
            if kind is Kind.TEXT:
                issues.add(ASSESSMENT, cell, row.agent,
                           f"“{spec.header}”应为数字, 现为文本 \"{label}\" (text in a number cell)")
    seen: set[str] = set()
    for key, _, _ in template.columns():
        value = row.values.get(key)
        if key in columns and is_error(value):
            message = error_message(value)
            if message not in seen:
                seen.add(message)
                issues.add(ASSESSMENT, a1(row.row, columns[key]), row.agent, message)
    return len(issues.rows) > before


# ---------------------------------------------------------------------------------- pay


def _score(value: object) -> object:
    if is_error(value):
        return error_code(value)
    kind, number, _, _ = read_cell(value)
    return number if kind is Kind.NUMBER else (None if is_blank(value) else value)


def _agent_pay(template: Template, row: _Row, reasons: list[str]) -> AgentPay:
    values = row.values
    score, grade = _score(values.get("score")), values.get("grade")
    if isinstance(grade, KpiError) or is_error(grade):
        grade = error_code(grade)
    if not isinstance(score, float) or not isinstance(grade, str) or grade.startswith("#"):
        reasons.append("KPI得分/等级无法计算")
    lines: list[object] = []
    for line in template.pay_lines:
        if line.history:
            lines.append(None)  # filled by _history_lines
            continue
        value = values.get(line.source)
        kind, number, _, _ = read_cell(value)
        if kind is Kind.NUMBER:
            lines.append(to_money(value) if line.money else number)  # type: ignore[arg-type]
            continue
        lines.append(error_code(value) if is_error(value) else (
            None if is_blank(value) else value))
        reasons.append(f"{line.header}无法计算")
    loss = values.get(template.loss_key)
    kind, number, _, _ = read_cell(loss)
    deduction: object
    if kind is Kind.BLANK:
        deduction = None
    elif kind is Kind.NUMBER and number >= 0:
        deduction = to_money(number)
    else:
        deduction = error_code(loss) if is_error(loss) else loss
        reasons.append("扣款有误")
    return AgentPay(row.row, row.agent, values.get("name"), values.get("team"), score, grade,
                    lines, deduction, None, reasons)


def _history_lines(template: Template, agent: AgentPay,
                   amounts: Mapping[str, Mapping[str, Decimal | KpiError]]) -> None:
    for index, line in enumerate(template.pay_lines):
        if not line.history:
            continue
        amount = amounts.get(line.source, {}).get(agent.agent, Decimal("0.00"))
        if isinstance(amount, KpiError):
            agent.lines[index] = amount.code
            agent.notes.append(f"{line.header}无法计算")
        else:
            agent.lines[index] = to_money(amount)


def _settle(template: Template, agents: list[AgentPay], minimum: object) -> None:
    """Gross = Σ money lines; the wage law on the loss deduction; 待核 rows get no 应发工资."""
    money = [line.money for line in template.pay_lines]
    payable = [a for a in agents if not a.notes]
    for agent in agents:
        if agent.notes:
            agent.on_hold = True
            agent.notes[:] = [f"{ON_HOLD}: " + ", ".join(dict.fromkeys(agent.notes))]
            agent.flags.append(ON_HOLD)
    if not payable:
        return
    gross = [sum((v for v, m in zip(a.lines, money, strict=True) if m), Decimal("0.00"))
             for a in payable]
    asked = [a.deduction if a.deduction is not None else Decimal("0.00") for a in payable]
    law = apply_wage_law(MoneyColumn.of(gross), MoneyColumn.of(asked),
                         None if minimum is None else minimum)  # type: ignore[arg-type]
    for index, agent in enumerate(payable):
        error = law.net.errors[index]
        if error is not None:
            agent.on_hold = True
            agent.flags.append(ON_HOLD)
            agent.notes.append(f"{ON_HOLD}: {error}")
            continue
        applied = law.deduction.amounts[index]
        agent.net = law.net.amounts[index]
        agent.deduction = applied if agent.deduction is not None else None
        flags = [f for f in str(law.flags[index]).split("; ") if f]
        agent.flags.extend(flags)
        if FLAG_OVER_20 in flags or (FLAG_MINIMUM_WAGE in flags and asked[index] != applied):
            detail = f"应扣 {asked[index]}, 实扣 {applied}"
            if FLAG_OVER_20 in flags:
                detail += f", 上限 = 应发 {gross[index]} × 20%"
            agent.notes.append(f"{'; '.join(flags)} ({detail})")
        elif flags:
            agent.notes.append(f"{FLAG_MINIMUM_WAGE} (应发 {gross[index]} < 最低工资 {minimum})")


def _pay_row(agent: AgentPay) -> list[object]:
    return [agent.agent, agent.name, agent.team, agent.score, agent.grade, *agent.lines,
            agent.deduction, agent.net, "; ".join(agent.notes) or None]


def _total_row(template: Template, agents: list[AgentPay]) -> list[object]:
    def column_sum(values: Iterable[object]) -> Decimal:
        return sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00"))

    lines = [column_sum(a.lines[i] for a in agents) if line.money else None
             for i, line in enumerate(template.pay_lines)]
    held = sum(a.on_hold for a in agents)
    note = f"{ON_HOLD} {held} 人未计入应发工资合计" if held else None
    return [TOTAL, f"{len(agents)}人", None, None, None, *lines,
            column_sum(a.deduction for a in agents if not a.on_hold),
            column_sum(a.net for a in agents), note]


# ---------------------------------------------------------------------------------- 明细


def _detail(template: Template, rows: list[_Row], book: RuleBook) -> list[list[object]]:
    """Per agent and scored item: the value the rule reads, the tier matched, the points."""
    per_item = []
    for item in template.items:
        rule, _ = book.item_rule(item)
        values = [_shown(row.values.get(item.value)) for row in rows]
        points = [_score(row.values.get(f"pt_{item.key}")) for row in rows]
        if rule is None:
            text = f"按公式计算: {item.definition}" if item.definition else "按公式计算"
            texts = [text] * len(rows)
        else:
            cells = [row.values.get(item.value) for row in rows]
            texts = list(explain(rule, cells).values)
            results = list(evaluate(rule, cells).cells())
            for i, (result, point) in enumerate(zip(results, points, strict=True)):
                if isinstance(point, float) and isinstance(result, int | float) and (
                        abs(float(result) - point) > 1e-9):
                    texts[i] = f"{texts[i]}; 得分按公式计算 ({item.definition})"
        per_item.append((item, values, texts, points))
    out = []
    for index, row in enumerate(rows):
        for item, values, texts, points in per_item:
            out.append([row.agent, row.values.get("name"), item.name, values[index],
                        texts[index], points[index]])
    return out


def _shown(value: object) -> object:
    if is_error(value):
        return error_code(value)
    return value


# ---------------------------------------------------------------------------------- 概览


def _overview(template: Template, grid: Grid, agents: list[AgentPay]) -> dict[tuple[int, int],
                                                                               object]:
    """The 概览 data blocks (found by their headers): grade counts, score bins, team averages."""
    scores = [a.score for a in agents if isinstance(a.score, float)]
    grades = [a.grade for a in agents if isinstance(a.grade, str)]
    bins = parse_rule("; ".join(f"{b}:{i}" for i, b in enumerate(template.score_bins)))
    placed = list(evaluate(bins, scores).cells()) if scores else []
    bin_counts = [sum(1 for p in placed if p == i) for i in range(len(template.score_bins))]
    teams: dict[str, list[float]] = {}
    for agent in agents:
        if isinstance(agent.score, float) and not is_blank(agent.team):
            teams.setdefault(str(agent.team), []).append(agent.score)
    averages = [(team, float((shown_decimal(sum(v)) / len(v)).quantize(CENT, ROUND_HALF_UP)))
                for team, v in teams.items()][:TEAM_ROWS]
    blocks = [
        [(g.label, grades.count(g.label)) for g in template.grades],
        list(zip(template.score_bins, bin_counts, strict=True)),
        averages + [(None, None)] * (TEAM_ROWS - len(averages)),
    ]
    cells: dict[tuple[int, int], object] = {}
    for (col, heads), block in zip(OVERVIEW_BLOCKS, blocks, strict=True):
        top, left = _block_origin(grid, heads, (HEADER_ROW, col))
        for i, (label, value) in enumerate(block, start=1):
            cells[(top + i, left)] = label
            cells[(top + i, left + 1)] = value
    return cells


def _block_origin(grid: Grid, heads: tuple[str, str], default: tuple[int, int]
                  ) -> tuple[int, int]:
    for r, c in find_cells(grid, heads[0]):
        if text_of(grid.get((r, c + 1))) == heads[1]:
            return r, c
    return default


def _first_row(grid: Grid, first_header: str) -> int:
    top = header_row(grid, first_header)
    return FIRST_ROW if top is None else top + 1
