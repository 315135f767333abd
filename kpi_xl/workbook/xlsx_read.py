"""Read an .xlsx into :class:`BookData` straight from the zip (lxml), without openpyxl.

Values: numbers as float, text as str (shared or inline strings), booleans as bool, error cells
as their text (``"#DIV/0!"``), ``t="d"`` ISO dates as their text. Formula cells go to
``formulas`` (with ``=``; shared formulas expanded per cell) and their stored result to
``cached``. Cells inside a legacy array formula's range other than its top-left cell hold
computed results: they go to ``cached`` only (they are not inputs).
"""

from __future__ import annotations

import gc
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from lxml import etree

from .model import BookData, SheetData
from .ooxml import PackageMap, map_package, not_a_workbook, q, unescape_text, xml_parser
from .refs import column_index, coordinate, parse_range, shift_formula

_C = q("c")
_ROW = q("row")
_V = q("v")
_F = q("f")
_IS = q("is")
_T = q("t")
_SI = q("si")
_RPH = q("rPh")
_SHEET_DATA = q("sheetData")


def read_book(path: str | os.PathLike[str]) -> BookData:
    """Read every worksheet's values, formulas, cached results, plus the defined names."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise not_a_workbook(os.fspath(path), exc) from exc
    with zf, _gc_paused():
        try:
            package = map_package(zf)
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise not_a_workbook(os.fspath(path), exc) from exc
        strings = read_shared_strings(zf, package.shared_strings)
        book = BookData()
        for sheet in package.sheets:
            data = zf.read(sheet.part)
            book.sheets[sheet.name] = read_sheet(data, sheet.name, strings)
        _read_defined_names(package, book)
    return book


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while building many small containers (≈15 % faster here)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_shared_strings(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    """The shared string table; rich-text runs joined, phonetic (``rPh``) runs left out."""
    if part is None or part not in zf.namelist():
        return []
    strings: list[str] = []
    with zf.open(part) as stream:
        for _, si in etree.iterparse(stream, events=("end",), tag=_SI, huge_tree=True):
            strings.append(_string_item_text(si))
            si.clear()
    return strings


def _string_item_text(item: etree._Element) -> str:
    """Text of an ``<si>`` / ``<is>``: its ``<t>`` or its runs' ``<t>``, without ``rPh``."""
    text = item.findtext(_T)
    if text is None:
        text = "".join(t.text or "" for t in item.iter(_T) if t.getparent().tag != _RPH)
    return unescape_text(text)


class _SharedFormulas:
    """Masters of shared formulas of one sheet (``si`` → master cell and text)."""

    def __init__(self) -> None:
        self.masters: dict[str, tuple[int, int, str]] = {}
        self.pending: list[tuple[int, int, str]] = []

    def resolve(self, row: int, col: int, si: str) -> str | None:
        master = self.masters.get(si)
        if master is None:
            self.pending.append((row, col, si))
            return None
        mrow, mcol, text = master
        return shift_formula(text, row - mrow, col - mcol)


def read_sheet(data: bytes, name: str, strings: list[str]) -> SheetData:
    """Parse one worksheet part (its bytes) into a :class:`SheetData`.

    A whole-document parse followed by one pass over ``<sheetData>`` measured faster here than
    ``iterparse`` with element clearing, for 200,000 cells.
    """
    sheet = SheetData(name=name)
    root = etree.fromstring(data, xml_parser())
    sheet_data = root.find(_SHEET_DATA)
    if sheet_data is None:
        return sheet
    values, formulas, cached = sheet.values, sheet.formulas, sheet.cached
    shared = _SharedFormulas()
    array_cells: list[tuple[int, int, int, int]] = []
    row_number = 0
    for row in sheet_data.iterchildren(_ROW):
        r = row.get("r")
        row_number = int(r) if r else row_number + 1
        col_number = 0
        for el in row.iterchildren(_C):
            ref = el.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                row_number = int(ref[len(letters) :])
                col_number = _column_number(letters)
            else:
                col_number += 1
            cell = (row_number, col_number)
            kind = el.get("t")
            v = f = item = None
            for child in el:
                tag = child.tag
                if tag == _V:
                    v = child.text
                elif tag == _F:
                    f = child
                elif tag == _IS:
                    item = child
            value = _convert(kind, v, item, strings)
            if f is None:
                if value is not None:
                    values[cell] = value
                continue
            text = _formula_text(f, row_number, col_number, shared, sheet, array_cells)
            if text is not None:
                formulas[cell] = text
                cached[cell] = value
            elif f.get("t") == "shared":
                cached[cell] = value  # its formula is filled in once its master shows up
            elif value is not None:
                values[cell] = value  # e.g. a data-table cell: keep what it shows
    _finish_shared(shared, sheet)
    _move_array_results(sheet, array_cells)
    return sheet


