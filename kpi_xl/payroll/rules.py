"""Reading 规则: parameters, item rules and tables, each found by its label."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import to_money
from kpi_xl.core.notation import Rule, parse_rule
from kpi_xl.core.tiers import unit_slip
from kpi_xl.core.values import Kind, read_cell
from kpi_xl.payroll.checks import input_problem
from kpi_xl.payroll.grid import Cell, Sheet, is_blank, is_error
from kpi_xl.templates.model import Item, Param, Table, Template, item_label

RULES = "规则"


@dataclass(frozen=True)
class RuleIssue:
    cell: str
    message: str
    holds: bool = False
    """The cell feeds every agent's pay and holds a value the formulas compute a plausible
    but wrong amount from (a rate of 500%, a negative deduction): nobody may be paid on it
    (:meth:`RuleBook.hold_reason`). An unreadable rule needs no hold: its formulas give an
    error value, which holds the agents by itself."""


@dataclass
class RuleBook:
    """The 规则 sheet of one workbook, read against its template."""

    template: Template
    sheet: Sheet
    issues: list[RuleIssue] = field(default_factory=list)
    _item_rules: dict[str, tuple[Rule | None, str]] = field(default_factory=dict, repr=False)

    def _issue(self, cell: Cell | None, message: str, *, holds: bool = False) -> None:
        self.issues.append(RuleIssue(coordinate(*cell) if cell else "", message, holds))

    def hold_reason(self) -> str | None:
        """Why every agent is 待核 (``规则有误 (规则!C22)``), or ``None``: the issues listed so
        far with :attr:`RuleIssue.holds`."""
        cells = [f"{RULES}!{issue.cell}" for issue in self.issues if issue.holds]
        return f"规则有误 ({'、'.join(dict.fromkeys(cells))})" if cells else None

    def param(self, key: str) -> object:
        """The value next to the parameter's label (``None`` when the label is missing)."""
        spec = self.template.param(key)
        cell, value = self.sheet.label_value(spec.label)
        if cell is None:
            self._issue(None, f"规则表找不到参数“{spec.label}” (parameter label not found)")
        elif is_error(value):
            self._issue(cell, f"参数“{spec.label}”是错误值 {value} (error value)")
            return None
        return value

    def number(self, value: object, what: str, key: str | None = None) -> float | None:
        """A literal, or the parameter ``key``'s value, as a number (``None`` + an issue)."""
        raw = self.param(key) if key is not None else value
        kind, number, _, _ = read_cell(raw)
        if kind == Kind.NUMBER:
            return number
        label = self.template.param(key).label if key is not None else what
        self._issue(self._cell(key), f"参数“{label}”应为数字, 现为 {raw!r} (must be a number)")
        return None

    def resolve(self, value: object) -> object:
        """A history-rule field: the value of the parameter it names, else the literal."""
        if isinstance(value, str) and any(p.key == value for p in self.template.params):
            return self.param(value)
        return value

    def _cell(self, key: str | None) -> Cell | None:
        if key is None:
            return None
        cell, _ = self.sheet.label_value(self.template.param(key).label)
        return cell

    def money_param(self, key: str) -> object:
        """A money parameter: ``None`` when blank, else Decimal; an issue when not a number."""
        value = self.param(key)
        if is_blank(value):
            return None
        try:
            return to_money(value)  # type: ignore[arg-type]
        except KpiError as error:
            self._issue(self._cell(key), f"{self.template.param(key).label}: {error}")
            return None

    def item_rule(self, item: Item) -> tuple[Rule | None, str]:
        """The item's rule as typed on 规则 (parsed), and its text; ``None`` when it has none.
        Read once per item (a problem with it is listed once, however often it is asked for)."""
        if item.key not in self._item_rules:
            self._item_rules[item.key] = self._read_item_rule(item)
        return self._item_rules[item.key]

    def _read_item_rule(self, item: Item) -> tuple[Rule | None, str]:
        cell, text = self.sheet.label_value(item_label(item))
        if cell is None:
            if item.rule:
                self._issue(None, f"规则表找不到考核项目“{item_label(item)}” (item not found)")
            return None, ""
        if is_blank(text) or str(text).strip() in ("—", "-"):
            return None, ""
        try:
            return parse_rule(text), str(text)
        except KpiError as error:
            self._issue(cell, f"{item.name}: {error}")
            return None, str(text)

    def check_rule_params(self) -> None:
        """Before anyone is paid: every tier-notation parameter must parse (an issue per
        unreadable rule); a number parameter must keep its kind's bounds, a rate rule (an
        item's or a parameter's) must not be written in plain numbers (issues that hold)."""
        for spec in self.template.params:
            cell, value = self.sheet.label_value(spec.label)
            if cell is None or is_blank(value) or is_error(value):
                continue
            if spec.notation == "tier":
                self._check_tier_param(spec, cell, value)
            elif spec.kind is not None:
                self._check_number(spec, cell, value)
        for item in self.template.items:
            if self.template.reads_rate(item):
                cell, text = self.sheet.label_value(item_label(item))
                self._check_rate_rule(item.name, cell, text)

    def _check_tier_param(self, spec: Param, cell: Cell, text: object) -> None:
        try:
            parse_rule(text)
        except KpiError as error:
            self._issue(cell, f"{spec.label}: {error}")
            return
        if spec.kind == "rate":
            self._check_rate_rule(spec.label, cell, text)

    def _check_number(self, spec: Param, cell: Cell, value: object) -> None:
        """A number outside the bounds of the parameter's kind (text is left to the formulas
        and readers, which fail on it)."""
        if read_cell(value)[0] != Kind.NUMBER:
            return
        message = input_problem(spec.as_input(), value)
        if message is not None:
            self._issue(cell, message, holds=spec.key not in self._history_only())

    def _check_rate_rule(self, name: str, cell: Cell | None, text: object) -> None:
        """A rule over rates whose thresholds are all plain numbers above 1 (``Y≥50:100``):
        every rate (0.47) falls below them, into one tier — the percent signs were left out."""
        if cell is None or is_blank(text) or is_error(text):
            return
        try:
            rule = parse_rule(text)
        except KpiError:
            return  # listed by whoever reads the rule
        bounds = rule.bounds
        if bounds and all(b.value > 1 and not {"%", "‰"} & set(b.text) for b in bounds):
            slip = unit_slip(bounds[0].value).zh
            self._issue(cell, f"{name}: 档位{slip}; 本项数值是比率 (0.47 = 47%), 档位不写 % 时"
                              f"全员落在同一档 (rate thresholds written without %)", holds=True)

    def _history_only(self) -> frozenset[str]:
        """The parameters only multi-month rules read (flags, not pay: listed, nobody held)."""
        named = (value for rule in self.template.history_rules
                 for value in (rule.threshold, rule.times, rule.window, rule.grades))
        return frozenset(value for value in named if isinstance(value, str))

    def table_rows(self, key: str) -> list[tuple[object, ...]]:
        """The data rows of a 规则 table, found by its title (header row below it)."""
        spec: Table = self.template.table(key)
        cell = next(self.sheet.find(spec.title), None)
        if cell is None:
            self._issue(None, f"规则表找不到表格“{spec.title}” (table not found)")
            return []
        row, col = cell
        rows = []
        r = row + 2
        while not is_blank(self.sheet.get((r, col))):
            rows.append(tuple(self.sheet.get((r, col + i)) for i in range(len(spec.headers))))
            r += 1
        return rows

    def prizes(self, key: str) -> list[object]:
        """A (名次, 奖金) table as the amounts in rank order."""
        found = []
        for rank, amount in (row[:2] for row in self.table_rows(key)):
            kind, number, _, _ = read_cell(rank)
            if kind != Kind.NUMBER:
                self._issue(None, f"“{self.template.table(key).title}”的名次 {rank!r} 不是数字")
                continue
            found.append((number, amount))
        return [amount for _, amount in sorted(found, key=lambda pair: pair[0])]


def window_months(value: object) -> int | None:
    """``全部``/blank → ``None`` (all months on record); a number → that many months."""
    if is_blank(value) or str(value).strip() in ("全部", "all", "ALL", "All"):
        return None
    kind, number, _, _ = read_cell(value)
    if kind == Kind.NUMBER and number >= 1 and float(number).is_integer():
        return int(number)
    raise ValueProblem(f"淘汰窗口应为“全部”或月数, 现为 {value!r}",
                       f"the window must be 全部 or a number of months, got {value!r}")


def grade_list(value: object) -> tuple[str, ...]:
    """``中级客服,高级客服`` (or a tuple) → the grade labels."""
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return tuple(part for part in re.split(r"[,，、;；\s]+", str(value or "")) if part)
