"""Fill the 考核 input columns of a month workbook from a per-agent platform export.

:func:`import_export` reads the export, then — holding :func:`workbook_lock` — reads the
workbook, plans the cells (:func:`plan_import`, pure) and writes them with
:meth:`XlsxEditor.set_cells` (text stays text, styles kept, every other part byte for byte),
saving atomically with a ``.bak``.

Rules:

* targets are the **input** columns of 考核 found by header text in its header row (the row
  holding 工号); a column where formulas fill the data rows is computed and never a target;
  工号/姓名/团队 are never filled from a metric.
* agents are found by nickname through 员工.旺旺昵称 (normalised; ``店名:小倩`` in the roster
  also answers to ``小倩`` in the export and the reverse; two different shop prefixes never
  match); an export without a nickname column may carry 工号 instead.
* an agent's values go to its 考核 row (by 工号); an agent with no row gets the first row whose
  input cells are all blank, with 工号/姓名/团队 from 员工.
* a blank, ``-`` or ``—`` value keeps the workbook's existing input (reported); text in a number
  column is not written (reported); a cell that holds a formula is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kpi_xl.core.cells import coordinate
from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.core.values import Scale, fold, read_number, repr_round
from kpi_xl.workbook.model import BookData, SheetData
from kpi_xl.workbook.refs import parse_range
from kpi_xl.workbook.xlsx import XlsxEditor, read_book, workbook_lock

from .headers import (
    IDENTITY_HEADERS,
    KEY_ID,
    KEY_NICKNAME,
    NUMERIC_KINDS,
    SECONDS,
    Concept,
    base,
    concept_for,
    header_unit,
    is_summary,
    normalise,
    normalise_nickname,
    template_kind,
)
from .read import ExportFile, ExportFormatError, ExportSheet, read_export
from .report import CellNote, ColumnMatch, ImportReport, RowNote

__all__ = ["BookProblem", "ExportFormatError", "import_export", "plan_import"]

SHEET = "考核"
ROSTER = "员工"
HEADER_SCAN_ROWS = 12
"""How far down 考核/员工 the header row (the one holding 工号) is looked for."""
EXPORT_SCAN_ROWS = 40
"""How far down an export the header row is looked for."""

_BLANK_TOKENS = frozenset({"-", "--", "---", "/", "n/a", "na", "null", "none", "nan", "暂无"})
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
_MONTH = re.compile(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})(?!\d)")


class BookProblem(KpiError):
    """The workbook lacks what the import needs (a 考核 or 员工 sheet, a 工号 header)."""


def import_export(
    book_path: str | os.PathLike[str],
    export_path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Import ``export_path`` into the 考核 sheet of ``book_path``; save unless ``dry_run``.

    Raises :class:`ExportFormatError` / :class:`BookProblem` (both :class:`KpiError`) when a
    file cannot be used at all, :class:`~kpi_xl.workbook.xlsx.WorkbookBusy` when the workbook
    is open in Excel or another kpi-xl process writes it. Everything else is in the report;
    ``report.exit_code`` is 0 when cells were written.
    """
    book_path = Path(book_path)
    export = read_export(export_path)
    with workbook_lock(book_path):
        book = read_book(book_path)
        cells, report = plan_import(book, export, book_path=book_path)
        report.dry_run = dry_run
        if cells and not dry_run:
            editor = XlsxEditor(book_path)
            editor.set_cells(SHEET, cells)
            editor.save()
            report.saved = True
    return report


# --------------------------------------------------------------------------- the workbook side
@dataclass
class _Column:
    col: int
    header: str
    kind: str | None
    unit: str | None


@dataclass
class _Appraisal:
    sheet: SheetData
    header_row: int
    headers: dict[int, str]
    inputs: dict[int, str]
    """Input columns (no formulas in the data rows) → header."""
    id_col: int
    rows: dict[str, list[int]]
    """工号 (normalised) → its 考核 rows."""
    last_formula_row: int
    month: str | None


@dataclass
class _Agent:
    id: str
    raw_id: object
    name: object
    team: object
    nickname: str


