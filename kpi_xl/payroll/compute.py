"""The payroll refresh as a pure function: sheets in (as cell grids), rows out.

:func:`compute_payroll` reads 考核 (values as computed), 员工, 规则 and 历史 of one month
workbook against its template, and returns the rows of 工资, 明细, 历史 and 异常 and the
概览 data blocks. No rule lives here that a template does not name: pay lines are 考核
columns (formulas HR can trace) or history rules; money is Decimal, half-up to the fen; the
wage law is :func:`kpi_xl.core.pay.apply_wage_law`. An agent with any problem keeps a 工资 row
marked 待核 with the problem cells blank or showing the error code — never a made-up 0 — and no
应发工资.

The agent rows are read and checked a column at a time (:mod:`kpi_xl.payroll.checks` clears the
cells that certainly have no problem in bulk); the rows left go through the per-row checks,
which list their problems on 异常 in sheet order.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, compress, islice, repeat
from operator import is_, itemgetter, ne

import numpy as np

from kpi_xl.core import history as core_history
from kpi_xl.core.cells import coordinate
from kpi_xl.core.column import Column
from kpi_xl.core.errors import CellProblem as Problem
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.gcpause import gc_paused
from kpi_xl.core.money import CENT, MoneyColumn, to_money
from kpi_xl.core.notation import Rule, parse_rule
from kpi_xl.core.pay import FLAG_MINIMUM_WAGE, FLAG_OVER_20, apply_wage_law
from kpi_xl.core.tiers import evaluate, explain
from kpi_xl.core.values import Kind, format_number, read_cell, read_column, shown_decimal
from kpi_xl.payroll.checks import error_cells, float_cells, input_problem, suspect_cells
from kpi_xl.payroll.grid import (
    HEADER_ROWS,
    Cell,
    ColumnFormulas,
    FormulaRun,
    GridLike,
    Sheet,
    ambiguous_month_message,
    error_code,
    error_message,
    identity,
    is_blank,
    is_error,
    month_text_of,
    text_of,
)
from kpi_xl.payroll.history import (
    HistoryOutcome,
    HistoryRow,
    apply_rules,
    merge,
    read_history,
    unclear_months,
)
from kpi_xl.payroll.result import (
    ON_HOLD,
    TOTAL,
    AgentPay,
    DetailItem,
    DetailRows,
    PayrollResult,
    SheetRows,
)
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
from kpi_xl.templates.model import Calc, Item, PayLine, Template
from kpi_xl.templates.specs import TEMPLATES

_READ_IN_FULL = frozenset({ASSESSMENT, ROSTER, HISTORY, RULES, OVERVIEW})
"""The sheets read below their header; of any other sheet only the top rows are read."""
HEAD_ONLY = {PAY: HEADER_ROWS, DETAIL: HEADER_ROWS, ISSUES: HEADER_ROWS}
"""The refresh's own output sheets whose rows below the header it replaces without reading
them: sheet → the last row :func:`compute_payroll` reads (an adapter may read no further)."""
_CHUNK = 1 << 16
"""Numbers (two per cell) of the formula cells taken into one array at a time."""
_CELL = re.compile(r"[A-Z]+(\d+)")


@dataclass
class _Row:
    """One agent row of 考核, for the per-row checks: column key → value."""

    row: int
    agent: str
    values: dict[str, object]


@dataclass
class _AgentTable:
    """The agent rows of 考核 (a 工号 filled), column by column: ``values[key][i]`` is the
    cell of column ``key`` on row ``rows[i]`` (``None`` where blank)."""

    rows: list[int]
    ids: list[str]
    values: dict[str, list[object]]

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, key: str) -> list[object]:
        """Column ``key`` (all ``None`` when 考核 lacks it)."""
        return self.values[key] if key in self.values else [None] * len(self.rows)

    def row(self, index: int) -> _Row:
        """Agent ``index`` as one row, for the per-row checks."""
        return _Row(self.rows[index], self.ids[index],
                    {key: column[index] for key, column in self.values.items()})


@dataclass(slots=True)
class _Pay:
    """One agent's 工资 row while it is computed; laid out as an :class:`AgentPay`."""

    row: int
    agent: str
    name: object
    team: object
    score: object
    grade: object
    lines: list[object]
    deduction: object
    net: Decimal | None
    notes: list[str]
    on_hold: bool = False
    flags: list[str] = field(default_factory=list)


class _Issues:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, sheet: str, cell: str, agent: str, message: str) -> None:
        self.rows.append((sheet, cell, agent, message))


def detect_template(sheets: Mapping[str, GridLike]) -> Template:
    """The template a workbook was made from: 说明 names it (``模板编号: taobao-cs``); else the
    template whose 考核 headers all appear on the 考核 sheet."""
    pattern = re.compile(re.escape(TEMPLATE_ID_LABEL) + r"\s*([\w-]+)")
    for value in Sheet(sheets.get(GUIDE)).values():
        found = pattern.search(str(value))
        if found and found.group(1) in TEMPLATES:
            return TEMPLATES[found.group(1)]
    assessment = Sheet(sheets.get(ASSESSMENT), HEADER_ROWS)
    top = assessment.header_row("工号")
    if top is not None:
        present = set(assessment.header_columns(top))
        for template in TEMPLATES.values():
            if all(text_of(header) in present for _, header, _ in template.columns()):
                return template
    raise ValueProblem("无法识别模板: 说明 表没有“模板编号”, 考核 表头也不匹配任何模板",
                       "cannot tell which template this workbook was made from")


