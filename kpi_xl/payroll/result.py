"""What a payroll refresh produces: rows for 工资, 明细, 历史, 异常 and the 概览 cells."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, repeat
from typing import overload

from kpi_xl.core.errors import KpiError
from kpi_xl.payroll.grid import Cell
from kpi_xl.templates.layout import PAY_LEAD, PAY_TAIL

ON_HOLD = "待核"
TOTAL = "合计"


@dataclass(frozen=True)
class SheetRows:
    """Rows to write on an output sheet from ``first_row`` (column A on), ``width`` columns
    wide; everything below the header that is not rewritten is cleared."""

    sheet: str
    first_row: int
    width: int
    rows: Sequence[Sequence[object]]


DetailItem = tuple[str, Sequence[object], Sequence[object], Sequence[object]]
"""One scored item of 明细: its name, and per agent the cell read, the tier text and the points."""


class DetailRows(Sequence[tuple[object, ...]]):
    """The rows of 明细 (工号, 姓名, 考核项目, 数值, 档位, 得分): per agent one row per scored item,
    made when read from the item columns, so that 100,000 agents × 8 items keep 8 columns, not
    800,000 rows."""

    def __init__(self, ids: Sequence[object], names: Sequence[object],
                 items: Sequence[DetailItem]) -> None:
        self._ids = ids
        self._names = names
        self._items = items

    def __len__(self) -> int:
        return len(self._ids) * len(self._items)

    @overload
    def __getitem__(self, index: int) -> tuple[object, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[object, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[object, ...] | list[tuple[object, ...]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if not -size <= index < size:
            raise IndexError("明细 row index out of range")
        agent, item = divmod(index % size, len(self._items))
        name, cells, texts, points = self._items[item]
        return self._ids[agent], self._names[agent], name, cells[agent], texts[agent], points[agent]

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        size = len(self._ids)
        per_item = [zip(self._ids, self._names, repeat(name, size), cells, texts, points,
                        strict=True) for name, cells, texts, points in self._items]
        return chain.from_iterable(zip(*per_item, strict=True))


def _pay_cell(header: str) -> property:
    """The cell of a 工资 row under ``header`` (one of ``PAY_LEAD`` or ``PAY_TAIL``)."""
    index = (PAY_LEAD.index(header) if header in PAY_LEAD
             else PAY_TAIL.index(header) - len(PAY_TAIL))
    return property(lambda pay: pay.cells[index], doc=f"{header} as written on 工资.")


@dataclass(frozen=True, slots=True)
class AgentPay:
    """One agent's 工资 row as written (``cells``: 工号 … 备注, the row of ``pay_rows`` itself)
    and what the summaries count."""

    row: int
    """The agent's row on 考核."""
    cells: tuple[object, ...]
    on_hold: bool
    flags: tuple[str, ...]
    """淘汰预警, 淘汰, 晋升, 扣款超20%, 低于最低工资, 待核 …"""

    name = _pay_cell("姓名")
    team = _pay_cell("团队")
    score = _pay_cell("KPI得分")
    grade = _pay_cell("等级")
    deduction = _pay_cell("扣款")

    @property
    def agent(self) -> str:
        return str(self.cells[PAY_LEAD.index("工号")])

    @property
    def lines(self) -> tuple[object, ...]:
        """The pay lines, in the template's order."""
        return self.cells[len(PAY_LEAD):-len(PAY_TAIL)]

    @property
    def net(self) -> Decimal | None:
        """应发工资 (``None`` when 待核)."""
        net = self.cells[PAY_TAIL.index("应发工资") - len(PAY_TAIL)]
        return net if isinstance(net, Decimal) else None


@dataclass
class PayrollResult:
    """The refresh of one month; values are Decimal (money), float, str or ``None``."""

    template_id: str
    month: str
    pay_headers: tuple[str, ...]
    money_lines: tuple[bool, ...]
    agents: list[AgentPay]
    pay_rows: list[tuple[object, ...]]
    detail_rows: DetailRows
    history_rows: list[tuple[object, ...]]
    issue_rows: list[tuple[str, str, str, str]]
    overview: dict[Cell, object]
    writes: tuple[SheetRows, ...]
    skipped: list[str] = field(default_factory=list)
    """Output sheets the workbook lacks (an adapter fills this; nothing was written there)."""
    formulas_checked: bool = True
    """Whether 考核's formulas were checked (typed over, retyped on one row): not where the
    adapter cannot read formulas (xlwings Lite), which the refresh's message then says."""

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


_EXCEL_WOULD_PARSE = re.compile(r"[=+\-@]|[\s\d.,:/%$¥()eE+\-]*\d[\s\d.,:/%$¥()eE+\-]*\Z"
                                r"|(?i:true|false)\Z")
"""Text that Excel, given it as a cell's value (COM ``Range.Value``, Office.js
``range.values``), would not keep as text: a formula (``=cmd|…``, ``+1+1``, ``-2+3``,
``@SUM(A1)`` from an export), a number (工号 ``00104`` → 104), a date (月份 ``2026-11``), a
percentage or a boolean."""


def excel_value(value: object) -> object:
    """A result cell as the Excel boundary takes it: Decimal → float, errors → their code, and
    text Excel would read as a formula, number or date behind its ``'`` prefix, so that it is
    stored as the text it is (the prefix is not part of the cell's value)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, KpiError):
        return value.code
    if isinstance(value, str) and _EXCEL_WOULD_PARSE.match(value):
        return "'" + value
    return value
