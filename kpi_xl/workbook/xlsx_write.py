"""Edit an .xlsx at the part level: change only the sheet parts we own, copy the rest as is.

openpyxl load-and-save drops what it does not model (xlwings Lite code in
``xl/webextensions``, ``vbaProject.bin``, form controls, some charts and pictures). The
:class:`XlsxEditor` parses only the worksheet parts it is asked to change; every other zip
entry is written back with the same bytes, name, date, attributes and compression method.

    with workbook_lock(path):
        editor = XlsxEditor(path)
        editor.set_cached_values("工资", {(2, 5): 5230.5})
        editor.replace_sheet_rows("明细", rows, first_row=2)
        editor.save()
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from kpi_xl.core.errors import KpiError

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
        self._replaced: dict[str, bytes] = {}
        self._dropped: set[str] = set()
        self._full_calc_on_load = False

    # ------------------------------------------------------------------ queries
    @property
    def sheet_names(self) -> list[str]:
        """Worksheet names in tab order."""
        return [sheet.name for sheet in self._package.sheets]

    def part_names(self) -> list[str]:
        """Zip entry names of the source file, in order."""
        return [info.filename for info in self._zip.infolist()]

    def _sheet(self, name: str) -> SheetPart:
        part = self._sheets.get(name)
        if part is None:
            ref = next((s for s in self._package.sheets if s.name == name), None)
            if ref is None:
                raise KpiError(
                    f"工作簿中没有名为 '{name}' 的工作表",
                    f"the workbook has no worksheet named '{name}'",
                    code="#REF!",
                )
            part = self._sheets[name] = SheetPart(name, ref.part, self._zip.read(ref.part))
        return part

    # ------------------------------------------------------------------ edits
    def set_cached_values(self, sheet: str, values: Mapping[Cell, object]) -> None:
        """Store computed results in formula cells, keeping each ``<f>``.

        Numbers get no ``t``; text ``t="str"``; bools ``t="b"``; Excel error codes (text such as
        ``"#N/A"`` or a :class:`KpiError`) ``t="e"``; ``None`` removes the cached value. Cells
        inside an array formula's range count as formula cells. Raises ``KeyError`` for a cell
        that holds no formula.
        """
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
        goes. Values: numbers, text (always text), bools, dates, ``None`` (blank) and
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
        with zipfile.ZipFile(stream, "w") as out:
            for info in self._zip.infolist():
                name = info.filename
                if name in self._dropped:
                    continue
                data = replaced.get(name)
                if data is None:
                    data = self._zip.read(name)
                out.writestr(_copy_info(info), data)

    def _final_parts(self) -> dict[str, bytes]:
        parts = dict(self._replaced)
        formulas_changed = False
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


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A fresh ZipInfo with the entry's name, date, attributes and compression method."""
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.internal_attr = info.internal_attr
    copy.create_system = info.create_system
    copy.comment = info.comment
    return copy