@gc_paused()  # the refresh allocates rows that all live on in its result
def compute_payroll(template: Template, sheets: Mapping[str, GridLike], month: str | None = None,
                    problems: Iterable[Problem] = (),
                    formulas: Mapping[str, Collection[Cell]] | None = None,
                    patterns: Mapping[str, ColumnFormulas] | None = None) -> PayrollResult:
    """Refresh one month: see the module doc. ``sheets`` maps sheet names to grids (mappings or
    2-D lists, read in place) of values as Excel shows them; ``month`` defaults to
    考核!考核月份; ``problems`` are the recalc's error cells and formulas it could not compute
    (each cell not already listed goes to 异常 as it is).

    ``formulas`` — sheet name → the cells that hold a formula — lets the refresh notice a
    number typed over a formula of 考核 (an agent row of a computed column holding a constant
    is listed and the agent is 待核). ``None`` (an adapter that cannot read formulas) skips
    that check.

    ``patterns`` — sheet name → column → its formulas as runs of rows filled down
    (:data:`~kpi_xl.payroll.grid.FormulaRun`) — lets it notice a formula of 考核 retyped on one
    row (``KPI_TIER(T5,…)`` on row 7): an agent row whose formula is not its column's formula
    filled down is listed and the agent is 待核. ``None`` skips that check."""
    grids = {name: Sheet(data, None if name in _READ_IN_FULL else HEADER_ROWS)
             for name, data in sheets.items()}
    if ASSESSMENT not in grids:
        raise ValueProblem(_missing_sheet(ASSESSMENT, grids),
                           f"the {ASSESSMENT} sheet is missing (deleted or renamed)")
    month = _month(grids[ASSESSMENT], month)
    issues = _Issues()
    book = RuleBook(template, grids.get(RULES, Sheet()))
    book.check_rule_params()

    # 考核 is read once, column by column; its cells filed by column go with it
    columns, table, ambiguous = _read_assessment(template, grids.pop(ASSESSMENT), issues)
    _reasons_for_codes(template, table, book)
    column_formulas = None if patterns is None else _column_formulas(columns, patterns)
    pays, total, history_rows = _month_pay(template, grids, columns, table, ambiguous, book,
                                           month, formulas, column_formulas, issues)
    detail_rows = _detail(template, table, book)  # before 规则's issues go to 异常: it adds some
    listed_cells = {(row[0], row[1]) for row in issues.rows}
    agent_of_row = dict(zip(table.rows, table.ids, strict=True))
    for problem in problems:
        if (problem.sheet, problem.cell) not in listed_cells:
            listed_cells.add((problem.sheet, problem.cell))
            found_row = _CELL.fullmatch(problem.cell)
            agent_id = agent_of_row.get(int(found_row.group(1)), "") if (
                found_row and problem.sheet == ASSESSMENT) else ""
            issues.add(problem.sheet, problem.cell, agent_id, problem.message)
    for issue in book.issues:
        issues.add(RULES, issue.cell, "", issue.message)

    pay_headers = (*PAY_LEAD, *template.pay_headers, *PAY_TAIL)
    pay_rows = [*(pay.cells for pay in pays), total]
    overview = _overview(template, grids.get(OVERVIEW, Sheet()), pays)
    writes = tuple(
        SheetRows(sheet, _first_row(grids.get(sheet, Sheet()), headers[0]), len(headers), data)
        for sheet, headers, data in (
            (PAY, pay_headers, pay_rows), (DETAIL, DETAIL_HEADERS, detail_rows),
            (HISTORY, HISTORY_HEADERS, history_rows), (ISSUES, ISSUE_HEADERS, issues.rows)))
    return PayrollResult(template.id, month, pay_headers,
                         tuple(line.money for line in template.pay_lines), pays, pay_rows,
                         detail_rows, history_rows, issues.rows, overview, writes,
                         formulas_checked=formulas is not None)


def _month_pay(template: Template, grids: Mapping[str, Sheet], columns: dict[str, int],
               table: _AgentTable, ambiguous: Mapping[int, set[str]], book: RuleBook,
               month: str, formulas: Mapping[str, Collection[Cell]] | None,
               patterns: Mapping[str, Sequence[FormulaRun]] | None, issues: _Issues
               ) -> tuple[list[AgentPay], tuple[object, ...], list[HistoryRow]]:
    """Check the agent rows, pay them and run the history rules: each agent's 工资 row, the
    合计 row and the rows of 历史 (what is worked out per agent on the way goes on return,
    before 明细 is made)."""
    roster = _roster(grids, issues)
    bad_bases = _roster_problems(template, grids.get(ROSTER, Sheet()), issues) if roster else set()

    counts = Counter(table.ids)
    cells = None if formulas is None else _formula_cells(formulas)
    retyped = {} if patterns is None else _retyped_formulas(template, table, patterns)
    reasons, bad, moved = _check_rows(template, table, columns, counts, roster, bad_bases,
                                      ambiguous, cells, retyped, issues)
    rule_hold = book.hold_reason()
    if rule_hold is not None:  # a 规则 value every row's formulas read: nobody is paid on it
        for why in reasons:
            why.append(rule_hold)
    held = _pool_holds(template, table, columns, bad, moved, reasons, issues)
    for agent, cell in (roster.cells if roster else {}).items():
        if agent not in counts:
            issues.add(ROSTER, cell, agent,
                       f"工号 {agent} 在员工表, 但考核表没有 (not in 考核 this month)")

    minimum = book.money_param(template.min_wage_key)
    agents = _agent_pays(template, table, reasons, held)

    # this month's history rows come from scores and grades, before pay (history pay lines)
    current: list[HistoryRow] = [
        (month, a.agent, a.name, a.team, a.score, a.grade, None) for a in agents
        if counts[a.agent] == 1 and isinstance(a.score, float) and isinstance(a.grade, str)
        and not is_error(a.grade)]
    recorded, unreadable_months = read_history(grids.get(HISTORY, Sheet()))
    merged = merge(recorded, month, current)
    outcome = _judge_history(template, merged, month, book, current, len(agents),
                             unclear_months(unreadable_months), issues)
    for note in outcome.notes:
        issues.add(HISTORY, "", "", note)
    unreadable: dict[str, list[str]] = {}
    for problem in unreadable_months:
        issues.add(HISTORY, problem.cell, problem.agent, problem.message)
        unreadable.setdefault(problem.agent, []).append(problem.quoted)
    _history_lines(template, agents, outcome.amounts)
    for agent in agents:
        for message in outcome.errors.get(agent.agent, []):
            if not any(known in message for known in unreadable.get(agent.agent, [])):
                issues.add(HISTORY, "", agent.agent, message)
            agent.notes.append("历史有误")

    _settle(template, agents, minimum)
    for agent in agents:
        flags = outcome.flags.get(agent.agent)
        if flags:
            agent.notes.extend(flags)
            agent.flags.extend(flag.split(" ")[0] for flag in flags)

    nets = {a.agent: a.net for a in agents if counts[a.agent] == 1}
    history_rows = [(*row[:6], nets.get(str(row[1]))) if row[0] == month else row
                    for row in merged]
    return _laid_out(agents), _total_row(template, agents), history_rows


def _judge_history(template: Template, merged: Sequence[HistoryRow], month: str,
                   book: RuleBook, current: Sequence[HistoryRow], agents: int,
                   unclear: Mapping[object, str], issues: _Issues) -> HistoryOutcome:
    """The history rules over 历史 with this month's rows (``unclear``: the month numbers that
    may be either of two months, never read as either); not run when this month has none
    (no agent on 考核, or none with a score): there is nobody to judge, and the rules would
    only report the month missing from 历史."""
    if current:
        return apply_rules(template.history_rules, merged, month, book, unclear)
    if agents and template.history_rules:
        headers = {line.source: line.header for line in template.pay_lines}
        flags = "、".join(dict.fromkeys(rule.flag or headers.get(rule.key, rule.key)
                                       for rule in template.history_rules))
        issues.add(HISTORY, "", "", f"本月没有可记入历史的得分 (全员待核), "
                                    f"历史规则 ({flags}) 未判断 "
                                    "(no scores this month: the history rules were not run)")
    return HistoryOutcome()


