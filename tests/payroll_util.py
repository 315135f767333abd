"""Helpers for the payroll tests: a month workbook of a template with inputs we choose."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl

from kpi_xl.templates import get, new_month
from kpi_xl.templates.builder import roster_inputs
from kpi_xl.templates.layout import FIRST_ROW, HEADER_ROW
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.xlsx import read_book


def month_book(tmp: Path, template_id: str, month: str, agents: Sequence[Mapping[str, object]],
               roster: Sequence[Mapping[str, object]] | None = None,
               params: Mapping[str, object] | None = None,
               tables: Mapping[str, Sequence[Sequence[object]]] | None = None,
               history: Sequence[Sequence[object]] = (), name: str = "book.xlsx") -> Path:
    """A month workbook of ``template_id`` with 考核 rows ``agents`` (header → value), 员工 rows
    ``roster`` (default: 工号/姓名/团队 of the agents), 规则 values by label, 规则 table rows by
    title, and 历史 rows (月份, 工号, 姓名, 团队, KPI得分, 等级, 应发工资)."""
    template = get(template_id)
    path = new_month(template_id, tmp / name, month=month)
    wb = openpyxl.load_workbook(path)
    assessment = wb["考核"]
    headers = {assessment.cell(HEADER_ROW, c).value: c
               for c in range(1, assessment.max_column + 1)}
    inputs = {spec.header for spec in template.inputs}
    for i, agent in enumerate(agents):
        for header, value in agent.items():
            assert header in inputs, f"{header} is not an input of {template_id}"
            assessment.cell(FIRST_ROW + i, headers[header], value)
    roster_sheet = wb["员工"]
    roster_headers = [spec.header for spec in roster_inputs(template)]
    if roster is None:
        roster = [{h: a.get(h) for h in ("工号", "姓名", "团队")} for a in agents]
    for i, person in enumerate(roster):
        for header, value in person.items():
            roster_sheet.cell(FIRST_ROW + i, roster_headers.index(header) + 1, value)
    rules = wb["规则"]
    for label, value in (params or {}).items():
        cell = next(c for row in rules.iter_rows() for c in row if c.value == label)
        rules.cell(cell.row, cell.column + 1, value)
    for title, rows in (tables or {}).items():
        cell = next(c for row in rules.iter_rows() for c in row if c.value == title)
        for i, values in enumerate(rows):
            for j, value in enumerate(values):
                rules.cell(cell.row + 2 + i, cell.column + j, value)
    past = wb["历史"]
    for i, values in enumerate(history):
        for j, value in enumerate(values, start=1):
            past.cell(FIRST_ROW + i, j, value)
    wb.save(path)
    return path


def sheet_part(path: Path, sheet: str) -> bytes:
    """The raw XML of one worksheet part."""
    with zipfile.ZipFile(path) as zf:
        part = next(s.part for s in map_package(zf).sheets if s.name == sheet)
        return zf.read(part)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def by_agent(records: Sequence[Mapping[str, object]]) -> dict[str, Mapping[str, object]]:
    return {str(r["工号"]): r for r in records}


class SheetsByName(list):
    """A stand-in for an xlwings ``Book.sheets``: indexed by position or by sheet name."""

    def __getitem__(self, key):
        if isinstance(key, str):
            return next(sheet for sheet in self if sheet.name == key)
        return super().__getitem__(key)


def sheet_rows(path: Path, sheet: str, header_row: int = 4) -> tuple[list[str], list[list]]:
    """(headers, rows below them) of one output sheet, as read_book reads it."""
    data = read_book(path).sheets[sheet]
    width = max((c for r, c in data.values if r == header_row), default=0)
    headers = [str(data.values.get((header_row, c))) for c in range(1, width + 1)]
    last = max((r for r, _ in data.values), default=header_row)
    rows = [[data.values.get((r, c)) for c in range(1, width + 1)]
            for r in range(header_row + 1, last + 1)]
    return headers, [row for row in rows if any(v is not None for v in row)]


def issue_rows(path: Path) -> list[tuple[str, str, str, str]]:
    """The rows of 异常 as (sheet, cell, 工号, message) text."""
    _, rows = sheet_rows(path, "异常")
    return [tuple("" if v is None else str(v) for v in row[:4]) for row in rows]  # type: ignore[misc]
