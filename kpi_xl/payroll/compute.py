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
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kpi_xl.core import history as core_history
from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import CellProblem as Problem
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import CENT, MoneyColumn, to_money
from kpi_xl.core.notation import parse_rule
from kpi_xl.core.pay import FLAG_MINIMUM_WAGE, FLAG_OVER_20, apply_wage_law
from kpi_xl.core.tiers import evaluate, explain, unit_slip
from kpi_xl.core.values import Kind, format_number, read_cell, shown_decimal
from kpi_xl.payroll.grid import (
    Cell,
    Grid,
    GridLike,
    as_grid,
    error_code,
    error_message,
    find_cells,
    header_cells,
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
from kpi_xl.payroll.history import HistoryRow, apply_rules, merge, month_problems, read_history
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
    SHEETS,
    TEAM_ROWS,
    TEMPLATE_ID_LABEL,
)
from kpi_xl.templates.model import KIND_NOUNS, Input, Template
from kpi_xl.templates.specs import TEMPLATES


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
                    problems: Iterable[Problem] = (),
                    formulas: Mapping[str, Collection[Cell]] | None = None) -> PayrollResult:
    """Refresh one month: see the module doc. ``sheets`` maps sheet names to grids (dicts or
    2-D lists) of values as Excel shows them; ``month`` defaults to 考核!考核月份; ``problems``
    are the recalc's error cells and formulas it could not compute (each cell not already
    listed goes to 异常 as it is).

    ``formulas`` — sheet name → the cells that hold a formula — lets the refresh notice a
    number typed over a formula of 考核 (an agent row of a computed column holding a constant
    is listed and the agent is 待核). ``None`` (an adapter that cannot read formulas) skips
    that check."""
    grids = {name: as_grid(data) for name, data in sheets.items()}
    if ASSESSMENT not in grids:
        raise ValueProblem(_missing_sheet(ASSESSMENT, grids),
                           f"the {ASSESSMENT} sheet is missing (deleted or renamed)")
    assessment = grids[ASSESSMENT]
    month = _month(assessment, month)
    issues = _Issues()
    book = RuleBook(template, grids.get(RULES, {}))
    book.check_rule_params()

    top = header_row(assessment, "工号")
    if top is None:
        raise ValueProblem("考核表找不到表头“工号”", "the 考核 sheet has no 工号 header")
    columns, doubled = _columns(template, assessment, top, issues)
    rows = _agent_rows(template, assessment, top, columns, issues)
    roster = _roster(grids, issues)
    bad_bases = _roster_problems(template, grids.get(ROSTER, {}), issues) if roster else set()

    counts: dict[str, int] = {}
    for row in rows:
        counts[row.agent] = counts.get(row.agent, 0) + 1
    reasons: dict[int, list[str]] = {row.row: [] for row in rows}
    bad: dict[int, set[str]] = {row.row: set() for row in rows}
    """Per 考核 row: the keys of the columns whose cell has a problem listed on 异常."""
    cells = None if formulas is None else set(formulas.get(ASSESSMENT, ()))
    for row in rows:
        if counts[row.agent] > 1:
            issues.add(ASSESSMENT, coordinate(row.row, columns["id"]), row.agent,
                       f"工号 {row.agent} 在考核表出现 {counts[row.agent]} 次 (duplicate staff id)")
            reasons[row.row].append("工号重复")
        if roster is None:
            reasons[row.row].append("员工表缺失")
        elif row.agent not in roster:
            issues.add(ASSESSMENT, coordinate(row.row, columns["id"]), row.agent,
                       f"工号 {row.agent} 不在员工表 (not on the roster)")
            reasons[row.row].append("员工表无此工号")
        elif row.agent in bad_bases:
            reasons[row.row].append("员工表数据有误")
        bad[row.row] |= _row_problems(template, row, columns, issues)
        if bad[row.row]:
            reasons[row.row].append("输入有误")
        if cells is not None:
            overwritten = _formula_problems(template, row, columns, cells, issues)
            if overwritten:
                bad[row.row] |= overwritten
                reasons[row.row].append("公式被改")
        ambiguous = {key for key, cols in doubled.items()
                     if len({repr(assessment.get((row.row, c))) for c in cols}) > 1}
        if ambiguous:
            bad[row.row] |= ambiguous
            reasons[row.row].append("表头重复的列数值不同")
    held = _pool_holds(template, rows, bad, reasons)
    listed = {row.agent for row in rows}
    for agent, cell in (roster or {}).items():
        if agent not in listed:
            issues.add(ROSTER, cell, agent,
                       f"工号 {agent} 在员工表, 但考核表没有 (not in 考核 this month)")

    minimum = book.money_param(template.min_wage_key)
    agents = [_agent_pay(template, row, reasons[row.row], held.get(row.row, set()))
              for row in rows]

    # this month's history rows come from scores and grades, before pay (history pay lines)
    unique = [a for a in agents if counts[a.agent] == 1]
    current: list[HistoryRow] = [
        (month, a.agent, a.name, a.team, a.score, a.grade, None) for a in unique
        if isinstance(a.score, float) and isinstance(a.grade, str) and not is_error(a.grade)]
    merged = merge(read_history(grids.get(HISTORY, {})), month, current)
    outcome = apply_rules(template.history_rules, merged, month, book)
    for note in outcome.notes:
        issues.add(HISTORY, "", "", note)
    unreadable: dict[str, list[str]] = {}
    for cell, agent_id, message in month_problems(grids.get(HISTORY, {})):
        issues.add(HISTORY, cell, agent_id, message)
        unreadable.setdefault(agent_id, []).append(message)
    for agent in agents:
        _history_lines(template, agent, outcome.amounts)
        for message in outcome.errors.get(agent.agent, []):
            if not any(known in message for known in unreadable.get(agent.agent, [])):
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
    agent_of_row = {row.row: row.agent for row in rows}
    for problem in problems:
        if (problem.sheet, problem.cell) not in listed_cells:
            listed_cells.add((problem.sheet, problem.cell))
            found = re.fullmatch(r"[A-Z]+(\d+)", problem.cell)
            agent_id = agent_of_row.get(int(found.group(1)), "") if (
                found and problem.sheet == ASSESSMENT) else ""
            issues.add(problem.sheet, problem.cell, agent_id, problem.message)
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