# ---------------------------------------------------------------------------------- reading


def _missing_sheet(name: str, grids: Mapping[str, Sheet]) -> str:
    """``找不到“员工”表 …``, guessing the name it was renamed to (a sheet no template has whose
    name holds the old one, or that has a 工号 header)."""
    others = [sheet for sheet in grids if sheet not in SHEETS]
    guess = [sheet for sheet in others if name in sheet] or [
        sheet for sheet in others if grids[sheet].header_row("工号") is not None]
    renamed = f", 可能被改名为“{guess[0]}”" if guess else ", 可能被删除或改名"
    return f"找不到“{name}”表{renamed}: 请把工作表名改回“{name}”"


def _month(assessment: Sheet, month: str | None) -> str:
    """The month refreshed: 考核!考核月份, or ``month`` (--month) where that cell is blank; both
    given, they must agree (a wrong month would file this month's rows under another on 历史,
    which the 淘汰/晋升 rules read)."""
    cell, typed = assessment.label_value(MONTH_LABEL)
    where = f"{ASSESSMENT}!{coordinate(*cell) if cell else 'B2'}"
    written = None if is_blank(month_text_of(typed)) else _read_month(typed, where)
    if month is None:
        if written is None:
            raise ValueProblem(f"考核月份未填写: 请在 {where} 填写 (如 2026-11) 或使用 --month",
                               f"the month is blank: fill {where} or pass --month")
        return written
    if is_blank(month_text_of(month)):
        raise ValueProblem(f"--month 为空: 请写成 YYYY-MM (如 2026-11), 或不用 --month 而按 "
                           f"{where} 的考核月份", "--month is blank: write YYYY-MM (e.g. "
                           f"2026-11), or leave --month out to use {where}")
    given = _read_month(month, "--month")
    if written is not None and written != given:
        raise ValueProblem(
            f"月份不一致: {where} 是 {written}, --month 是 {given}: 请核对后改正 {where} 或去掉 "
            f"--month (--month 只在 {where} 为空时使用)",
            f"the months differ: {where} says {written}, --month says {given}: correct {where} "
            f"or drop --month (--month is for a blank {where} only)")
    return given


def _read_month(value: object, where: str) -> str:
    """A month cell or argument as ``YYYY-MM``; a number that may have lost a trailing zero
    (2026.1: 2026.10 or 2026.1?) is refused, not guessed."""
    ambiguous = ambiguous_month_message(value)
    if ambiguous is not None:
        raise ValueProblem(f"{where}: 考核{ambiguous[0]}", f"{where}: {ambiguous[1]}")
    try:
        return core_history.month_text(core_history.month_number(month_text_of(value)))
    except KpiError as error:
        raise ValueProblem(f"{where}: {error.zh}", f"{where}: {error.en}") from None


def _read_assessment(template: Template, sheet: Sheet, issues: _Issues
                     ) -> tuple[dict[str, int], _AgentTable, dict[int, set[str]]]:
    """Key → column of 考核, its agent rows, and per agent the keys of the columns whose
    repeated header leaves it ambiguous (:func:`_ambiguous`)."""
    top = sheet.header_row("工号")
    if top is None:
        raise ValueProblem("考核表找不到表头“工号”", "the 考核 sheet has no 工号 header")
    columns, doubled = _columns(template, sheet, top, issues)
    table = _agent_rows(template, sheet, top, columns, issues)
    return columns, table, _ambiguous(doubled, sheet, table)