def _find_header_row(sheet: SheetData, label: str = "工号") -> tuple[int, dict[int, str]]:
    want = normalise(label)
    for row in range(1, HEADER_SCAN_ROWS + 1):
        headers = {c: str(v) for (r, c), v in sheet.values.items()
                   if r == row and v is not None and str(v).strip()}
        if any(normalise(h) == want for h in headers.values()):
            return row, dict(sorted(headers.items()))
    raise BookProblem(
        f"{sheet.name} 表前 {HEADER_SCAN_ROWS} 行找不到“{label}”表头",
        f"no '{label}' header in the first {HEADER_SCAN_ROWS} rows of {sheet.name}",
    )


def _sheet(book: BookData, name: str) -> SheetData:
    sheet = book.sheets.get(name)
    if sheet is None:
        raise BookProblem(f"工作簿中没有“{name}”工作表", f"the workbook has no '{name}' sheet")
    return sheet


def norm_id(value: object) -> str:
    """工号 as compared: ``1001.0`` → ``1001``; text NFKC-folded and trimmed."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def _appraisal(book: BookData) -> _Appraisal:
    sheet = _sheet(book, SHEET)
    header_row, headers = _find_header_row(sheet)
    id_col = next(c for c, h in headers.items() if normalise(h) == "工号")
    formula_rows: dict[int, int] = {}
    formula_cols: dict[int, int] = {}
    for r, c in sheet.formulas:
        if r > header_row:
            formula_rows[r] = 1
            formula_cols[c] = formula_cols.get(c, 0) + 1
    array_cols: set[int] = set()
    for ref in sheet.array_formulas.values():
        top, left, bottom, right = parse_range(ref)
        if bottom > header_row:
            array_cols.update(range(left, right + 1))
            formula_rows.update(dict.fromkeys(range(max(top, header_row + 1), bottom + 1), 1))
    busy = len(formula_rows)
    inputs = {
        c: h for c, h in headers.items()
        if c not in array_cols and not (busy and formula_cols.get(c, 0) * 2 >= busy)
    }
    rows: dict[str, list[int]] = {}
    ids = {cell: v for cell, v in sheet.cached.items() if cell[1] == id_col}  # =员工!A5 …
    ids.update((cell, v) for cell, v in sheet.values.items() if cell[1] == id_col)
    for (r, _), v in sorted(ids.items()):
        if r > header_row and norm_id(v):
            rows.setdefault(norm_id(v), []).append(r)
    return _Appraisal(sheet, header_row, headers, inputs, id_col, rows,
                      max(formula_rows, default=0), _book_month(sheet, header_row))


def _book_month(sheet: SheetData, header_row: int) -> str | None:
    for (r, c), v in sorted(sheet.values.items()):
        if r < header_row and isinstance(v, str) and normalise(v) == "考核月份":
            value = sheet.values.get((r, c + 1))
            if isinstance(value, int | float) and not isinstance(value, bool):
                day = dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
                return f"{day.year:04d}-{day.month:02d}"
            months = _months_in(value)
            return next(iter(sorted(months)), None) if months else None
    return None


def _months_in(value: object) -> set[str]:
    if isinstance(value, dt.date | dt.datetime):
        return {f"{value.year:04d}-{value.month:02d}"}
    if not isinstance(value, str):
        return set()
    return {f"{int(y):04d}-{int(m):02d}" for y, m in _MONTH.findall(fold(value))
            if 1 <= int(m) <= 12}


def _roster(book: BookData) -> tuple[list[_Agent], str]:
    sheet = _sheet(book, ROSTER)
    header_row, headers = _find_header_row(sheet)
    by_key: dict[str, int] = {}
    for c, h in headers.items():
        concept = concept_for(h)
        key = normalise(h)
        if key in ("工号", "姓名", "团队"):
            by_key.setdefault(key, c)
        elif concept is not None and concept.key == KEY_NICKNAME:
            by_key.setdefault("nickname", c)
    if "nickname" not in by_key:
        raise BookProblem(
            f"{ROSTER} 表没有“旺旺昵称”列, 无法按昵称对应工号",
            f"the {ROSTER} sheet has no 旺旺昵称 column to map nicknames to 工号",
        )
    agents = []
    last = max((r for r, _ in sheet.values), default=header_row)
    for r in range(header_row + 1, last + 1):
        raw_id = sheet.values.get((r, by_key["工号"]))
        if not norm_id(raw_id):
            continue
        nickname = sheet.values.get((r, by_key["nickname"]))
        agents.append(_Agent(
            norm_id(raw_id), raw_id,
            sheet.values.get((r, by_key["姓名"])) if "姓名" in by_key else None,
            sheet.values.get((r, by_key["团队"])) if "团队" in by_key else None,
            "" if nickname is None else str(nickname).strip(),
        ))
    return agents, headers[by_key["nickname"]]


class _Nicknames:
    """旺旺昵称 → 工号, with the ``店名:`` prefix optional on either side (but never two shops).

    A roster cell may list several sub-accounts separated by ``;``/``；``/``、``/new lines.
    """

    def __init__(self, agents: Iterable[_Agent]) -> None:
        self.full: dict[str, set[str]] = {}
        self.short: dict[str, set[str]] = {}
        for agent in agents:
            # one cell may list several sub-accounts: "店:小倩; 店:小倩2" (also 、 and new lines)
            nicks = {agent.nickname, *re.split(r"[;；、\n]", agent.nickname)}
            for nick in nicks:
                key = normalise_nickname(nick)
                if not key:
                    continue
                self.full.setdefault(key, set()).add(agent.id)
                self.short.setdefault(_short(key), set()).add(agent.id)

    def lookup(self, nickname: str) -> set[str]:
        key = normalise_nickname(nickname)
        found = self.full.get(key)
        if found:
            return found
        if ":" in key:  # export 店名:小倩 ↔ roster 小倩 (a roster 店名B:小倩 must not match)
            return self.full.get(_short(key), set())
        return self.short.get(key, set())  # export 小倩 ↔ roster 店名:小倩


def _short(key: str) -> str:
    return key.rsplit(":", 1)[-1]


# --------------------------------------------------------------------------- the export side
@dataclass
class _Layout:
    sheet: ExportSheet
    header_row: int
    """0-based index into ``sheet.rows``."""
    key_col: int
    key_kind: str
    """``KEY_NICKNAME`` or ``KEY_ID``."""


def _recognised(header: object, targets: dict[str, list[int]]) -> Concept | str | None:
    if header is None or not str(header).strip():
        return None
    concept = concept_for(header)
    if concept is not None and concept.kind == "key":
        return concept
    if normalise(header) in targets or base(header) in targets:
        return "target"
    return concept


def _target_keys(appraisal: _Appraisal) -> dict[str, list[int]]:
    keys: dict[str, list[int]] = {}
    for c, h in appraisal.inputs.items():
        keys.setdefault(normalise(h), []).append(c)
        if base(h) != normalise(h):
            keys.setdefault(base(h), []).append(c)
    return keys


def _find_layout(export: ExportFile, targets: dict[str, list[int]]) -> _Layout:
    for sheet in export.sheets:
        best: tuple[int, _Layout] | None = None
        for index, row in enumerate(sheet.rows[:EXPORT_SCAN_ROWS]):
            key: tuple[int, str] | None = None
            score = 0
            for c, cell in enumerate(row):
                found = _recognised(cell, targets)
                if isinstance(found, Concept) and found.key in (KEY_NICKNAME, KEY_ID):
                    if key is None or (key[1] == KEY_ID and found.key == KEY_NICKNAME):
                        key = (c, found.key)
                elif found is not None:
                    score += 1
            if key is not None and score and (best is None or score > best[0]):
                best = (score, _Layout(sheet, index, key[0], key[1]))
        if best is not None:
            return best[1]
    where = "" if export.kind == "csv" else f" (共 {len(export.sheets)} 个工作表)"
    raise ExportFormatError(
        f"{export.path.name}{where} 前 {EXPORT_SCAN_ROWS} 行找不到表头: 需要一列客服昵称 (或工号) "
        "和至少一列可识别的指标",
        f"no header row in the first {EXPORT_SCAN_ROWS} rows of {export.path.name}: need a "
        "nickname (or 工号) column and at least one known metric",
    )


@dataclass
class _Plan:
    columns: dict[int, _Column]
    """Export column index → the 考核 column it fills."""


def _match_columns(layout: _Layout, appraisal: _Appraisal, report: ImportReport) -> _Plan:
    header = layout.sheet.rows[layout.header_row]
    targets = {c: h for c, h in appraisal.inputs.items() if base(h) not in IDENTITY_HEADERS}
    by_norm: dict[str, list[int]] = {}
    by_base: dict[str, list[int]] = {}
    for c, h in targets.items():
        by_norm.setdefault(normalise(h), []).append(c)
        by_base.setdefault(base(h), []).append(c)

    claimed: dict[int, int] = {}  # 考核 column → export column
    how: dict[int, str] = {}
    pending: list[int] = []
    leftover: list[tuple[int, str | None]] = []  # export column, reason (None: unknown)
    for j, cell in enumerate(header):
        if j == layout.key_col or cell is None or not str(cell).strip():
            continue
        hits = by_norm.get(normalise(cell)) or by_base.get(base(cell))
        if not hits:
            pending.append(j)
        elif len(hits) > 1:
            leftover.append((j, "考核表有多个同名列, 无法确定 (several 考核 columns match)"))
        elif hits[0] in claimed:
            other = header[claimed[hits[0]]]
            leftover.append((j, f"目标列 {targets[hits[0]]} 已由 {other} 填写 "
                                f"(target already filled from {other})"))
        else:
            claimed[hits[0]] = j
            how[j] = "header"
    computed = {normalise(h) for c, h in appraisal.headers.items() if c not in appraisal.inputs}
    formula_column = "考核表中此列是公式, 不导入 (a formula column in 考核, not imported)"
    for j in pending:  # synonyms after every exact header, so the workbook's own names win
        concept = concept_for(header[j])
        if concept is None:
            leftover.append((j, formula_column if normalise(header[j]) in computed else None))
            continue
        if concept.kind in ("key", "identity"):
            leftover.append((j, "身份列, 不导入 (identity column, not imported)"))
            continue
        present = [c for t in concept.targets for c in by_base.get(base(t), ())]
        target = next((c for c in present if c not in claimed), None)
        if target is not None:
            claimed[target] = j
            how[j] = "synonym"
        elif present:
            other = header[claimed[present[0]]]
            leftover.append((j, f"对应的 {targets[present[0]]} 已由 {other} 填写 "
                                f"(its column is already filled from {other})"))
        elif normalise(header[j]) in computed:
            leftover.append((j, formula_column))
        else:
            leftover.append((j, "本工作簿考核表无对应列 (no such column in this 考核)"))
    columns: dict[int, _Column] = {}
    for c, j in sorted(claimed.items(), key=lambda item: item[1]):
        concept = concept_for(header[j])
        kind = template_kind(targets[c]) or (concept.kind if concept is not None else None)
        columns[j] = _Column(c, targets[c], kind, header_unit(targets[c]))
        report.matched.append(ColumnMatch(str(header[j]), targets[c], c, how[j]))
    for j, reason in sorted(leftover, key=lambda item: item[0]):
        if reason is None:
            report.unmatched.append(str(header[j]))
        else:
            report.known_unmatched.append((str(header[j]), reason))
    return _Plan(columns)


# --------------------------------------------------------------------------- values
_BLANK = object()


def _read_value(raw: object, column: _Column, export_unit: str | None,
                percent_formatted: bool) -> tuple[object, str]:
    """(value to write | _BLANK | None for rejected, remark)."""
    numeric = column.kind in NUMERIC_KINDS
    if raw is None:
        return _BLANK, ""
    if isinstance(raw, bool):
        return (None, "不是数字 (not a number)") if numeric else (raw, "")
    if isinstance(raw, dt.time | dt.timedelta):
        seconds = (raw.total_seconds() if isinstance(raw, dt.timedelta)
                   else raw.hour * 3600 + raw.minute * 60 + raw.second + raw.microsecond / 1e6)
        return _scaled_time(seconds, column)
    if isinstance(raw, dt.datetime | dt.date):
        return (None, "日期不是数字 (a date is not a number)") if numeric else (raw, "")
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            return _BLANK, "非数字值 (not a finite number)"
        if export_unit == "%" and not percent_formatted:
            return repr_round(number / 100), ""
        return _convert(number, export_unit, column)
    text = str(raw).strip()
    folded = fold(text)
    if not folded or folded.lower() in _BLANK_TOKENS or set(folded) <= {"-"}:
        return _BLANK, ""
    if folded.upper() in EXCEL_ERROR_CODES:
        return _BLANK, f"导出中为错误值 {folded.upper()} (an error value in the export)"
    clock = _CLOCK.match(folded)
    if clock and column.kind in ("seconds", "hours"):
        hours, minutes, seconds = clock.groups()
        if hours is None:  # m:ss
            total = int(minutes) * 60 + float(seconds)
        else:
            total = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        return _scaled_time(total, column)
    number = read_number(text)
    if number is None:
        if numeric:
            return None, "不是数字 (not a number)"
        return text, ""
    if number.scale in (Scale.PERCENT, Scale.PERMILLE):
        return number.value, ""
    if export_unit == "%":
        return repr_round(number.value / 100), ""
    return _convert(number.value, export_unit, column)


def _convert(number: float, export_unit: str | None, column: _Column) -> tuple[object, str]:
    if export_unit in SECONDS:
        return _scaled_time(number * SECONDS[export_unit], column)
    if export_unit == "万" and column.unit != "万":
        return repr_round(number * 1e4), ""
    return number, ""


def _scaled_time(seconds: float, column: _Column) -> tuple[object, str]:
    target = column.unit if column.unit in SECONDS else ("h" if column.kind == "hours" else "s")
    return repr_round(seconds / SECONDS[target]), ""


# --------------------------------------------------------------------------- the plan
def plan_import(
    book: BookData,
    export: ExportFile,
    *,
    book_path: str | os.PathLike[str] = "",
) -> tuple[dict[tuple[int, int], object], ImportReport]:
    """The 考核 cells to write (``{(row, col): value}``) and the report; changes nothing."""
    appraisal = _appraisal(book)
    agents, nickname_header = _roster(book)
    layout = _find_layout(export, _target_keys(appraisal))
    report = ImportReport(Path(book_path), export.path)
    report.source = (export.source if export.kind == "csv"
                     else f"xlsx 工作表 (sheet) '{layout.sheet.name}'")
    report.header_row = layout.header_row + 1
    header = layout.sheet.rows[layout.header_row]
    report.key_header = str(header[layout.key_col])
    report.month = appraisal.month
    plan = _match_columns(layout, appraisal, report)
    _check_month(export, layout, appraisal, report)
    if not plan.columns:
        return {}, report

    roster = {agent.id: agent for agent in agents}
    nicknames = _Nicknames(agents)
    units = {j: header_unit(header[j]) for j in plan.columns}
    cells: dict[tuple[int, int], object] = {}
    seen: dict[str, tuple[int, dict[int, object]]] = {}
    conflicted: set[str] = set()
    pending: list[tuple[str, int, dict[int, object], int]] = []  # id, export row, values, row#

    for index in range(layout.header_row + 1, len(layout.sheet.rows)):
        row = layout.sheet.rows[index]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        number = index + 1
        raw_key = row[layout.key_col] if layout.key_col < len(row) else None
        key = norm_id(raw_key)  # text trimmed; 123.0 (a numeric nickname) → "123"
        if not key or is_summary(key):
            report.skipped_summary.append(RowNote(number, key))
            continue
        if layout.key_kind == KEY_ID:
            ids = {norm_id(raw_key)} & set(roster)
        else:
            ids = nicknames.lookup(key)
        if not ids:
            report.unknown_nicknames.append(RowNote(number, key))
            continue
        if len(ids) > 1:
            report.ambiguous_nicknames.append(RowNote(number, key, "、".join(sorted(ids))))
            continue
        (agent_id,) = ids
        values = {j: row[j] if j < len(row) else None for j in plan.columns}
        if agent_id in seen:
            first_row, first_values = seen[agent_id]
            if first_values == values:
                report.duplicate_rows.append(RowNote(
                    number, key, f"与第 {first_row} 行相同, 只导入一次 (same as row {first_row})"))
            else:
                conflicted.add(agent_id)
                report.duplicate_rows.append(RowNote(
                    number, key, f"{agent_id} 已在第 {first_row} 行出现且数值不同, 此人未导入 "
                                 f"({agent_id} also on row {first_row} with other values; "
                                 "not imported)"))
            continue
        seen[agent_id] = (number, values)
        pending.append((agent_id, index, values, number))

    taken_rows: set[int] = set()
    for agent_id, index, values, _number in pending:
        if agent_id in conflicted:
            continue
        rows = appraisal.rows.get(agent_id)
        if rows:
            target_row = rows[0]
            if len(rows) > 1:
                report.warnings.append(
                    f"{agent_id} 在考核表出现 {len(rows)} 次 (第 {', '.join(map(str, rows))} 行), "
                    f"只写第 {rows[0]} 行 ({agent_id} is on {len(rows)} 考核 rows; "
                    f"row {rows[0]} written)")
        else:
            target_row = _first_empty_row(appraisal, taken_rows)
            agent = roster[agent_id]
            fill = {appraisal.id_col: agent.raw_id}
            for c, h in appraisal.inputs.items():
                if normalise(h) == "姓名" and agent.name is not None:
                    fill[c] = agent.name
                elif normalise(h) == "团队" and agent.team is not None:
                    fill[c] = agent.team
            for c, value in fill.items():
                cells[(target_row, c)] = value
            report.appended.append((agent_id, target_row))
            if target_row > appraisal.last_formula_row:
                report.warnings.append(
                    f"{agent_id} 写在第 {target_row} 行, 该行没有公式, 请把公式向下填充到此行 "
                    f"(row {target_row} has no formulas; fill them down)")
        taken_rows.add(target_row)
        report.agents.append((agent_id, target_row))
        for j, raw in values.items():
            column = plan.columns[j]
            where = coordinate(target_row, column.col)
            shown = "" if raw is None else str(raw)
            if (target_row, column.col) in appraisal.sheet.formulas:
                report.rejected.append(CellNote(
                    agent_id, column.header, where, shown,
                    "单元格中是公式, 未覆盖 (the cell holds a formula; not overwritten)"))
                continue
            value, remark = _read_value(raw, column, units[j],
                                        (index, j) in layout.sheet.percent_cells)
            if value is _BLANK:
                report.blank_kept.append(CellNote(agent_id, column.header, where, shown, remark))
                continue
            if value is None:
                report.rejected.append(CellNote(agent_id, column.header, where, shown, remark))
                continue
            if (column.kind == "rate" and isinstance(value, float) and 1 < value <= 100):
                report.warnings.append(
                    f"{agent_id} {column.header} = {shown} 看似百分数, 已按原值写入, 请确认是否应为"
                    f" {shown}% ({shown} looks like a percentage; written as is)")
            cells[(target_row, column.col)] = value

    matched_ids = set(seen)
    report.missing_agents = [
        (a.id, "" if a.name is None else str(a.name), a.nickname)
        for a in agents if a.id not in matched_ids
    ]
    if not agents:
        report.warnings.append(
            f"员工表还没有员工: 请先在 {ROSTER} 表填写工号、姓名、团队和{nickname_header}, 再导入 "
            f"(the roster is empty: fill {ROSTER} first, the export's rows are matched to it)")
    elif any(not a.nickname for a in agents):
        blank = [a.id for a in agents if not a.nickname]
        report.warnings.append(
            f"员工表中 {len(blank)} 人没有{nickname_header}: {', '.join(blank[:10])}"
            f"{' …' if len(blank) > 10 else ''} (agents without a nickname in 员工)")
    report.cells_written = len(cells)
    report.cells_changed = sum(
        1 for cell, value in cells.items() if not _same(appraisal.sheet.values.get(cell), value))
    return cells, report


def _same(old: object, new: object) -> bool:
    if isinstance(old, float) and isinstance(new, int | float) and not isinstance(new, bool):
        return old == float(new)
    return type(old) is type(new) and old == new


def _first_empty_row(appraisal: _Appraisal, taken: set[int]) -> int:
    values = appraisal.sheet.values
    row = appraisal.header_row + 1
    while True:
        if row not in taken and all(
                values.get((row, c)) in (None, "") for c in appraisal.inputs):
            return row
        row += 1


def _check_month(export: ExportFile, layout: _Layout, appraisal: _Appraisal,
                 report: ImportReport) -> None:
    if appraisal.month is None:
        return
    months: set[str] = set()
    for row in layout.sheet.rows[:layout.header_row]:
        for cell in row:
            months |= _months_in(cell)
    months |= _months_in(export.path.stem)
    if months and appraisal.month not in months:
        shown = ", ".join(sorted(months))
        report.warnings.append(
            f"导出的月份 ({shown}) 与考核月份 {appraisal.month} 不同, 请确认 "
            f"(the export mentions {shown}, the workbook is {appraisal.month})")