_DIGITS = "0123456789"
_COLUMN_NUMBERS: dict[str, int] = {}


def _column_number(letters: str) -> int:
    number = _COLUMN_NUMBERS.get(letters)
    if number is None:
        number = _COLUMN_NUMBERS[letters] = column_index(letters.replace("$", ""))
    return number


def _convert(
    kind: str | None, v: str | None, item: etree._Element | None, strings: list[str]
) -> object:
    """A cell's value from its ``t`` attribute, ``<v>`` text and ``<is>`` element."""
    if kind is None or kind == "n":
        return None if v is None else float(v)
    if kind == "s":
        return None if v is None else strings[int(v)]
    if kind == "inlineStr":
        return None if item is None else _string_item_text(item)
    if kind == "str":
        return "" if v is None else unescape_text(v)
    if v is None:
        return None
    if kind == "b":
        return v.strip() in ("1", "true")
    return v  # "e" (the error code) and "d" (ISO date text)


def _formula_text(
    f: etree._Element,
    row: int,
    col: int,
    shared: _SharedFormulas,
    sheet: SheetData,
    array_cells: list[tuple[int, int, int, int]],
) -> str | None:
    kind = f.get("t", "normal")
    text = f.text or ""
    if kind == "shared":
        si = f.get("si", "")
        if text and f.get("ref"):
            shared.masters[si] = (row, col, text)
            return "=" + text
        resolved = shared.resolve(row, col, si)
        return None if resolved is None else "=" + resolved
    if kind == "array":
        ref = f.get("ref") or coordinate(row, col)
        sheet.array_formulas[(row, col)] = ref
        array_cells.append(parse_range(ref))
        return "=" + text
    if kind == "dataTable":
        return None
    return "=" + text


def _finish_shared(shared: _SharedFormulas, sheet: SheetData) -> None:
    """Resolve shared-formula cells that came before their master (rare, but legal)."""
    for row, col, si in shared.pending:
        master = shared.masters.get(si)
        if master is None:
            continue  # a dangling si: keep the cached value only
        mrow, mcol, text = master
        sheet.formulas[(row, col)] = "=" + shift_formula(text, row - mrow, col - mcol)
    for cell in list(sheet.cached):
        if cell not in sheet.formulas:
            value = sheet.cached.pop(cell)
            if value is not None:
                sheet.values[cell] = value


def _move_array_results(sheet: SheetData, ranges: list[tuple[int, int, int, int]]) -> None:
    """Results inside an array formula's range are computed, not inputs: values → cached."""
    for top, left, bottom, right in ranges:
        for row in range(top, bottom + 1):
            for col in range(left, right + 1):
                cell = (row, col)
                if cell in sheet.values and cell not in sheet.formulas:
                    sheet.cached[cell] = sheet.values.pop(cell)


def _read_defined_names(package: PackageMap, book: BookData) -> None:
    """Workbook-scoped names into ``book.defined_names``; sheet-scoped into ``local_names``."""
    names_by_id = {sheet.local_id: sheet.name for sheet in package.sheets}
    for el in package.workbook_root.iter(q("definedName")):
        name = el.get("name")
        if not name:
            continue
        text = el.text or ""
        local = el.get("localSheetId")
        if local is None:
            book.defined_names[name] = text
        else:
            sheet_name = names_by_id.get(int(local))
            if sheet_name is not None:
                book.local_names.setdefault(sheet_name, {})[name] = text
