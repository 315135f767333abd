"""Read a platform export (CSV or .xlsx) into plain grids of cell values.

CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (a
superset of GBK/GB2312, what Chinese Excel and most 赤兔/千牛 downloads write); comma, tab or
semicolon separated. Excel's text-forcing forms are unwrapped: ``="0012"`` → ``0012``, a
leading tab → nothing.

.xlsx/.xlsm: every worksheet, cached values of formula cells (openpyxl, read-only); a numeric
cell formatted as a percentage is marked so that ``46.5%`` shown in Excel (0.465 stored) is not
divided by 100 again under a ``(%)`` header. The legacy binary .xls and HTML "xls" files some
platforms produce are refused with a clear message (save as .xlsx or .csv).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kpi_xl.core.errors import KpiError
from kpi_xl.workbook.ooxml import LEGACY_XLS_MAGIC

__all__ = ["ExportFormatError", "ExportSheet", "read_export"]

_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)


class ExportFormatError(KpiError):
    """The export file cannot be read (format, encoding, no recognisable header row)."""


@dataclass
class ExportSheet:
    """One grid of an export: rows of cell values (``None`` for blank), as the file holds them."""

    name: str
    """Sheet name (.xlsx) or ``""`` (CSV)."""
    rows: list[list[object]]
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    """(row index, column index), 0-based, of numeric cells with a percentage number format."""


@dataclass
class ExportFile:
    path: Path
    kind: str
    """``"csv"`` or ``"xlsx"``."""
    sheets: list[ExportSheet]
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def source(self) -> str:
        if self.kind == "csv":
            name = {",": "逗号", "\t": "制表符", ";": "分号"}.get(self.delimiter or ",", "?")
            return f"CSV {self.encoding}, {name}分隔"
        return "xlsx"


def read_export(path: str | os.PathLike[str]) -> ExportFile:
    """Read ``path`` as CSV or .xlsx, judged by its content (the suffix is often wrong)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportFormatError(
            f"找不到导出文件 {path}", f"export file not found: {path}"
        ) from None
    if data.startswith(b"PK"):
        return ExportFile(path, "xlsx", _read_xlsx(path, data))
    if data.startswith(LEGACY_XLS_MAGIC):
        raise ExportFormatError(
            f"{path.name} 是旧版 .xls 文件, 请在 Excel 中另存为 .xlsx 或 CSV 后再导入",
            f"{path.name} is a legacy .xls file; save it as .xlsx or CSV first",
        )
    text, encoding = decode_text(data, path.name)
    if text.lstrip()[:6].lower() in ("<html>", "<table", "<!doct", "<?xml "):
        raise ExportFormatError(
            f"{path.name} 是网页格式的表格, 请在 Excel 中另存为 .xlsx 或 CSV 后再导入",
            f"{path.name} is an HTML/XML table; save it as .xlsx or CSV first",
        )
    delimiter = sniff_delimiter(text)
    rows = [[clean_text(cell) for cell in row]
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return ExportFile(path, "csv", [ExportSheet("", rows)], encoding=encoding,
                      delimiter=delimiter)


def decode_text(data: bytes, name: str = "") -> tuple[str, str]:
    """Decode CSV bytes: BOMs first, then strict UTF-8, then GB18030 (GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ExportFormatError(
        f"{name} 的编码无法识别 (试过 {', '.join(candidates)}), 请另存为 UTF-8 CSV 或 .xlsx",
        f"cannot decode {name} (tried {', '.join(candidates)}); save it as UTF-8 CSV or .xlsx",
    )


def sniff_delimiter(text: str) -> str:
    """The separator used most in the first lines (quoted parts not counted); comma by default."""
    sample = [line for line in text.splitlines()[:30] if line.strip()]
    unquoted = [re.sub(r'"[^"]*"', "", line) for line in sample]
    counts = {d: sum(line.count(d) for line in unquoted) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def clean_text(value: str) -> str | None:
    """A CSV cell's text without padding or Excel's ``="…"`` wrapper; ``None`` when blank."""
    text = value.strip().strip("\ufeff\u200b").strip()
    match = _EXCEL_TEXT.match(text)
    if match:
        text = match.group(1).strip()
    return text or None


def _read_xlsx(path: Path, data: bytes) -> list[ExportSheet]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ExportFormatError(
            f"{path.name} 不是可读取的 .xlsx 文件: {exc}",
            f"{path.name} is not a readable .xlsx file: {exc}",
        ) from exc
    sheets = []
    try:
        for ws in wb.worksheets:
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # exports often carry a wrong <dimension>
            rows: list[list[object]] = []
            percent: set[tuple[int, int]] = set()
            for r, row in enumerate(ws.iter_rows()):
                values: list[object] = []
                for c, cell in enumerate(row):
                    value = getattr(cell, "value", None)
                    if isinstance(value, str):
                        value = clean_text(value)
                    elif (isinstance(value, int | float) and not isinstance(value, bool)
                          and "%" in (getattr(cell, "number_format", None) or "")):
                        percent.add((r, c))
                    values.append(value)
                rows.append(values)
            sheets.append(ExportSheet(ws.title, rows, percent))
    finally:
        wb.close()
    return sheets