def _missing_sheet(name: str, grids: Mapping[str, Grid]) -> str:
    """``找不到“员工”表 …``, guessing the name it was renamed to (a sheet no template has whose
    name holds the old one, or that has a 工号 header)."""
    others = [sheet for sheet in grids if sheet not in SHEETS]
    guess = [sheet for sheet in others if name in sheet] or [
        sheet for sheet in others if header_row(grids[sheet], "工号") is not None]
    renamed = f", 可能被改名为“{guess[0]}”" if guess else ", 可能被删除或改名"
    return f"找不到“{name}”表{renamed}: 请把工作表名改回“{name}”"


def _month(assessment: Grid, month: str | None) -> str:
    value: object = month
    where = "--month"
    if month is None:
        cell, value = label_value(assessment, MONTH_LABEL)
        where = f"{ASSESSMENT}!{coordinate(*cell) if cell else 'B2'}"
    value = month_text_of(value)
    if is_blank(value):
        raise ValueProblem(f"考核月份未填写: 请在 {where} 填写 (如 2026-11) 或使用 --month",
                           f"the month is blank: fill {where} or pass --month")
    try:
        return core_history.month_text(core_history.month_number(value))
    except KpiError as error:
        raise ValueProblem(f"{where}: {error.zh}", f"{where}: {error.en}") from None