def _columns(template: Template, sheet: Sheet, top: int, issues: _Issues
             ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Key → column, by header text; a header the template repeats (S6 客户投诉扣分: the input
    and the formula) takes its sheet columns in order. Also key → every column of a header
    the sheet repeats more often than the template (which one counts is ambiguous: listed)."""
    found = sheet.header_cells(top)
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


def _agent_rows(template: Template, sheet: Sheet, top: int, columns: dict[str, int],
                issues: _Issues) -> _AgentTable:
    """The rows below the header with a 工号 (a row with data but none is listed)."""
    id_col = columns.get("id", 1)
    inputs = [columns[s.key] for s in template.inputs if s.key in columns]
    below = sheet.rows_below(top)
    ids = sheet.column(id_col, below)
    for r, value in zip(below, ids, strict=True):
        if value is None and any(sheet.get((r, c)) is not None for c in inputs):
            issues.add(ASSESSMENT, coordinate(r, id_col), "",
                       "本行有数据但没有工号, 未计算 (a row with data but no staff id)")
    filled = [value is not None for value in ids]
    rows = list(compress(below, filled))
    if not rows:
        issues.add(ASSESSMENT, coordinate(top + 1, id_col), "",
                   "考核表还没有任何工号, 本月无人计算: 请填入本月考核数据后再刷新 "
                   "(no agent rows on 考核 yet)")
    return _AgentTable(rows, list(map(identity, compress(ids, filled))),
                       {key: sheet.column(col, rows) for key, col in columns.items()})


@dataclass
class _Roster:
    """员工 by 工号, each from its first row: the 工号 cell, the row, 姓名 and 团队 (the
    columns ``None`` where 员工 lacks the header); and the 工号 repeated on 员工."""

    cells: dict[str, str]
    rows: dict[str, int]
    columns: dict[str, int | None]
    """``"name"``/``"team"`` → the 员工 column."""
    values: dict[str, dict[str, object]]
    """``"name"``/``"team"`` → 工号 → the cell's value."""
    repeated: set[str]


def _roster(grids: Mapping[str, Sheet], issues: _Issues) -> _Roster | None:
    """员工 by 工号 (:class:`_Roster`); ``None`` (listed on 异常) when the sheet or its 工号
    header is missing: no agent can be checked against the roster, so everyone is 待核. A
    工号 repeated is listed (the agent is 待核: which row holds the pay bases is unknown)."""
    if ROSTER not in grids:
        issues.add(ROSTER, "", "", f"{_missing_sheet(ROSTER, grids)}; 无法核对工号, 全员待核 "
                                   f"(the {ROSTER} sheet is missing: nobody can be checked)")
        return None
    sheet = grids[ROSTER]
    top = sheet.header_row("工号")
    if top is None:
        issues.add(ROSTER, "", "", "员工表找不到表头“工号”: 无法核对工号, 全员待核 "
                                   "(the roster has no 工号 header)")
        return None
    headers = sheet.header_columns(top)
    col = headers["工号"]
    roster = _Roster({}, {}, {"name": headers.get("姓名"), "team": headers.get("团队")},
                     {"name": {}, "team": {}}, set())
    below = sheet.rows_below(top)
    for r, value in zip(below, sheet.column(col, below), strict=True):
        if value is None:
            continue
        agent = identity(value)
        if agent in roster.cells:
            issues.add(ROSTER, coordinate(r, col), agent,
                       f"工号 {agent} 在员工表重复 ({ROSTER}!{roster.cells[agent]}、"
                       f"{ROSTER}!{coordinate(r, col)}), 待核: 请删除多余的一行 "
                       f"(duplicate staff id on the roster)")
            roster.repeated.add(agent)
            continue
        roster.cells[agent] = coordinate(r, col)
        roster.rows[agent] = r
    rows = list(roster.rows.values())
    for key, column in roster.columns.items():
        if column is not None:
            roster.values[key] = dict(zip(roster.rows, sheet.column(column, rows), strict=True))
    return roster


def _roster_problems(template: Template, sheet: Sheet, issues: _Issues) -> set[str]:
    """The template's own 员工 columns (pay bases: 目标工资, 工资级别 …) checked like 考核
    inputs, blank included (a blank base would read as 0); the agents with a problem."""
    top = sheet.header_row("工号")
    if top is None or not template.roster:
        return set()
    found = sheet.header_columns(top)
    below = sheet.rows_below(top)
    ids = sheet.column(found["工号"], below)
    rows = [r for r, value in zip(below, ids, strict=True) if value is not None]
    specs = [(spec, found[text_of(spec.header)]) for spec in template.roster
             if text_of(spec.header) in found]
    suspects: set[int] = set()
    for spec, col in specs:
        suspects.update(np.flatnonzero(
            suspect_cells(spec, sheet.column(col, rows), blank_ok=False)).tolist())
    held: set[str] = set()
    for r in (rows[index] for index in sorted(suspects)):
        agent = identity(sheet.get((r, found["工号"])))
        for spec, col in specs:
            value = sheet.get((r, col))
            if is_blank(value):
                message: str | None = f"“{spec.header}”为空, 请填写 (required input is blank)"
            else:
                message = error_message(value) if is_error(value) else input_problem(spec, value)
            if message is not None:
                issues.add(ROSTER, coordinate(r, col), agent, message)
                held.add(agent)
    return held


def _formula_cells(formulas: Mapping[str, Collection[Cell]]) -> AbstractSet[Cell]:
    cells = formulas.get(ASSESSMENT, ())
    return cells if isinstance(cells, AbstractSet) else set(cells)


def _check_rows(template: Template, table: _AgentTable, columns: dict[str, int],
                counts: Counter[str], roster: _Roster | None, bad_bases: set[str],
                ambiguous: Mapping[int, set[str]], cells: AbstractSet[Cell] | None,
                retyped: Mapping[int, list[_Retyped]], issues: _Issues
                ) -> tuple[list[list[str]], dict[int, set[str]], dict[int, str]]:
    """List each agent row's problems on 异常, row by row: a repeated 工号, the roster (姓名
    and 团队 compared with 员工's), the inputs (:func:`_row_problems`), formulas typed over
    (``cells``: the cells of 考核 holding a formula; ``None`` skips the check), formulas
    retyped (``retyped``: :func:`_retyped_formulas`) and ambiguous repeated headers. Returns
    per agent the reasons it is 待核; per agent with a problem the keys of the columns
    concerned (every column when the row itself is in doubt: whose row it is, or which team it
    counts for); and per agent whose 团队 on 员工 differs, that team."""
    reasons: list[list[str]] = [[] for _ in table.rows]
    bad: dict[int, set[str]] = {}
    moved: dict[int, str] = {}
    calcs = [calc for _, calc in template.sheet_calcs()]
    suspects = _suspect_rows(template, table)
    differing = {} if roster is None else _roster_differences(table, roster)
    overwritten = set() if cells is None else _rows_without_formulas(calcs, table, columns,
                                                                    cells)
    for index in _rows_to_check(table, counts, roster, bad_bases,
                                suspects | overwritten | retyped.keys() | ambiguous.keys()
                                | differing.keys()):
        why = reasons[index]
        found: set[str] = set()
        in_doubt = _identity_problems(table, columns, counts, roster, index, why, issues)
        if roster is not None:
            if table.ids[index] in bad_bases:
                why.append("员工表数据有误")
            for key in differing.get(index, ()):
                _list_difference(table, columns, roster, index, key, issues)
                why.append(f"{_HEADERS[key]}与员工表不符")
                if key == "team":
                    moved[index] = text_of(roster.values[key][table.ids[index]])
                    in_doubt = True
        if index in suspects:
            found |= _row_problems(template, table.row(index), columns, issues)
        if found:
            why.append("输入有误")
        if cells is not None and index in overwritten:
            typed = _formula_problems(calcs, table.row(index), columns, cells, issues)
            if typed:
                found |= typed
                why.append("公式被改")
        if index in retyped:
            found |= _list_retyped(table, columns, index, retyped[index], issues)
            why.append("公式被改")
        if index in ambiguous:
            found |= ambiguous[index]
            why.append("表头重复的列数值不同")
        if in_doubt:
            found |= table.values.keys()
        if found:
            bad[index] = found
    return reasons, bad, moved


def _identity_problems(table: _AgentTable, columns: dict[str, int], counts: Counter[str],
                       roster: _Roster | None, index: int, why: list[str], issues: _Issues
                       ) -> bool:
    """List agent ``index``'s 工号 problems: repeated on 考核, not on 员工 (or 员工 missing),
    repeated on 员工. Whether the row is in doubt as a whole (whose data it is)."""
    row, agent = table.rows[index], table.ids[index]
    in_doubt = False
    if counts[agent] > 1:
        issues.add(ASSESSMENT, coordinate(row, columns["id"]), agent,
                   f"工号 {agent} 在考核表出现 {counts[agent]} 次 (duplicate staff id)")
        why.append("工号重复")
        in_doubt = True
    if roster is None:
        why.append("员工表缺失")
    elif agent not in roster.cells:
        issues.add(ASSESSMENT, coordinate(row, columns["id"]), agent,
                   f"工号 {agent} 不在员工表 (not on the roster)")
        why.append("员工表无此工号")
        in_doubt = True
    elif agent in roster.repeated:
        why.append("员工表工号重复")
        in_doubt = True
    return in_doubt


_HEADERS = {"name": "姓名", "team": "团队"}
"""The 考核 columns compared with 员工's, by key."""


def _roster_differences(table: _AgentTable, roster: _Roster) -> dict[int, list[str]]:
    """Per agent whose 姓名 or 团队 on 考核 is not 员工's for its 工号 (both filled; compared
    as text, spaces trimmed and full-width folded — no fuzzy match): the keys that differ.
    Cells equal as they are (nearly all) are passed over a column at a time."""
    found: dict[int, list[str]] = {}
    for key in _HEADERS:
        if roster.columns[key] is None or key not in table.values:
            continue
        ours = table.values[key]
        theirs = list(map(roster.values[key].get, table.ids))
        for index in compress(range(len(ours)), map(ne, ours, theirs)):
            if not (is_blank(ours[index]) or is_blank(theirs[index])) and (
                    text_of(ours[index]) != text_of(theirs[index])):
                found.setdefault(index, []).append(key)
    return dict(sorted(found.items()))


def _list_difference(table: _AgentTable, columns: dict[str, int], roster: _Roster,
                     index: int, key: str, issues: _Issues) -> None:
    """异常: agent ``index``'s 姓名/团队 (``key``) differs from 员工's, both cells named."""
    agent, header = table.ids[index], _HEADERS[key]
    cell = coordinate(table.rows[index], columns[key])
    ours, theirs = text_of(table.values[key][index]), text_of(roster.values[key][agent])
    where = f"{ROSTER}!{coordinate(roster.rows[agent], roster.columns[key] or 1)}"
    issues.add(ASSESSMENT, cell, agent,
               f"工号 {agent} 的{header}: 考核表是“{ours}” ({ASSESSMENT}!{cell}), "
               f"员工表是“{theirs}” ({where}): 请核对本行是否此人的数据 (只排序了工号列?) "
               f"({header} differs from the roster)")


def _suspect_rows(template: Template, table: _AgentTable) -> set[int]:
    """The agents whose row may have an input problem or an error value (the per-row checks
    decide); every other row certainly has none."""
    found: set[int] = set()
    for spec in template.inputs:
        if spec.key in table.values:
            found.update(np.flatnonzero(suspect_cells(spec, table.values[spec.key],
                                                      blank_ok=spec.optional)).tolist())
    inputs = {spec.key for spec in template.inputs}
    for key, _, _ in template.columns():
        if key in table.values and key not in inputs:  # inputs: screened above, errors included
            found.update(error_cells(table.values[key]))
    return found


def _rows_without_formulas(calcs: Sequence[Calc], table: _AgentTable, columns: dict[str, int],
                           cells: Iterable[Cell]) -> set[int]:
    """The agents whose row lacks the formula of a computed column: the formula cells are
    read once into a table of (agent row, computed column) → holds a formula."""
    wanted = [columns[calc.key] for calc in calcs if calc.key in columns]
    if not wanted or not table.rows:
        return set()
    rows = np.array(table.rows)
    bottom, right = int(rows.max()), max(wanted)
    has_formula = np.zeros((bottom + 1, right + 1), dtype=bool)
    spans = getattr(cells, "spans", None)  # the headless reader's runs of formula rows
    if spans is not None:
        for col, first, last in spans():
            if 1 <= col <= right:
                has_formula[max(first, 1):min(last, bottom) + 1, col] = True
    else:
        numbers = chain.from_iterable(cells)  # row, column, row, column …, a chunk at a time
        while (found := np.fromiter(islice(numbers, _CHUNK), dtype=np.int64)).size:
            found = found.reshape(-1, 2)
            found = found[(found[:, 0] >= 1) & (found[:, 0] <= bottom)
                          & (found[:, 1] >= 1) & (found[:, 1] <= right)]
            has_formula[found[:, 0], found[:, 1]] = True
    missing = ~has_formula[np.ix_(rows, wanted)]
    return set(np.flatnonzero(missing.any(axis=1)).tolist())


def _ambiguous(doubled: Mapping[str, list[int]], sheet: Sheet, table: _AgentTable
               ) -> dict[int, set[str]]:
    """Per agent whose repeated-header columns differ: the keys of those columns."""
    found: dict[int, set[str]] = {}
    for key, cols in doubled.items():
        reads = [sheet.column(col, table.rows) for col in cols]
        for index, values in enumerate(zip(*reads, strict=True)):
            if len({repr(value) for value in values}) > 1:
                found.setdefault(index, set()).add(key)
    return found


def _rows_to_check(table: _AgentTable, counts: Counter[str], roster: _Roster | None,
                   bad_bases: Collection[str], flagged: Iterable[int]) -> Iterable[int]:
    """The agents that get a reason or an issue: a repeated 工号, the roster, or ``flagged``."""
    if roster is None:
        return range(len(table))
    known, repeated = roster.cells, roster.repeated
    listed = {index for index, agent in enumerate(table.ids)
              if counts[agent] > 1 or agent not in known or agent in bad_bases
              or agent in repeated}
    return sorted(listed.union(flagged))


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
    codes: set[str] = set()
    for key, _, _ in template.columns():
        value = row.values.get(key)
        if key in columns and is_error(value):
            found.add(key)
            message = error_message(value)
            # an error listed once: the same message again (headless: the error carried on
            # through the row's formulas), or a bare code (Excel) already listed with its reason
            if message in seen or (not isinstance(value, KpiError) and error_code(value) in codes):
                continue
            seen.add(message)
            codes.add(error_code(value))
            issues.add(ASSESSMENT, coordinate(row.row, columns[key]), row.agent, message)
    return found


def _formula_problems(calcs: Sequence[Calc], row: _Row, columns: dict[str, int],
                      cells: Collection[Cell], issues: _Issues) -> set[str]:
    """Computed columns whose cell on this agent row holds no formula (a number typed over it,
    or nothing): listed, their keys returned."""
    found: set[str] = set()
    for calc in calcs:
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


@dataclass(frozen=True)
class _Retyped:
    """A formula of an agent row that is not its column's formula filled down: the column's
    key and header, the text found, and the column's formula rendered for the row (``None``
    when the column's rows disagree so that none can be called its formula)."""

    key: str
    header: str
    found: str
    expected: str | None


def _column_formulas(columns: Mapping[str, int], patterns: Mapping[str, ColumnFormulas]
                     ) -> dict[str, Sequence[FormulaRun]]:
    """Key → the formula runs of its 考核 column (columns without a formula left out)."""
    sheet = patterns.get(ASSESSMENT, {})
    return {key: sheet[col] for key, col in columns.items() if sheet.get(col)}


def _retyped_formulas(template: Template, table: _AgentTable,
                      patterns: Mapping[str, Sequence[FormulaRun]]
                      ) -> dict[int, list[_Retyped]]:
    """Per agent row, the computed columns whose formula there is not the column's formula
    filled down (:func:`_odd_rows`). An array formula's column is left out (one formula for
    the whole column); a row without a formula is :func:`_rows_without_formulas`'s."""
    found: dict[int, list[_Retyped]] = {}
    if not table.rows:
        return found
    rows = np.asarray(table.rows, dtype=np.int64)
    for _, calc in template.sheet_calcs():
        runs = patterns.get(calc.key)
        if calc.array or not runs:
            continue
        for index, text, expected in _odd_rows(table.rows, rows, runs):
            found.setdefault(index, []).append(_Retyped(calc.key, calc.header, text, expected))
    return dict(sorted(found.items()))


def _odd_rows(agent_rows: Sequence[int], rows: np.ndarray, runs: Sequence[FormulaRun]
              ) -> list[tuple[int, str, str | None]]:
    """The agent rows (by index; ``rows`` ascending, as an array too) of one column whose
    formula is not the column's (:func:`_column_pattern`) filled down, each with its text and
    the column's formula for the row. A run of the column's pattern is passed over whole;
    the rows of any other run are compared as texts (a row whose number also appears in an
    absolute reference, ``$C$5`` on row 5, has a pattern of its own and the same text)."""
    starts, ends = (np.fromiter(map(itemgetter(part), runs), dtype=np.int64, count=len(runs))
                    for part in (0, 1))
    firsts = np.searchsorted(rows, starts, side="left").tolist()
    lasts = np.searchsorted(rows, ends, side="right").tolist()
    expected = _column_pattern(runs, [last - first for first, last in zip(firsts, lasts,
                                                                          strict=True)])
    odd: list[tuple[int, str, str | None]] = []
    for (_, _, pattern), first, last in zip(runs, firsts, lasts, strict=True):
        if first == last or pattern == expected:
            continue
        for index in range(first, last):
            number = str(agent_rows[index])
            text = pattern.replace("\0", number)
            wanted = None if expected is None else expected.replace("\0", number)
            if text != wanted:
                odd.append((index, text, wanted))
    return odd


def _column_pattern(runs: Sequence[FormulaRun], agents: Sequence[int]) -> str | None:
    """The pattern of a column's formula: of the patterns covering the most agent rows (then
    rows of the column), the one whose text agrees with the most agent rows, then rows
    (:func:`_agreement`); ``None`` when two agree with as many (which one HR meant is unknown).
    ``agents[i]``: how many agent rows run ``i`` covers."""
    covered: dict[str, list[int]] = {}
    for (start, end, pattern), count in zip(runs, agents, strict=True):
        votes = covered.setdefault(pattern, [0, 0])
        votes[0] += count
        votes[1] += end - start + 1
    candidates = heapq.nlargest(_CANDIDATES, covered, key=covered.__getitem__)
    scored = sorted(((_agreement(pattern, runs, agents), pattern) for pattern in candidates),
                    reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


def _agreement(pattern: str, runs: Sequence[FormulaRun], agents: Sequence[int]
               ) -> tuple[int, int]:
    """The agent rows, then rows, of a column whose text is ``pattern`` filled down: the runs of
    that pattern and the one-row runs whose text it renders (a longer run of another pattern
    differs from it on its rows)."""
    agreeing, rows = 0, 0
    for (start, end, other), count in zip(runs, agents, strict=True):
        if other == pattern or (start == end and other.replace("\0", str(start))
                                == pattern.replace("\0", str(start))):
            agreeing += count
            rows += end - start + 1
    return agreeing, rows


_CANDIDATES = 3
"""The patterns of a column weighed as its formula (those covering the most agent rows)."""


def _list_retyped(table: _AgentTable, columns: Mapping[str, int], index: int,
                  retyped: Sequence[_Retyped], issues: _Issues) -> set[str]:
    """List an agent row's retyped formulas (:func:`_retyped_formulas`); their keys."""
    row, agent = table.rows[index], table.ids[index]
    for item in retyped:
        if item.expected is None:
            message = (f"“{item.header}”各行的公式不一致, 无法确定哪个是本列的公式: 本行是 "
                       f"{item.found}; 请核对后把正确的公式填满本列 "
                       f"(the rows of this column hold different formulas)")
        else:
            message = (f"“{item.header}”的公式与本列其他行不同: 本行是 {item.found}, 按本列公式"
                       f"应为 {item.expected}; 请从上一行复制公式 (the formula is not the "
                       f"column's formula filled down)")
        issues.add(ASSESSMENT, coordinate(row, columns[item.key]), agent, message)
    return {item.key for item in retyped}


def _pool_holds(template: Template, table: _AgentTable, columns: dict[str, int],
                bad: Mapping[int, set[str]], moved: Mapping[int, str], reasons: list[list[str]],
                issues: _Issues) -> dict[int, set[str]]:
    """A pay line shared across rows (:attr:`PayLine.pool`) is not paid to anyone sharing the
    pool with a row whose problem feeds it (a listed cell in a column the line depends on, or
    a row in doubt as a whole: :func:`_check_rows`); a row whose 团队 differs from 员工's
    feeds both teams' pools (``moved``: which one it belongs to is unknown). Each pool held is
    listed on 异常, naming the rows that fed it.

    Returns, per agent, the sources of the pay lines held there: their amounts came out of
    a pool a bad row fed, so they are left blank rather than shown."""
    held: dict[int, set[str]] = {}
    for line in template.pay_lines:
        if line.pool is None:
            continue
        feeds = template.depends_on(line.source)
        feeders = sorted(index for index, keys in bad.items() if keys & feeds)
        if not feeders:
            continue
        groups = _pool_groups(table, line.pool)
        fed: dict[str, list[int]] = {}
        for index in feeders:
            for group in _groups_fed(table, index, line.pool, moved):
                fed.setdefault(group, []).append(index)
        for group, members in groups.items():
            if group in fed:
                _hold_pool(table, columns, line, group, members, fed[group], bad, reasons,
                           issues)
                for index in members:
                    held.setdefault(index, set()).add(line.source)
    return held


def _pool_groups(table: _AgentTable, scope: str) -> dict[str, list[int]]:
    """The agents sharing each pool of a line: per 团队 (as compared) or everyone."""
    if scope != "team":
        return {"": list(range(len(table)))}
    groups: dict[str, list[int]] = {}
    for index, team in enumerate(map(text_of, table.column("team"))):
        groups.setdefault(team, []).append(index)
    return groups


def _groups_fed(table: _AgentTable, index: int, scope: str, moved: Mapping[int, str]
                ) -> list[str]:
    """The pools row ``index`` feeds or may feed: its 团队's (and 员工's, when that differs)."""
    if scope != "team":
        return [""]
    team = text_of(table.column("team")[index])
    return [team, moved[index]] if index in moved else [team]


def _hold_pool(table: _AgentTable, columns: dict[str, int], line: PayLine, group: str,
               members: Sequence[int], fed: Sequence[int], bad: Mapping[int, set[str]],
               reasons: list[list[str]], issues: _Issues) -> None:
    """Hold one pool: each member that is not itself a feeder gets a reason, and 异常 a row
    naming the rows on hold that fed it (the first few; rows with a problem besides the
    pool line's own cell first: theirs fed it, the others only show its error)."""
    who = "、".join(dict.fromkeys(table.ids[i] for i in fed))
    scope = "同组 " if line.pool == "team" else "全员共用奖金池, "
    feeds = set(fed)
    for index in members:
        if index not in feeds:
            reasons[index].append(f"{line.header}: {scope}{who} 数据有误, 奖金池待核")
    named = sorted(fed, key=lambda index: not bad[index] - {line.source})[:_NAMED_ROWS]
    id_col = columns.get("id", 1)
    shown = [f"{ASSESSMENT}!{coordinate(table.rows[i], id_col)} {table.ids[i]}" for i in named]
    more = f" 等 {len(fed)} 行" if len(fed) > _NAMED_ROWS else ""
    pool = f"团队“{group}”的奖金池" if line.pool == "team" else "全员共用的奖金池"
    people = len(dict.fromkeys(map(table.ids.__getitem__, members)))
    issues.add(ASSESSMENT, coordinate(table.rows[named[0]], id_col), "",
               f"{line.header}: {pool}涉及待核的行 ({'、'.join(shown)}{more}), "
               f"共用此奖金池的 {people} 人{line.header}待核 "
               f"(a row on hold feeds the {line.header} pool: it is not paid out)")


_NAMED_ROWS = 5
"""The rows a held pool's 异常 row names (then ``等 N 行``)."""


# ---------------------------------------------------------------------------------- pay


def _score(value: object) -> object:
    if is_error(value):
        return error_code(value)
    kind, number, _, _ = read_cell(value)
    return number if kind == Kind.NUMBER else (None if is_blank(value) else value)


def _scores(values: Sequence[object]) -> Sequence[object]:
    """:func:`_score` of each cell (a finite float is its own score; ``values`` themselves when
    every cell is one)."""
    _, plain = float_cells(values)
    return _replaced(values, np.flatnonzero(~plain).tolist(), _score)


def _shown(values: Sequence[object]) -> Sequence[object]:
    """The cells with each error value as its code (``#N/A``; ``values`` themselves when none
    is an error)."""
    return _replaced(values, error_cells(values), error_code)


def _replaced(values: Sequence[object], indexes: Sequence[int],
              convert: Callable[[object], object]) -> Sequence[object]:
    """``values`` with the cells at ``indexes`` converted (``values`` itself when none is)."""
    if not indexes:
        return values
    out = list(values)
    for index in indexes:
        out[index] = convert(values[index])
    return out


def _agent_pays(template: Template, table: _AgentTable, reasons: list[list[str]],
                held: Mapping[int, set[str]]) -> list[_Pay]:
    """Each agent's 工资 row before the history lines and the wage law; what cannot be paid
    is added to the agent's ``reasons``."""
    scores, grades = _scores(table.column("score")), _shown(table.column("grade"))
    for score, grade, why in zip(scores, grades, reasons, strict=True):
        if not isinstance(score, float) or not isinstance(grade, str) or grade.startswith("#"):
            why.append("KPI得分/等级无法计算")
    lines = [_pay_line(line, table.column(line.source), reasons, held)
             for line in template.pay_lines]
    deductions = _deductions(table.column(template.loss_key), reasons)
    per_agent = [list(values) for values in zip(*lines, strict=True)] if lines else [
        [] for _ in table.rows]
    return [_Pay(row, agent, name, team, score, grade, values, deduction, None, why)
            for row, agent, name, team, score, grade, values, deduction, why in zip(
                table.rows, table.ids, table.column("name"), table.column("team"), scores,
                grades, per_agent, deductions, reasons, strict=True)]


def _pay_line(line: PayLine, values: Sequence[object], reasons: list[list[str]],
              held: Mapping[int, set[str]]) -> list[object]:
    """One pay line for every agent: a history line is blank (filled by
    :func:`_history_lines`), so is a held one; a number is the amount (money to the fen)."""
    if line.history:
        return [None] * len(values)
    blank = {index for index, sources in held.items()
             if line.source in sources and not is_error(values[index])}
    _, plain = float_cells(values)
    plain[list(blank)] = False
    if line.money:
        money = {value: to_money(value) for value in set(compress(values, plain.tolist()))}
        amounts = list(map(money.get, values))
    else:
        amounts = list(values)
    for index in blank:
        amounts[index] = None
    for index in np.flatnonzero(~plain).tolist():
        if index not in blank:
            amounts[index] = _pay_cell(line, values[index], reasons[index])
    return amounts


def _pay_cell(line: PayLine, value: object, reasons: list[str]) -> object:
    kind, number, _, _ = read_cell(value)
    if kind == Kind.NUMBER:
        return to_money(value) if line.money else number  # type: ignore[arg-type]
    reasons.append(f"{line.header}无法计算")
    return error_code(value) if is_error(value) else (None if is_blank(value) else value)


def _deductions(values: Sequence[object], reasons: list[list[str]]) -> list[object]:
    """扣款 per agent: blank → none, an amount ≥ 0 → to the fen, anything else is listed."""
    numbers, plain = float_cells(values)
    plain &= numbers >= 0
    money = {value: to_money(value) for value in set(compress(values, plain.tolist()))}
    deductions: list[object] = list(map(money.get, values))
    for index in np.flatnonzero(~plain).tolist():
        deductions[index] = _deduction(values[index], reasons[index])
    return deductions


def _deduction(loss: object, reasons: list[str]) -> object:
    kind, number, _, _ = read_cell(loss)
    if kind == Kind.BLANK:
        return None
    if kind == Kind.NUMBER and number >= 0:
        return to_money(number)
    reasons.append("扣款有误")
    return error_code(loss) if is_error(loss) else loss


def _history_lines(template: Template, agents: list[_Pay],
                   amounts: Mapping[str, Mapping[str, Decimal | KpiError]]) -> None:
    """Fill the history pay lines: the rule's amount, 0.00 (one object) for agents it left out."""
    nothing = to_money(Decimal("0.00"))
    for index, line in enumerate(template.pay_lines):
        if not line.history:
            continue
        found = amounts.get(line.source, {})
        for agent in agents:
            amount = found.get(agent.agent)
            if amount is None:
                agent.lines[index] = nothing
            elif isinstance(amount, KpiError):
                agent.lines[index] = amount.code
                agent.notes.append(f"{line.header}无法计算")
            else:
                agent.lines[index] = to_money(amount)


def _settle(template: Template, agents: list[_Pay], minimum: object) -> None:
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
    gross = [sum(compress(a.lines, money), Decimal("0.00")) for a in payable]
    asked = [a.deduction if a.deduction is not None else Decimal("0.00") for a in payable]
    law = apply_wage_law(MoneyColumn.of(gross), MoneyColumn.of(asked),
                         None if minimum is None else minimum)  # type: ignore[arg-type]
    for agent, error, net, applied, shown, owed, total in zip(
            payable, law.net.errors.tolist(), law.net.amounts.tolist(),
            law.deduction.amounts.tolist(), law.flags.tolist(), asked, gross, strict=True):
        if error is not None:
            agent.on_hold = True
            agent.flags.append(ON_HOLD)
            agent.notes.append(f"{ON_HOLD}: {error}")
            continue
        agent.net = net
        agent.deduction = applied if agent.deduction is not None else None
        flags = [f for f in str(shown).split("; ") if f]
        agent.flags.extend(flags)
        if FLAG_OVER_20 in flags or (FLAG_MINIMUM_WAGE in flags and owed != applied):
            detail = f"应扣 {owed}, 实扣 {applied}"
            if FLAG_OVER_20 in flags:
                detail += f", 上限 = 应发 {total} × 20%"
            agent.notes.append(f"{'; '.join(flags)} ({detail})")
        elif flags:
            agent.notes.append(f"{FLAG_MINIMUM_WAGE} (应发 {total} < 最低工资 {minimum})")


def _laid_out(agents: list[_Pay]) -> list[AgentPay]:
    """Each agent's 工资 row as written, with its flags (one text per distinct flag)."""
    flags: dict[str, str] = {}
    return [AgentPay(agent.row, (agent.agent, agent.name, agent.team, agent.score, agent.grade,
                                 *agent.lines, agent.deduction, agent.net,
                                 "; ".join(agent.notes) or None),
                     agent.on_hold, tuple(map(flags.setdefault, agent.flags, agent.flags)))
            for agent in agents]


def _total_row(template: Template, agents: list[_Pay]) -> tuple[object, ...]:
    def column_sum(values: Iterable[object]) -> Decimal:
        return sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00"))

    paid = [a for a in agents if not a.on_hold]
    per_line = zip(*(a.lines for a in paid), strict=True) if paid else repeat(
        (), len(template.pay_lines))
    lines = [column_sum(values) if line.money else None
             for line, values in zip(template.pay_lines, per_line, strict=True)]
    held = sum(a.on_hold for a in agents)
    note = f"{ON_HOLD} {held} 人未计入合计" if held else None
    return (TOTAL, f"{len(agents)}人", None, None, None, *lines,
            column_sum(a.deduction for a in paid),
            column_sum(a.net for a in agents), note)


# ---------------------------------------------------------------------------------- 明细


def _reasons_for_codes(template: Template, table: _AgentTable, book: RuleBook) -> None:
    """Where an item's points cell shows only an error code — the Excel paths read values,
    not the engine's errors — and its input is no error, put in its place the rule's own
    error for that input: the KpiError ``KPI_TIER`` gave in the cell, message and all. So 异常
    gives the reason (单位疑误: 47 看似百分数 …), as headless does, not only the code. Items
    whose points a formula of their own computes are left as they are."""
    for item in template.items:
        points = table.values.get(f"pt_{item.key}")
        if item.points is not None or points is None:
            continue
        coded = [i for i in error_cells(points) if not isinstance(points[i], KpiError)]
        inputs = table.column(item.value)
        coded = [i for i in coded if not is_error(inputs[i])]
        rule = book.item_rule(item)[0] if coded else None
        if rule is None:
            continue
        found = evaluate(rule, read_column([inputs[i] for i in coded])).errors
        for i, error in zip(coded, found, strict=True):
            if error is not None and error.code == error_code(points[i]):
                points[i] = error


def _detail(template: Template, table: _AgentTable, book: RuleBook) -> DetailRows:
    """Per agent and scored item: the value the rule reads, the tier matched, the points."""
    items: list[DetailItem] = []
    for item in template.items:
        rule, _ = book.item_rule(item)
        cells = table.column(item.value)
        points = _scores(table.column(f"pt_{item.key}"))
        if rule is None:
            text = f"按公式计算: {item.definition}" if item.definition else "按公式计算"
            texts: Sequence[object] = [text] * len(table)
        else:
            texts = _explained(rule, item, cells, points)
        items.append((item.name, _shown(cells), texts, points))
    return DetailRows(table.ids, table.column("name"), items)


def _explained(rule: Rule, item: Item, cells: Sequence[object], points: Sequence[object]
               ) -> list[object]:
    """Per cell, the tier the rule matched (one text object per distinct text, shared by its
    cells); noted where the points column disagrees with the rule (its formula computes them
    another way)."""
    distinct, where = _distinct(cells)
    column = read_column(distinct)
    texts = explain(rule, column).values[where].tolist()
    results = evaluate(rule, column)
    for index in _disagreements(Column(results.values[where], results.errors[where]), points):
        texts[index] = f"{texts[index]}; 得分按公式计算 ({item.definition})"
    once: dict[object, object] = {}
    return list(map(once.setdefault, texts, texts))


def _distinct(cells: Sequence[object]) -> tuple[list[object], np.ndarray]:
    """The cells with each finite float once (equal to the bit: ``-0.0`` is not ``0.0``) and
    every other cell as it is, and where each cell is among them."""
    numbers, plain = float_cells(cells)
    floats, others = np.flatnonzero(plain), np.flatnonzero(~plain)
    _, first, inverse = np.unique(numbers[floats].view(np.int64), return_index=True,
                                  return_inverse=True)
    where = np.empty(len(cells), dtype=np.intp)
    where[floats] = inverse
    where[others] = np.arange(len(first), len(first) + len(others))
    picked = np.concatenate([floats[first], others]).tolist()
    return list(map(cells.__getitem__, picked)), where


def _disagreements(results: Column, points: Sequence[object]) -> list[int]:
    """Where a number of the points column is not the rule's (numeric) result."""
    if results.values.dtype != np.float64:
        return [index for index, (result, point) in enumerate(
                    zip(results.cells(), points, strict=True))
                if isinstance(point, float) and isinstance(result, int | float)
                and abs(float(result) - point) > 1e-9]
    scored = np.array([p if isinstance(p, float) else math.nan for p in points],
                      dtype=np.float64)
    valid = np.fromiter(map(is_, results.errors, repeat(None)), dtype=bool, count=len(points))
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(valid & (np.abs(results.values - scored) > 1e-9)).tolist()


# ---------------------------------------------------------------------------------- 概览


def _overview(template: Template, sheet: Sheet, agents: list[AgentPay]
              ) -> dict[tuple[int, int], object]:
    """The 概览 data blocks (found by their headers): grade counts, score bins, team averages."""
    scores = [a.score for a in agents if isinstance(a.score, float)]
    grades = [a.grade for a in agents if isinstance(a.grade, str)]
    bins = parse_rule("; ".join(f"{b}:{i}" for i, b in enumerate(template.score_bins)))
    placed = Counter(evaluate(bins, scores).cells()) if scores else Counter()
    bin_counts = [placed[i] for i in range(len(template.score_bins))]
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
        top, left = _block_origin(sheet, heads, (HEADER_ROW, col))
        for i, (label, value) in enumerate(block, start=1):
            cells[(top + i, left)] = label
            cells[(top + i, left + 1)] = value
    return cells


def _block_origin(sheet: Sheet, heads: tuple[str, str], default: tuple[int, int]
                  ) -> tuple[int, int]:
    for r, c in sheet.find(heads[0]):
        if text_of(sheet.get((r, c + 1))) == heads[1]:
            return r, c
    return default


def _first_row(sheet: Sheet, first_header: str) -> int:
    top = sheet.header_row(first_header)
    return FIRST_ROW if top is None else top + 1
