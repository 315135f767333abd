"""Edit an .xlsx at the part level: change only the sheet parts we own, copy the rest as is.

openpyxl load-and-save drops what it does not model (xlwings Lite code in
``xl/webextensions``, ``vbaProject.bin``, form controls, some charts and pictures). The
:class:`XlsxEditor` touches only the worksheet parts it is asked to change; every other zip
entry is written back with the same bytes (copied still compressed), name, date, attributes
and compression method. Caching formula results and replacing rows stream each part through
once (:mod:`~kpi_xl.workbook.sheetstream`) and keep it deflated until the save; other edits,
and parts laid out unusually, use an lxml tree (:mod:`~kpi_xl.workbook.sheetpart`).

    with workbook_lock(path):
        editor = XlsxEditor(path)
        editor.set_cached_values("工资", {(2, 5): 5230.5})
        editor.replace_sheet_rows("明细", rows, first_row=2)
        editor.save()
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from kpi_xl.core.errors import KpiError

from . import sheetstream
from .atomic import atomic_write
from .ooxml import (
    NS_CT,
    NS_PKG_REL,
    PackageMap,
    map_package,
    not_a_workbook,
    part_bytes,
    q,
    rels_path,
    xml_parser,
)
from .sheetpart import SheetPart
from .sheetstream import Deflated, NotStreamable

Cell = tuple[int, int]

# CT_Workbook children that come before <calcPr>, in schema order.
_BEFORE_CALC_PR = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
    "definedNames",
)


class XlsxEditor:
    """An .xlsx/.xlsm opened for part-level edits; nothing changes on disk until :meth:`save`.

    The source file is read into memory when the editor is created, so saving over it is safe.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._source = self.path.read_bytes()
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(self._source))
            self._package: PackageMap = map_package(self._zip)
        except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
            raise not_a_workbook(self.path.name, exc) from exc
        self._sheets: dict[str, SheetPart] = {}
        self._streamed: dict[str, Deflated] = {}
        self._replaced: dict[str, bytes] = {}
        self._dropped: set[str] = set()
        self._formulas_changed = False
        self._full_calc_on_load = False

    # ------------------------------------------------------------------ queries
    @property
    def sheet_names(self) -> list[str]:
        """Worksheet names in tab order."""
        return [sheet.name for sheet in self._package.sheets]

    def part_names(self) -> list[str]:
        """Zip entry names of the source file, in order."""
        return [info.filename for info in self._zip.infolist()]

    def _part_name(self, name: str) -> str:
        ref = next((s for s in self._package.sheets if s.name == name), None)
        if ref is None:
            raise KpiError(
                f"工作簿中没有名为 '{name}' 的工作表",
                f"the workbook has no worksheet named '{name}'",
                code="#REF!",
            )
        return ref.part

    def _sheet(self, name: str) -> SheetPart:
        """The sheet as an lxml tree (from its streamed edits so far, if any)."""
        part = self._sheets.get(name)
        if part is None:
            part_name = self._part_name(name)
            streamed = self._streamed.pop(name, None)
            data = self._zip.read(part_name) if streamed is None else streamed.to_bytes()
            part = self._sheets[name] = SheetPart(name, part_name, data)
        return part

    def _streamable(self, name: str) -> bool:
        self._part_name(name)
        return name not in self._sheets

    def _chunks(self, name: str) -> Iterator[bytes]:
        """The current bytes of a sheet part not held as a tree, a piece at a time."""
        streamed = self._streamed.get(name)
        if streamed is not None:
            return streamed.chunks()
        return sheetstream.member_chunks(self._zip, self._part_name(name))

    # ------------------------------------------------------------------ edits
    def set_cached_values(self, sheet: str, values: Mapping[Cell, object]) -> None:
        """Store computed results in formula cells, keeping each ``<f>``.

        Numbers get no ``t``; text ``t="str"``; bools ``t="b"``; Excel error codes (text such as
        ``"#N/A"`` or a :class:`KpiError`) ``t="e"``; ``None`` removes the cached value. Cells
        inside an array formula's range count as formula cells. Raises ``KeyError`` for a cell
        that holds no formula.
        """
        if self._streamable(sheet):
            try:
                self._streamed[sheet] = sheetstream.set_cached(self._chunks(sheet), values, sheet)
                return
            except NotStreamable:
                pass
        self._sheet(sheet).set_cached(values)

    def set_cells(self, sheet: str, values: Mapping[Cell, object]) -> None:
        """Write plain input values, creating missing rows/cells in order, keeping styles.

        Text is stored as inline strings, never as a formula, whatever it starts with. Writing
        over a formula removes the formula. ``None`` (or NaN) blanks a cell but keeps its style.
        """
        self._sheet(sheet).set_inputs(values)

    def replace_sheet_rows(
        self,
        sheet: str,
        rows: Iterable[Sequence[object]],
        first_row: int = 1,
        styles: Mapping[int, int | None] | Sequence[int | None] | None = None,
        *,
        keep_rows: int | None = None,
        first_col: int = 1,
    ) -> int:
        """Replace the sheet's rows below the header with ``rows``, keeping the rest of the part.

        ``rows`` are written from ``first_row`` and column ``first_col`` on. The first
        ``keep_rows`` rows (default ``first_row - 1``) stay untouched; every other existing row
        goes. Values: numbers (a ``Decimal`` as the float it rounds to), text (always text),
        bools, dates, ``None`` (blank), Excel errors (a ``KpiError``: its code, as text) and
        :class:`Formula` (a formula with an optional cached result). Cell style per column:
        ``styles[col]`` (a mapping by column number, or a sequence from ``first_col``) if
        given, else the ``s`` of the existing first data row's cell in that column (so the
        template's number formats survive), else the column's default style. Returns the last
        row number written.
        """
        if keep_rows is None:
            keep_rows = first_row - 1
        if not 0 <= keep_rows < first_row:
            raise ValueError(f"keep_rows={keep_rows} must be between 0 and first_row-1")
        if styles is not None and not isinstance(styles, Mapping):
            styles = {first_col + i: style for i, style in enumerate(styles)}
        if self._streamable(sheet):
            rows = rows if isinstance(rows, Sequence) else list(rows)
            try:
                part, last_row, formulas = sheetstream.replace_rows(
                    self._chunks(sheet), rows, first_row=first_row, first_col=first_col,
                    keep_rows=keep_rows, styles=styles)
            except NotStreamable:
                pass
            else:
                self._streamed[sheet] = part
                self._formulas_changed |= formulas
                return last_row
        return self._sheet(sheet).replace_rows(
            rows, first_row=first_row, first_col=first_col, keep_rows=keep_rows, styles=styles
        )

    def request_full_calc_on_load(self) -> None:
        """Ask Excel to recalculate everything when it opens the file (``calcPr``)."""
        self._full_calc_on_load = True

    # ------------------------------------------------------------------ output
    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        backup: bool = True,
        full_calc_on_load: bool = False,
    ) -> Path:
        """Write atomically to ``path`` (default: the file opened), keeping ``<name>.bak``.

        Raises :class:`WorkbookBusy` if Excel has the target open. Callers that read, modify and
        save should hold :func:`workbook_lock` around the whole cycle.
        """
        if full_calc_on_load:
            self._full_calc_on_load = True
        target = self.path if path is None else Path(path)
        return atomic_write(target, self.write_to, backup=backup)

    def to_bytes(self) -> bytes:
        stream = io.BytesIO()
        self.write_to(stream)
        return stream.getvalue()

    def write_to(self, stream: BinaryIO) -> None:
        """Write the edited package to a binary stream."""
        replaced = self._final_parts()
        streamed = {self._part_name(name): part for name, part in self._streamed.items()}
        with zipfile.ZipFile(stream, "w") as out:
            raw_ok = _can_write_raw(out)
            for info in self._zip.infolist():
                name = info.filename
                if name in self._dropped:
                    continue
                data = replaced.get(name)
                if data is not None:
                    out.writestr(_copy_info(info), data)
                    continue
                part = streamed.get(name)
                if part is not None:
                    if raw_ok and info.compress_type == zipfile.ZIP_DEFLATED:
                        _write_raw(out, info, part.data, part.crc, part.size)
                    else:
                        out.writestr(_copy_info(info), part.to_bytes())
                    continue
                stored = self._stored(info) if raw_ok else None
                if stored is not None:
                    _write_raw(out, info, stored, info.CRC, info.file_size)
                else:
                    out.writestr(_copy_info(info), self._zip.read(name))

    def _stored(self, info: zipfile.ZipInfo) -> memoryview | None:
        """An entry's data exactly as stored in the source (compressed), if it can be copied
        so: not encrypted, deflated or stored, a well-formed local header."""
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_DEFLATED,
                                                               zipfile.ZIP_STORED):
            return None
        offset = info.header_offset
        header = self._source[offset:offset + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return None
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start = offset + 30 + name_length + extra_length
        if start + info.compress_size > len(self._source):
            return None
        return memoryview(self._source)[start:start + info.compress_size]

    def _final_parts(self) -> dict[str, bytes]:
        parts = dict(self._replaced)
        formulas_changed = self._formulas_changed
        for sheet in self._sheets.values():
            parts[sheet.part] = sheet.to_bytes()
            formulas_changed |= sheet.formulas_changed
        if formulas_changed and self._package.calc_chain:
            parts.update(self._drop_calc_chain())
        if self._full_calc_on_load:
            parts[self._package.workbook] = self._workbook_with_full_calc()
        return parts

    def _drop_calc_chain(self) -> dict[str, bytes]:
        """Remove calcChain.xml (and its relationship and content type).

        A calc chain naming cells that no longer hold formulas makes Excel "repair" the file;
        without one Excel simply rebuilds it.
        """
        chain = self._package.calc_chain
        assert chain is not None
        self._dropped.add(chain)
        rels_part = rels_path(self._package.workbook)
        rels = etree.fromstring(self._zip.read(rels_part), xml_parser())
        for rel in list(rels.iter(f"{{{NS_PKG_REL}}}Relationship")):
            if rel.get("Type", "").endswith("/calcChain"):
                rels.remove(rel)
        types = etree.fromstring(self._zip.read("[Content_Types].xml"), xml_parser())
        for override in list(types.iter(f"{{{NS_CT}}}Override")):
            if override.get("PartName", "").lstrip("/") == chain:
                types.remove(override)
        return {rels_part: part_bytes(rels, self._zip.read(rels_part)),
                "[Content_Types].xml": part_bytes(types, self._zip.read("[Content_Types].xml"))}

    def _workbook_with_full_calc(self) -> bytes:
        root = self._package.workbook_root
        calc = root.find(q("calcPr"))
        if calc is None:
            calc = etree.Element(q("calcPr"))
            position = 0
            for index, child in enumerate(root):
                if isinstance(child.tag, str) and etree.QName(child).localname in _BEFORE_CALC_PR:
                    position = index + 1
            root.insert(position, calc)
        calc.set("fullCalcOnLoad", "1")
        return part_bytes(root, self._zip.read(self._package.workbook))


def _can_write_raw(out: zipfile.ZipFile) -> bool:
    """Whether entries can be written already compressed (``zipfile``'s own bookkeeping, as
    ``ZipFile.writestr`` does it, on a seekable stream)."""
    return bool(getattr(out, "_seekable", False)) and all(
        hasattr(out, attr) for attr in ("fp", "start_dir", "filelist", "NameToInfo",
                                        "_writecheck", "_didModify"))


def _write_raw(out: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes | memoryview,
               crc: int, size: int) -> None:
    """Add an entry whose data is already compressed with the entry's method: the same local
    header, data and directory record ``writestr`` would write, without recompressing."""
    zinfo = _copy_info(info)
    zinfo.flag_bits = 0
    if not zinfo.external_attr:
        zinfo.external_attr = 0o600 << 16
    zinfo.file_size = size
    zinfo.compress_size = len(data)
    zinfo.CRC = crc
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
    out.fp.seek(out.start_dir)
    zinfo.header_offset = out.fp.tell()
    out._writecheck(zinfo)
    out._didModify = True
    out.fp.write(zinfo.FileHeader(zip64))
    out.fp.write(data)
    out.start_dir = out.fp.tell()
    out.filelist.append(zinfo)
    out.NameToInfo[zinfo.filename] = zinfo


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A fresh ZipInfo with the entry's name, date, attributes and compression method."""
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.internal_attr = info.internal_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy
