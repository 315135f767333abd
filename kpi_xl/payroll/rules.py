"""Reading 规则: parameters, item rules and tables, each found by its label."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import KpiError, ValueProblem
from kpi_xl.core.money import to_money
from kpi_xl.core.notation import Rule, parse_rule
from kpi_xl.core.values import Kind, read_cell
from kpi_xl.payroll.grid import Cell, Sheet, is_blank, is_error
from kpi_xl.templates.model import Item, Table, Template, item_label

RULES = "规则"


@dataclass(frozen=True)
class RuleIssue:
    cell: str
    message: str


@dataclass
class RuleBook:
    """The 规则 sheet of one workbook, read against its template."""

    template: Template
    sheet: Sheet
    issues: list[RuleIssue] = field(default_factory=list)

    def _issue(self, cell: Cell | None, message: str) -> None:
        self.issues.append(RuleIssue(coordinate(*cell) if cell else "", message))

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
        """The item's rule as typed on 规则 (parsed), and its text; ``None`` when it has none."""
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
        """Every tier-notation parameter must parse (an issue per unreadable rule)."""
        for spec in self.template.params:
            if spec.notation != "tier":
                continue
            cell, text = self.sheet.label_value(spec.label)
            if cell is None or is_blank(text) or is_error(text):
                continue
            try:
                parse_rule(text)
            except KpiError as error:
                self._issue(cell, f"{spec.label}: {error}")

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
