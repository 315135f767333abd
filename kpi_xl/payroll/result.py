"""What a payroll refresh produces: rows for 工资, 明细, 历史, 异常 and the 概览 cells."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from kpi_xl.core.errors import KpiError
from kpi_xl.payroll.grid import Cell

ON_HOLD = "待核"
TOTAL = "合计"


@dataclass(frozen=True)
class SheetRows:
    """Rows to write on an output sheet from ``first_row`` (column A on), ``width`` columns
    wide; everything below the header that is not rewritten is cleared."""

    sheet: str
    first_row: int
    width: int
    rows: list[list[object]]


@dataclass
class AgentPay:
    """One agent's 工资 row, before it is laid out."""

    row: int
    """The agent's row on 考核."""
    agent: str
    name: object
    team: object
    score: object
    grade: object
    lines: list[object]
    deduction: object
    net: Decimal | None
    notes: list[str] = field(default_factory=list)
    on_hold: bool = False
    flags: list[str] = field(default_factory=list)


@dataclass
class PayrollResult:
    """The refresh of one month; values are Decimal (money), float, str or ``None``."""

    template_id: str
    month: str
    pay_headers: tuple[str, ...]
    money_lines: tuple[bool, ...]
    agents: list[AgentPay]
    pay_rows: list[list[object]]
    detail_rows: list[list[object]]
    history_rows: list[list[object]]
    issue_rows: list[list[object]]
    overview: dict[Cell, object]
    writes: tuple[SheetRows, ...]
    skipped: list[str] = field(default_factory=list)
    """Output sheets the workbook lacks (an adapter fills this; nothing was written there)."""

    @property
    def on_hold(self) -> int:
        return sum(agent.on_hold for agent in self.agents)

    @property
    def issues(self) -> int:
        return len(self.issue_rows)

    @property
    def total(self) -> Decimal:
        """Σ 应发工资 of the agents not on hold."""
        return sum((a.net for a in self.agents if a.net is not None), Decimal("0.00"))

    def grade_counts(self) -> Counter[str]:
        """Agents per grade (agents whose grade is an error left out)."""
        return Counter(a.grade for a in self.agents
                       if isinstance(a.grade, str) and a.grade and not a.grade.startswith("#"))

    def flag_counts(self) -> Counter[str]:
        """How many agents carry each flag (淘汰预警, 淘汰, 晋升, 扣款超20%, 低于最低工资, 待核)."""
        counts: Counter[str] = Counter()
        for agent in self.agents:
            for flag in agent.flags:
                counts[flag] += 1
        return counts

    def overview_blocks(self) -> list[tuple[Cell, list[list[object]]]]:
        """The 概览 cells as rectangular blocks: ``((top, left), rows)`` (for range writes)."""
        blocks: list[tuple[Cell, list[list[object]]]] = []
        for left in sorted({c for r, c in self.overview if (r, c - 1) not in self.overview}):
            cells = sorted(r for r, c in self.overview if c == left)
            width = 1
            while any((r, left + width) in self.overview for r in cells):
                width += 1
            rows = [[self.overview.get((r, left + i)) for i in range(width)] for r in cells]
            blocks.append(((cells[0], left), rows))
        return blocks

    def records(self) -> list[dict[str, object]]:
        """The agents' 工资 rows as objects keyed by header (the 合计 row left out)."""
        return [dict(zip(self.pay_headers, row, strict=True)) for row in self.pay_rows
                if row and row[0] != TOTAL]

    def to_json(self) -> str:
        """``--json``: the records, money as numbers with two decimals (``1280.00``)."""
        return "[" + ",\n ".join(
            "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_json_value(v)}"
                            for k, v in record.items()) + "}"
            for record in self.records()) + "]"


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, KpiError):
        return json.dumps(value.code)
    return json.dumps(value, ensure_ascii=False)


def excel_value(value: object) -> object:
    """A result cell as the Excel boundary takes it: Decimal → float, errors → their code."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, KpiError):
        return value.code
    return value