def _columns(template: Template, grid: Grid, top: int, issues: _Issues
             ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Key → column, by header text; a header the template repeats (S6 客户投诉扣分: the input
    and the formula) takes its sheet columns in order. Also key → every column of a header
    the sheet repeats more often than the template (which one counts is ambiguous: listed)."""
    found = header_cells(grid, top)
    wanted = Counter(text_of(header) for _, header, _ in template.columns())
    taken: Counter[str] = Counter()
    columns: dict[str, int] = {}
    doubled: dict[str, list[int]] = {}
    for key, header, _ in template.columns():
        text = text_of(header)
        cols = found.get(text, [])
        index = taken[text]
        taken[text] += 1
        if index >= len(cols):
            issues.add(ASSESSMENT, coordinate(top, 1), "",
                       f"考核表缺少列“{header}” (missing column)")
            continue
        columns[key] = cols[index]
        if len(cols) > wanted[text]:
            doubled[key] = cols
            if index == 0:
                where = ", ".join(f"{ASSESSMENT}!{coordinate(top, c)}" for c in cols)
                issues.add(ASSESSMENT, coordinate(top, cols[0]), "",
                           f"考核表有 {len(cols)} 列“{header}” ({where}), 无法确定按哪一列计算: "
                           f"请删除或改名多余的列; 各列数值不同的人待核 (duplicate column header)")
    return columns, doubled


def _agent_rows(template: Template, grid: Grid, top: int, columns: dict[str, int],
                issues: _Issues) -> list[_Row]:
    id_col = columns.get("id", 1)
    inputs = [columns[s.key] for s in template.inputs if s.key in columns]
    rows = []
    for r in rows_below(grid, top):
        if is_blank(grid.get((r, id_col))):
            if any(not is_blank(grid.get((r, c))) for c in inputs):
                issues.add(ASSESSMENT, coordinate(r, id_col), "",
                           "本行有数据但没有工号, 未计算 (a row with data but no staff id)")
            continue
        values = {key: grid.get((r, col)) for key, col in columns.items()}
        rows.append(_Row(r, identity(grid.get((r, id_col))), values))
    return rows


def _roster(grids: Mapping[str, Grid], issues: _Issues) -> dict[str, str] | None:
    """工号 → its cell on 员工; ``None`` (listed on 异常) when the sheet or its 工号 header is
    missing: no agent can be checked against the roster, so everyone is 待核."""
    if ROSTER not in grids:
        issues.add(ROSTER, "", "", f"{_missing_sheet(ROSTER, grids)}; 无法核对工号, 全员待核 "
                                   f"(the {ROSTER} sheet is missing: nobody can be checked)")
        return None
    grid = grids[ROSTER]
    top = header_row(grid, "工号")
    if top is None:
        issues.add(ROSTER, "", "", "员工表找不到表头“工号”: 无法核对工号, 全员待核 "
                                   "(the roster has no 工号 header)")
        return None
    col = header_columns(grid, top)["工号"]
    found: dict[str, str] = {}
    for r in rows_below(grid, top):
        value = grid.get((r, col))
        if is_blank(value):
            continue
        agent = identity(value)
        if agent in found:
            issues.add(ROSTER, coordinate(r, col), agent, f"工号 {agent} 在员工表重复 (duplicate)")
            continue
        found[agent] = coordinate(r, col)
    return found


def _roster_problems(template: Template, grid: Grid, issues: _Issues) -> set[str]:
    """The template's own 员工 columns (pay bases: 目标工资, 工资级别 …) checked like 考核
    inputs, blank included (a blank base would read as 0); the agents with a problem."""
    top = header_row(grid, "工号")
    if top is None or not template.roster:
        return set()
    found = header_columns(grid, top)
    id_col = found["工号"]
    held: set[str] = set()
    for r in rows_below(grid, top):
        if is_blank(grid.get((r, id_col))):
            continue
        agent = identity(grid.get((r, id_col)))
        for spec in template.roster:
            col = found.get(text_of(spec.header))
            if col is None:
                continue
            value = grid.get((r, col))
            if is_blank(value):
                message: str | None = f"“{spec.header}”为空, 请填写 (required input is blank)"
            else:
                message = error_message(value) if is_error(value) else input_problem(spec, value)
            if message is not None:
                issues.add(ROSTER, coordinate(r, col), agent, message)
                held.add(agent)
    return held


def _row_problems(template: Template, row: _Row, columns: dict[str, int],
                  issues: _Issues) -> set[str]:
    """List blank required inputs, inputs their kind does not allow (text in a number column,
    a value not in the dropdown, a number out of bounds) and error cells of one agent row;
    the keys of the columns listed."""
    found: set[str] = set()
    for spec in template.inputs:
        if spec.key not in columns:
            continue
        value = row.values.get(spec.key)
        cell = coordinate(row.row, columns[spec.key])
        if is_blank(value):
            if not spec.optional:
                issues.add(ASSESSMENT, cell, row.agent,
                           f"“{spec.header}”为空, 请填写 (required input is blank)")
                found.add(spec.key)
            continue
        message = None if is_error(value) else input_problem(spec, value)
        if message is not None:
            issues.add(ASSESSMENT, cell, row.agent, message)
            found.add(spec.key)
    seen: set[str] = set()
    for key, _, _ in template.columns():
        value = row.values.get(key)
        if key in columns and is_error(value):
            found.add(key)
            message = error_message(value)
            if message not in seen:
                seen.add(message)
                issues.add(ASSESSMENT, coordinate(row.row, columns[key]), row.agent, message)
    return found


def input_problem(spec: Input, value: object) -> str | None:
    """What is wrong with a (non-blank, non-error) input cell for its kind, or ``None``: a
    value outside the dropdown of a choice/yesno column, text in a number column, a number
    outside the kind's :class:`~kpi_xl.templates.model.Bounds` (a rate above 100%, a negative
    count or amount, a fractional count, an implausible magnitude)."""
    header = spec.header
    if spec.allowed:
        if text_of(value) in {text_of(choice) for choice in spec.allowed}:
            return None
        return (f"“{header}”应为 {'/'.join(spec.allowed)} 之一, 现为 \"{text_of(value)}\" "
                f"(not one of the allowed values)")
    bounds = spec.limits
    if bounds is None:
        return None
    kind, number, label, _ = read_cell(value)
    if kind == Kind.TEXT:
        return f"“{header}”应为数字, 现为文本 \"{label}\" (text in a number cell)"
    if kind != Kind.NUMBER:
        return None
    noun = KIND_NOUNS.get(spec.kind, "数值")
    shown = format_number(number)
    if spec.kind == "rate" and number > 1 and (bounds.high is None or bounds.high <= 1):
        if not (isinstance(value, str) and "%" in text_of(value)) and 2 <= number <= 100:
            return f"“{header}”{unit_slip(number).zh} (a rate above 100%)"
        return (f"“{header}”为 {format_number(number * 100)}%, 比率应在 0%–100% 之间 "
                f"(a rate above 100%)")
    if bounds.low is not None and number < bounds.low:
        if bounds.low == 0:
            return f"“{header}”为 {shown}: {noun}不能为负数 (must not be negative)"
        return f"“{header}”为 {shown}: {noun}不能小于 {format_number(bounds.low)} (too small)"
    if bounds.whole and not float(number).is_integer():
        return f"“{header}”为 {shown}: {noun}应为整数 (must be a whole number)"
    if bounds.high is not None and number > bounds.high:
        big = f"{number:,.0f}" if abs(number) >= 1e6 else shown
        return (f"“{header}”为 {big}, 超出合理范围 (≤ {bounds.high:,.0f}): 请检查是否多输了位数 "
                f"(implausibly large)")
    return None


def _formula_problems(template: Template, row: _Row, columns: dict[str, int],
                      cells: Collection[Cell], issues: _Issues) -> set[str]:
    """Computed columns whose cell on this agent row holds no formula (a number typed over it,
    or nothing): listed, their keys returned."""
    found: set[str] = set()
    for _, calc in template.sheet_calcs():
        col = columns.get(calc.key)
        if col is None or (row.row, col) in cells:
            continue
        value = row.values.get(calc.key)
        if is_blank(value):
            message = (f"“{calc.header}”没有公式 (被删除, 或本行超出模板的公式范围), "
                       f"请从上一行复制公式 (the formula is missing)")
        else:
            shown = format_number(value) if isinstance(value, float) else text_of(value)
            message = (f"“{calc.header}”的公式被改为数值 {shown}, 请恢复公式 "
                       f"(a typed value replaced the column's formula)")
        issues.add(ASSESSMENT, coordinate(row.row, col), row.agent, message)
        found.add(calc.key)
    return found


def _pool_holds(template: Template, rows: list[_Row], bad: Mapping[int, set[str]],
                reasons: Mapping[int, list[str]]) -> dict[int, set[str]]:
    """A pay line shared across rows (:attr:`PayLine.pool`) is not paid to anyone sharing the
    pool with a row whose problem feeds it (a listed cell in a column the line depends on).

    Returns, per 考核 row, the sources of the pay lines held there: their amounts came out of
    a pool a bad row fed, so they are left blank rather than shown."""
    held: dict[int, set[str]] = {}
    for line in template.pay_lines:
        if line.pool is None:
            continue
        feeds = template.depends_on(line.source)
        groups: dict[str, list[_Row]] = {}
        for row in rows:
            group = text_of(row.values.get("team")) if line.pool == "team" else ""
            groups.setdefault(group, []).append(row)
        for members in groups.values():
            fed = [row.agent for row in members if bad[row.row] & feeds]
            if not fed:
                continue
            who = "、".join(dict.fromkeys(fed))
            scope = "同组 " if line.pool == "team" else "全员共用奖金池, "
            for row in members:
                held.setdefault(row.row, set()).add(line.source)
                if not bad[row.row] & feeds:
                    reasons[row.row].append(f"{line.header}: {scope}{who} 数据有误, 奖金池待核")
    return held


# ---------------------------------------------------------------------------------- pay


def _score(value: object) -> object:
    if is_error(value):
        return error_code(value)
    kind, number, _, _ = read_cell(value)
    return number if kind == Kind.NUMBER else (None if is_blank(value) else value)


def _agent_pay(template: Template, row: _Row, reasons: list[str],
               held: set[str]) -> AgentPay:
    values = row.values
    score, grade = _score(values.get("score")), values.get("grade")
    if isinstance(grade, KpiError) or is_error(grade):
        grade = error_code(grade)
    if not isinstance(score, float) or not isinstance(grade, str) or grade.startswith("#"):
        reasons.append("KPI得分/等级无法计算")
    lines: list[object] = []
    for line in template.pay_lines:
        value = values.get(line.source)
        if line.history or (line.source in held and not is_error(value)):
            lines.append(None)  # history lines: filled by _history_lines; held: left blank
            continue
        kind, number, _, _ = read_cell(value)
        if kind == Kind.NUMBER:
            lines.append(to_money(value) if line.money else number)  # type: ignore[arg-type]
            continue
        lines.append(error_code(value) if is_error(value) else (
            None if is_blank(value) else value))
        reasons.append(f"{line.header}无法计算")
    loss = values.get(template.loss_key)
    kind, number, _, _ = read_cell(loss)
    deduction: object
    if kind == Kind.BLANK:
        deduction = None
    elif kind == Kind.NUMBER and number >= 0:
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

    paid = [a for a in agents if not a.on_hold]
    lines = [column_sum(a.lines[i] for a in paid) if line.money else None
             for i, line in enumerate(template.pay_lines)]
    held = sum(a.on_hold for a in agents)
    note = f"{ON_HOLD} {held} 人未计入合计" if held else None
    return [TOTAL, f"{len(agents)}人", None, None, None, *lines,
            column_sum(a.deduction for a in paid),
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
