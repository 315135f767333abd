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
* units (:mod:`.units`): a value's own unit (``2分``, ``30秒``, ``1.28万``, ``8:30``) wins over
  its header's (``(分钟)``, ``(千元)``, ``(%)``), which wins over the column's; a unit that does
  not fit the column, or one the import does not know, is refused and reported — for a header,
  the whole column. An exact header beats a synonym, and both beat a qualified header
  (``询单转化率(静默下单)``), whatever the column order.
* a rate column whose plain numbers mix percent numbers (46.5) and fractions (0.9) is
  ambiguous: those values are reported, not written.
* the month: the export's statistics period (``统计时间`` …), not its export time, is compared
  with 考核月份.
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
from kpi_xl.core.values import Scale, fold, format_number, read_number, repr_round
from kpi_xl.workbook.model import BookData, SheetData
from kpi_xl.workbook.refs import parse_range
from kpi_xl.workbook.xlsx import XlsxEditor, read_book, workbook_lock

from .headers import (
    IDENTITY_HEADERS,
    KEY_ID,
    KEY_NICKNAME,
    NUMERIC_KINDS,
    Concept,
    base,
    concept_for,
    is_summary,
    normalise,
    normalise_nickname,
    qualifiers,
    template_kind,
    unit_of,
)
from .read import ExportFile, ExportFormatError, ExportSheet, read_export
from .report import CellNote, ColumnMatch, ImportReport, RowNote
from .units import (
    COUNT,
    FRACTION,
    MINUTES_OR_POINTS,
    MONEY,
    SCALE,
    SECOND,
    TIME,
    Unit,
    column_factor,
    kind_of_unit,
    parse_unit,
    read_duration,
    split_value_unit,
    unit_problem,
)

__all__ = ["BookProblem", "ExportFormatError", "import_export", "plan_import"]

SHEET = "考核"
ROSTER = "员工"
HEADER_SCAN_ROWS = 12
"""How far down 考核/员工 the header row (the one holding 工号) is looked for."""
EXPORT_SCAN_ROWS = 40
"""How far down an export the header row is looked for."""

_BLANK_TOKENS = frozenset({"-", "--", "---", "/", "n/a", "na", "null", "none", "nan", "暂无"})
_MONTH = re.compile(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)")
"""``20261001``: a date written without separators."""


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
    unit: Unit | None
    """The unit its 考核 header states (``旺旺在线时长(小时)``); a short form (``"s"``) is read."""

    def __post_init__(self) -> None:
        if isinstance(self.unit, str):
            self.unit = parse_unit(self.unit)


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
    folded = fold(value)
    return {f"{int(y):04d}-{int(m):02d}"
            for y, m in _MONTH.findall(folded) + _COMPACT_DATE.findall(folded)
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
            norm_id(nickname),  # 13800001111.0 typed as a number → "13800001111"
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


_EXACT, _BASE, _SYNONYM, _QUALIFIED_BASE, _QUALIFIED_SYNONYM = range(5)
"""How closely an export header names a 考核 column, best first: the same header; the same
figure with only units in brackets (``平均响应(秒)``); a platform synonym; then the qualified
forms (``询单转化率(静默下单)``), which are other figures and only fill what is left."""

_FORMULA_COLUMN = "考核表中此列是公式, 不导入 (a formula column in 考核, not imported)"


@dataclass
class _Candidate:
    rank: int
    export_col: int
    targets: list[int]
    """考核 columns it may fill, best first (a header match: exactly one, else ambiguous)."""
    how: str


def _candidate(j: int, cell: object, by_norm: dict[str, list[int]],
               by_base: dict[str, list[int]]) -> _Candidate | str | None:
    """How export column ``j`` may fill 考核; else why not (``None``: not recognised)."""
    qualified = bool(qualifiers(cell))
    hits = by_norm.get(normalise(cell))
    if hits:
        return _Candidate(_EXACT, j, hits, "header")
    hits = by_base.get(base(cell))
    if hits:
        return _Candidate(_QUALIFIED_BASE if qualified else _BASE, j, hits, "header")
    concept = concept_for(cell)
    if concept is None:
        return None
    if concept.kind in ("key", "identity"):
        return "身份列, 不导入 (identity column, not imported)"
    present = [c for t in concept.targets for c in by_base.get(base(t), ())]
    if not present:
        return "本工作簿考核表无对应列 (no such column in this 考核)"
    return _Candidate(_QUALIFIED_SYNONYM if qualified else _SYNONYM, j, present, "synonym")


def _match_columns(layout: _Layout, appraisal: _Appraisal, report: ImportReport) -> _Plan:
    header = layout.sheet.rows[layout.header_row]
    targets = {c: h for c, h in appraisal.inputs.items() if base(h) not in IDENTITY_HEADERS}
    by_norm: dict[str, list[int]] = {}
    by_base: dict[str, list[int]] = {}
    for c, h in targets.items():
        by_norm.setdefault(normalise(h), []).append(c)
        by_base.setdefault(base(h), []).append(c)
    computed = {normalise(h) for c, h in appraisal.headers.items() if c not in appraisal.inputs}

    candidates: list[_Candidate] = []
    leftover: list[tuple[int, str | None]] = []  # export column, reason (None: unknown)
    for j, cell in enumerate(header):
        if j == layout.key_col or cell is None or not str(cell).strip():
            continue
        found = _candidate(j, cell, by_norm, by_base)
        if isinstance(found, _Candidate):
            candidates.append(found)
        elif normalise(cell) in computed and not (found or "").startswith("身份列"):
            leftover.append((j, _FORMULA_COLUMN))
        else:
            leftover.append((j, found))

    claimed: dict[int, int] = {}  # 考核 column → export column
    columns: dict[int, _Column] = {}
    for candidate in sorted(candidates, key=lambda found: (found.rank, found.export_col)):
        j = candidate.export_col
        target, reason = _claim(candidate, header, targets, claimed)
        if target is None:
            leftover.append((j, reason))
            continue
        column = _column(target, targets[target], header[j])
        problem = _header_unit_problem(header[j], column)
        if problem:
            leftover.append((j, f"{problem}, 未导入 (not imported)"))
            continue
        claimed[target] = j
        columns[j] = column
        if candidate.rank >= _QUALIFIED_BASE:
            shown = "、".join(qualifiers(header[j]))
            report.warnings.append(
                f"{header[j]} 带限定 ({shown}), 已导入到 {targets[target]}, 请确认是同一指标 "
                f"({header[j]} is a qualified figure; imported into {targets[target]} — check "
                "it is the same)")
    for j in sorted(columns):
        how = next(found.how for found in candidates if found.export_col == j)
        report.matched.append(ColumnMatch(str(header[j]), columns[j].header, columns[j].col, how))
    for j, reason in sorted(leftover, key=lambda item: item[0]):
        if reason is None:
            report.unmatched.append(str(header[j]))
        else:
            report.known_unmatched.append((str(header[j]), reason))
    return _Plan(dict(sorted(columns.items())))


def _claim(candidate: _Candidate, header: list[object], targets: dict[int, str],
           claimed: dict[int, int]) -> tuple[int | None, str]:
    """The 考核 column ``candidate`` fills, or why none."""
    hits = candidate.targets
    if candidate.how == "header" and len(hits) > 1:
        return None, "考核表有多个同名列, 无法确定 (several 考核 columns match)"
    free = next((c for c in hits if c not in claimed), None)
    if free is not None:
        return free, ""
    other = header[claimed[hits[0]]]
    if candidate.how == "header":
        return None, (f"目标列 {targets[hits[0]]} 已由 {other} 填写 "
                      f"(target already filled from {other})")
    return None, (f"对应的 {targets[hits[0]]} 已由 {other} 填写 "
                  f"(its column is already filled from {other})")


def _column(col: int, target: str, export_header: object) -> _Column:
    """The 考核 column ``target`` as the values of ``export_header`` are read into it."""
    concept = concept_for(export_header)
    unit = unit_of(target)
    kind = (template_kind(target) or (concept.kind if concept is not None else None)
            or kind_of_unit(unit))
    return _Column(col, target, kind, unit)


def _header_unit_problem(export_header: object, column: _Column) -> str:
    """Why the unit in ``export_header``'s brackets cannot fill ``column`` (``""``: it can)."""
    unit = unit_of(export_header)
    if unit is None or (column.kind not in NUMERIC_KINDS and column.kind is not None):
        return ""  # no unit, or a choice/text column: values are taken as written
    if column.kind is None:
        return (f"考核列 {column.header} 的单位未知, 无法换算“{unit.text}” "
                f"(the unit of {column.header} is unknown)")
    if column_factor(unit, column.kind, column.unit) is None:
        return f"表头{unit_problem(unit, column.kind, column.header)}"
    return ""


# --------------------------------------------------------------------------- values
_BLANK = object()
_NOT_A_NUMBER = "不是数字 (not a number)"
_OWN_SCALE = {Scale.MYRIAD: "万", Scale.THOUSAND: "千"}


@dataclass(frozen=True)
class _Reading:
    """One export value as read into its 考核 column."""

    value: object
    """What to write; :data:`_BLANK` keeps the existing input, ``None`` is a refusal."""
    remark: str = ""
    number: float | None = None
    """The number as the export wrote it, before any unit conversion."""
    unit: Unit | None = None
    """The unit it was read in: its own, else its header's; ``None`` = the column's."""
    own: bool = False
    """``unit`` came with the value (``46.5%``, ``2分``, ``8:30``, a %-formatted cell)."""


def _read_value(raw: object, column: _Column, export_unit: Unit | str | None,
                percent_formatted: bool) -> tuple[object, str]:
    """(value to write | _BLANK | None for rejected, remark); ``export_unit`` is the export
    header's unit (or its short form, ``"min"``)."""
    if isinstance(export_unit, str):
        export_unit = parse_unit(export_unit)
    reading = _read(raw, column, export_unit, percent_formatted)
    return reading.value, reading.remark


def _read(raw: object, column: _Column, export_unit: Unit | None,
          percent_formatted: bool) -> _Reading:
    numeric = column.kind in NUMERIC_KINDS
    if raw is None:
        return _Reading(_BLANK)
    if isinstance(raw, bool):
        return _Reading(None, _NOT_A_NUMBER) if numeric else _Reading(raw)
    if isinstance(raw, dt.time | dt.timedelta):
        seconds = (raw.total_seconds() if isinstance(raw, dt.timedelta)
                   else raw.hour * 3600 + raw.minute * 60 + raw.second + raw.microsecond / 1e6)
        return _quantity(seconds, SECOND, True, column)
    if isinstance(raw, dt.datetime | dt.date):
        return _Reading(None, "日期不是数字 (a date is not a number)") if numeric else _Reading(raw)
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            return _Reading(_BLANK, "非数字值 (not a finite number)")
        if percent_formatted:
            return _quantity(number, FRACTION, True, column)
        return _quantity(number, export_unit, False, column)
    text = str(raw).strip()
    folded = fold(text)
    if not folded or folded.lower() in _BLANK_TOKENS or set(folded) <= {"-"}:
        return _Reading(_BLANK)
    if folded.upper() in EXCEL_ERROR_CODES:
        return _Reading(_BLANK, f"导出中为错误值 {folded.upper()} (an error value in the export)")
    if not numeric:
        number = read_number(text)
        return _Reading(text) if number is None else _Reading(number.value)
    return _read_text(folded.replace(" ", "").lower(), column, export_unit)


def _read_text(text: str, column: _Column, export_unit: Unit | None) -> _Reading:
    """A number column's text value (folded, lower case, no spaces) with any unit it carries:
    the value's own unit wins over the header's; a value with its own 万/千 is not scaled by
    the header's (``1.28万`` under ``(万元)`` is 12,800 元)."""
    try:
        seconds = read_duration(text, hours_first=_hours_first(column, export_unit))
    except ValueError:
        return _Reading(None, "不是有效的时长 (not a valid duration)")
    if seconds is not None:
        return _quantity(seconds, SECOND, True, column)
    number_text, own = split_value_unit(text)
    number = read_number(number_text)
    if number is None or (own is not None and number.scale in (Scale.PERCENT, Scale.PERMILLE)):
        return _Reading(None, _NOT_A_NUMBER)
    if own is not None:
        return _quantity(number.value, own, True, column)
    if number.scale in (Scale.PERCENT, Scale.PERMILLE):
        return _quantity(number.value, FRACTION, True, column)
    if number.scale in _OWN_SCALE:
        return _quantity(number.value, _own_scale(number.scale, export_unit), True, column)
    return _quantity(number.value, export_unit, False, column)


def _own_scale(scale: Scale, export_unit: Unit | None) -> Unit:
    """The unit of a value written with its own 万/千 (already multiplied out): its header's
    money or count without the header's scale, else a bare scale."""
    if export_unit is not None and export_unit.dimension in (MONEY, COUNT):
        return Unit(_OWN_SCALE[scale], export_unit.dimension)
    return Unit(_OWN_SCALE[scale], SCALE)


def _hours_first(column: _Column, export_unit: Unit | None) -> bool:
    """``8:30`` is h:mm under an hours header or in an hours column, else m:ss."""
    if export_unit is not None and export_unit.dimension in (TIME, MINUTES_OR_POINTS):
        return export_unit.factor >= 3600
    if column.unit is not None and column.unit.dimension == TIME:
        return column.unit.factor >= 3600
    return column.kind == "hours"


def _quantity(number: float, unit: Unit | None, own: bool, column: _Column) -> _Reading:
    """``number`` in ``unit`` (``None``: already in the column's) as the column holds it."""
    if unit is None or column.kind not in NUMERIC_KINDS:
        return _Reading(number, "", number, unit, own)
    factor = column_factor(unit, column.kind, column.unit)
    if factor is None:
        return _Reading(None, unit_problem(unit, column.kind, column.header), number, unit, own)
    value = number if factor == 1 else repr_round(number * factor)
    return _Reading(value, "", number, unit, own)


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
    units = {j: unit_of(header[j]) for j in plan.columns}
    cells: dict[tuple[int, int], object] = {}
    cells_at: dict[str, tuple[int, int]] = {}  # "F7" → (row, col)
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
    entries: list[_Entry] = []
    for agent_id, index, values, _number in pending:
        if agent_id in conflicted:
            continue
        target_row = _target_row(agent_id, appraisal, roster[agent_id], taken_rows, cells,
                                 report)
        for j, raw in values.items():
            column = plan.columns[j]
            entry = _Entry(agent_id, column, coordinate(target_row, column.col),
                           "" if raw is None else str(raw), _Reading(None))
            if (target_row, column.col) in appraisal.sheet.formulas:
                entry.reading = _Reading(
                    None, "单元格中是公式, 未覆盖 (the cell holds a formula; not overwritten)")
            else:
                entry.reading = _read(raw, column, units[j],
                                      (index, j) in layout.sheet.percent_cells)
            entries.append(entry)
            cells_at[entry.where] = (target_row, column.col)
    _check_rates(entries, report)
    for entry in entries:
        note = CellNote(entry.agent, entry.column.header, entry.where, entry.shown,
                        entry.reading.remark)
        if entry.reading.value is _BLANK:
            report.blank_kept.append(note)
        elif entry.reading.value is None:
            report.rejected.append(note)
        else:
            cells[cells_at[entry.where]] = entry.reading.value

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


def _target_row(agent_id: str, appraisal: _Appraisal, agent: _Agent, taken: set[int],
                cells: dict[tuple[int, int], object], report: ImportReport) -> int:
    """The 考核 row of ``agent_id``; an agent without one gets the first empty row, with
    工号/姓名/团队 from 员工."""
    rows = appraisal.rows.get(agent_id)
    if rows:
        if len(rows) > 1:
            report.warnings.append(
                f"{agent_id} 在考核表出现 {len(rows)} 次 (第 {', '.join(map(str, rows))} 行), "
                f"只写第 {rows[0]} 行 ({agent_id} is on {len(rows)} 考核 rows; "
                f"row {rows[0]} written)")
        row = rows[0]
    else:
        row = _first_empty_row(appraisal, taken)
        cells[(row, appraisal.id_col)] = agent.raw_id
        for c, h in appraisal.inputs.items():
            if normalise(h) == "姓名" and agent.name is not None:
                cells[(row, c)] = agent.name
            elif normalise(h) == "团队" and agent.team is not None:
                cells[(row, c)] = agent.team
        report.appended.append((agent_id, row))
        if row > appraisal.last_formula_row:
            report.warnings.append(
                f"{agent_id} 写在第 {row} 行, 该行没有公式, 请把公式向下填充到此行 "
                f"(row {row} has no formulas; fill them down)")
    taken.add(row)
    report.agents.append((agent_id, row))
    return row


@dataclass
class _Entry:
    """One export value bound for one 考核 cell."""

    agent: str
    column: _Column
    where: str
    """考核 cell, ``F7``."""
    shown: str
    """The value as the export shows it."""
    reading: _Reading


def _check_rates(entries: list[_Entry], report: ImportReport) -> None:
    """Rate columns as a whole: plain numbers mixing percent numbers (46.5) and fractions (0.9)
    are ambiguous and not written; values above 1 are warned about (or refused)."""
    by_column: dict[int, list[_Entry]] = {}
    for entry in entries:
        if entry.column.kind == "rate" and isinstance(entry.reading.value, float):
            by_column.setdefault(entry.column.col, []).append(entry)
    for column in by_column.values():
        _check_rate_column(column, report)


def _check_rate_column(entries: list[_Entry], report: ImportReport) -> None:
    plain = [e for e in entries if not e.reading.own]  # no % of their own
    by_header = any(e.reading.unit is not None for e in plain)  # a (%) header
    numbers = [e.reading.number or 0.0 for e in plain]
    big = [e for e, n in zip(plain, numbers, strict=True) if n > 1]
    small = [e for e, n in zip(plain, numbers, strict=True) if 0 < n <= 1]
    header = entries[0].column.header
    if big and small:
        example = f"{big[0].shown}, {small[0].shown}"
        for entry in small if by_header else big + small:
            entry.reading = _Reading(None, (
                f"同列数值混有百分数与小数 (如 {example}), 无法判断 {entry.shown} 是 "
                f"{entry.shown}% 还是 {format_number(entry.reading.number or 0.0, Scale.PERCENT)}"
                f", 未写入; 请统一写成带 % 的形式 (percent numbers and fractions mixed in this "
                "column: ambiguous, not written)"))
    elif by_header and small and not big:
        report.warnings.append(
            f"{header}: 表头为 %, 但导出的值都不超过 1 (如 {small[0].shown}), 已按 % 换算 "
            f"({small[0].shown} → {small[0].shown}%), 请确认不是小数 (values all ≤ 1 under a % "
            "header; read as percentages)")
    for entry in entries:
        value = entry.reading.value
        if not isinstance(value, float) or value <= 1:
            continue
        if entry.reading.unit is not None:  # 120%, 120 under (%), a %-formatted 1.2
            report.warnings.append(
                f"{entry.agent} {header} = {format_number(value, Scale.PERCENT)} 超过 100%, "
                f"已按原值写入, 请确认 (above 100%; written as is)")
        elif value <= 100:
            report.warnings.append(
                f"{entry.agent} {header} = {entry.shown} 看似百分数, 已按原值写入, 请确认是否应为"
                f" {entry.shown}% ({entry.shown} looks like a percentage; written as is)")
        else:
            entry.reading = _Reading(None, (
                f"{entry.shown} 既不是 0–1 的比率, 也不是 0–100 的百分数, 未写入 "
                "(neither a rate nor a percentage; not written)"))


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
    """Warn when the export is of another month than the workbook.

    The statistics period (``统计时间``/``统计周期``/``日期范围`` …) decides, and must lie in
    the workbook's month; an export time (``导出时间`` …) never counts. Without a labelled
    period, any month above the header (or in the file name) will do.
    """
    if appraisal.month is None:
        return
    period: set[str] = set()
    other: set[str] = set()
    for row in layout.sheet.rows[:layout.header_row]:
        line = " ".join(str(cell) for cell in row if cell is not None)
        for label, text in _labelled(fold(line)):
            if label == "period":
                period |= _months_in(text)
            elif label is None:
                other |= _months_in(text)
    months = period or other | _months_in(export.path.stem)
    if not months or months == {appraisal.month}:
        return
    shown = ", ".join(sorted(months))
    if appraisal.month not in months:
        report.warnings.append(
            f"导出的月份 ({shown}) 与考核月份 {appraisal.month} 不同, 请确认 "
            f"(the export mentions {shown}, the workbook is {appraisal.month})")
    elif period:
        report.warnings.append(
            f"导出的统计时间跨月 ({shown}), 考核月份为 {appraisal.month}, 请确认 "
            f"(the export's period spans {shown}, the workbook is {appraisal.month})")


_PERIOD_LABELS = frozenset({
    "统计时间", "统计日期", "统计周期", "统计区间", "统计范围", "统计月份", "日期范围", "日期区间",
    "时间范围", "时间区间", "时间段", "数据周期", "数据时间", "数据日期", "起止时间", "起止日期",
    "查询时间", "查询日期", "查询周期", "考核月份",
})
_OTHER_LABELS = frozenset({
    "导出时间", "导出日期", "下载时间", "下载日期", "生成时间", "生成日期", "创建时间", "创建日期",
    "打印时间", "打印日期", "制表时间", "制表日期", "更新时间",
})
_LABEL = re.compile("|".join(map(re.escape, sorted(_PERIOD_LABELS | _OTHER_LABELS))))


def _labelled(line: str) -> list[tuple[str | None, str]]:
    """A preamble line cut at its labels: ``统计时间:… 导出时间:…`` → [("period", "…"),
    ("export", "…")]; text before any label is (None, text)."""
    parts: list[tuple[str | None, str]] = []
    starts = list(_LABEL.finditer(line))
    ends = [match.start() for match in starts[1:]] + [len(line)] * bool(starts)
    parts.append((None, line[:starts[0].start()] if starts else line))
    for match, end in zip(starts, ends, strict=True):
        label = "period" if match.group() in _PERIOD_LABELS else "export"
        parts.append((label, line[match.end():end]))
    return parts
