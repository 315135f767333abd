"""Read an .xlsx into :class:`BookData` straight from the zip (lxml), without openpyxl.

Values: numbers as float, text as str (shared or inline strings), booleans as bool, error cells
as their text (``"#DIV/0!"``), ``t="d"`` ISO dates as their text. Formula cells go to
``formulas`` (with ``=``; shared formulas expanded per cell) and their stored result to
``cached``. Cells inside a legacy array formula's range other than its top-left cell hold
computed results: they go to ``cached`` only (they are not inputs).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from lxml import etree

from kpi_xl.core.cells import MAX_ROW, column_index, coordinate, row_pattern
from kpi_xl.core.gcpause import gc_paused
from kpi_xl.recalc.parser import parse
from kpi_xl.recalc.template import Template
from kpi_xl.recalc.tokenizer import FormulaSyntaxError

from .model import BookData, SheetData
from .ooxml import PackageMap, map_package, not_a_workbook, q, unescape_text, xml_parser
from .refs import parse_range, shift_formula
from .sheetstream import NotStreamable, Part, closing_chunks, member_chunks

_C = q("c")
_ROW = q("row")
_V = q("v")
_F = q("f")
_IS = q("is")
_T = q("t")
_SI = q("si")
_RPH = q("rPh")
_SHEET_DATA = q("sheetData")
V = TypeVar("V")


def read_book(path: str | os.PathLike[str], last_rows: Mapping[str, int] | None = None
              ) -> BookData:
    """Read every worksheet's values, formulas, cached results, plus the defined names;
    ``last_rows`` (sheet → row) reads those sheets only down to that row."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise not_a_workbook(os.fspath(path), exc) from exc
    with zf, gc_paused():
        try:
            package = map_package(zf)
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise not_a_workbook(os.fspath(path), exc) from exc
        strings = read_shared_strings(zf, package.shared_strings)
        book = BookData()
        for sheet in package.sheets:
            last_row = (last_rows or {}).get(sheet.name)
            try:
                book.sheets[sheet.name] = scan_sheet(member_chunks(zf, sheet.part), sheet.name,
                                                       strings, last_row)
            except NotStreamable:
                data = zf.read(sheet.part)
                book.sheets[sheet.name] = read_sheet(data, sheet.name, strings, last_row)
        _read_defined_names(package, book)
    return book


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
    """Masters of shared formulas of one sheet (``si`` → master cell and text).

    A shared formula filled down (the cell below its master, in its column: what Excel saves
    for a column filled down) is rendered from the master parsed once
    (:class:`~kpi_xl.recalc.template.Template`); any other cell shifts the master's text.
    """

    def __init__(self) -> None:
        self.masters: dict[str, tuple[int, int, str]] = {}
        self.pending: list[tuple[int, int, str]] = []
        self._filled_down: dict[str, Template | None] = {}

    def resolve(self, row: int, col: int, si: str) -> str | None:
        master = self.masters.get(si)
        if master is None:
            self.pending.append((row, col, si))
            return None
        mrow, mcol, text = master
        if col == mcol and row > mrow:
            template = self._filled_down.get(si, _UNSEEN)
            if template is _UNSEEN:
                template = self._filled_down[si] = _filled_down(text, mrow)
            if template is not None and row + max(template.offsets, default=0) <= MAX_ROW:
                return template.render(row)[1:]
        return shift_formula(text, row - mrow, col - mcol)

    def pattern(self, row: int, col: int, si: str) -> str | None:
        """The cell's formula as a :class:`~kpi_xl.workbook.model.FormulaRuns` pattern (``=``
        included); ``None`` while its master is still to come (the cell is then pending)."""
        master = self.masters.get(si)
        if master is not None and col == master[1] and row > master[0]:
            template = self._filled_down.get(si)
            if template is not None and template.row_pattern is not None and row <= MAX_ROW:
                return template.row_pattern  # the same for every row below the master
        text = self.resolve(row, col, si)
        return None if text is None else row_pattern("=" + text, row)


_UNSEEN = object()
_PROBES = (1, 2, 997)
"""Rows below its master where a filled-down template is checked against the shifted text."""


def _filled_down(text: str, row: int) -> Template | None:
    """The master ``text`` (at ``row``) as a template for the rows below it: ``None`` when the
    formula parser does not follow it, or its rendering differs from the shifted text at any
    of :data:`_PROBES` (then every cell is shifted)."""
    try:
        template = Template("=" + text, parse("=" + text, row))
    except FormulaSyntaxError:
        return None
    for below in _PROBES:
        if row + below + max(template.offsets, default=0) <= MAX_ROW and \
                template.render(row + below)[1:] != shift_formula(text, below, 0):
            return None
    return template


def read_sheet(data: bytes, name: str, strings: list[str], last_row: int | None = None
               ) -> SheetData:
    """Parse one worksheet part (its bytes) into a :class:`SheetData` (only down to
    ``last_row`` when given).

    A whole-document lxml parse: :func:`read_book` uses it for the parts :func:`scan_sheet`
    does not follow (it holds the whole tree, several times the part's size).
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
        if last_row is not None and row_number > last_row:
            sheet.read_to = last_row
            break
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
            text = _formula_text(f.attrib, f.text or "", row_number, col_number, shared, sheet,
                                 array_cells)
            if text is not None:
                formulas[cell] = text
                if value is not None:
                    cached[cell] = value
            elif f.get("t") == "shared":
                if value is not None:  # its formula is filled in once its master shows up
                    cached[cell] = value
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
    f: Mapping[str, str],
    text: str,
    row: int,
    col: int,
    shared: _SharedFormulas,
    sheet: SheetData,
    array_cells: list[tuple[int, int, int, int]],
) -> str | None:
    """A formula cell's own text (``=``…) from its ``<f>`` attributes and text; ``None`` for a
    shared formula whose master comes later, and for a data table."""
    kind = f.get("t", "normal")
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


# --------------------------------------------------------------------------- the byte scanner
_CELL_RE = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?:(?: s="[0-9]{1,5}")?(?:'
    rb"><f>([^<]+)</f>(?:<v>([^<]+)</v>)?</c>"
    rb'|><f t="shared" si="([0-9]{1,6})"/>(?:<v>([^<]+)</v>)?</c>'
    rb'|(?: t="n")?><v>([^<]+)</v></c>'
    rb'| t="s"><v>([0-9]{1,10})</v></c>'
    rb'| t="inlineStr"><is><t(?: xml:space="preserve")?>([^<&\r_]+)</t></is></c>'
    rb'|(?: t="n")?(?:/>|></c>))'
    rb"|([^>/]*(?:/>|>.*?</c>)))",
    re.S,
)
"""A cell: column letters, row digits, then either one of the shapes nearly every cell has — a
formula without attributes (its text, the number it shows), a cell of a shared formula (its
``si``, the number it shows), a number, a shared string's index, plain inline text, no value —
or the rest of the cell, for :class:`_OtherCells`."""
_OTHER_RE = re.compile(
    rb"([^>/]*)(?:/>|>(<f>([^<]*)</f>|<f\b[^>]*>[^<]*</f>|<f\b[^>]*/>)?(?:<v>([^<]*)</v>|<v/>)?"
    rb'(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?(.*?)</c>)',
    re.S,
)
"""The rest of any other cell: other attributes, ``<f>`` (and its text when it has no
attributes), ``<v>`` text, a plain ``<is>``'s text, and any other children (``<extLst>``)."""
_T_RE = re.compile(rb"""\st\s*=\s*["']([^"']*)["']""")
_F_RE = re.compile(rb"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
_IS_RE = re.compile(rb"<is\b[^>]*?(?:/>|>(.*?)</is>)", re.S)
_IS_T_RE = re.compile(rb"<t\b[^>]*?(?:/>|>([^<]*)</t>)")
_RPH_RE = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_FATTR_RE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY_RE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class _ColumnsByLetters(dict[bytes, int]):
    """Column letters → column number, for letters as the scanner finds them (bytes)."""

    def __missing__(self, letters: bytes) -> int:
        number = self[letters] = column_index(letters.decode())
        return number


_COLUMNS_BY_LETTERS = _ColumnsByLetters()


def _entity(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _ENTITIES[name]
    return chr(int(decimal) if decimal else int(hexadecimal, 16))


def _text(raw: bytes) -> str:
    """XML character data as a parser gives it: line ends normalised, references resolved."""
    return _xml_chars(raw.decode())


def _xml_chars(text: str) -> str:
    """:func:`_text` of text already decoded."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        resolved = _ENTITY_RE.sub(_entity, text)
        if "&" in _ENTITY_RE.sub("", text):
            raise NotStreamable("an entity reference")
        text = resolved
    return text


def _inline_text(inner: bytes) -> str:
    """Text of an ``<is>``: its ``<t>`` or its runs' ``<t>``, phonetic runs left out."""
    if b"<rPh" in inner:
        inner = _RPH_RE.sub(b"", inner)
    return unescape_text("".join(_text(m.group(1) or b"") for m in _IS_T_RE.finditer(inner)))


def scan_sheet(chunks: Iterable[bytes], name: str, strings: list[str],
               last_row: int | None = None) -> SheetData:
    """:func:`read_sheet` for a part read piece by piece with a byte scanner (no tree); only
    down to ``last_row`` when given (the rest of the part is not even scanned).

    Raises :class:`NotStreamable` for a layout the scanner does not follow (cells without
    ``r``, comments, entity references …); :func:`read_sheet` reads those.
    """
    scanner = _Scanner(SheetData(name=name), strings)
    with closing_chunks(chunks):
        for segment in Part(chunks).segments():
            cut = None if last_row is None else _first_row_after(segment, last_row)
            if cut is not None:
                segment = segment[:cut]
            if not _all_cells(segment, scanner.scan(segment)):
                raise NotStreamable("a cell this scanner does not follow")
            if cut is not None:
                scanner.sheet.read_to = last_row
                break
    _finish_shared(scanner.others.shared, scanner.sheet)
    _move_array_results(scanner.sheet, scanner.others.array_cells)
    return scanner.sheet


_ROW_NUMBER_RE = re.compile(rb'<row\b[^>]*?\sr="([0-9]+)"')


def _first_row_after(segment: bytes, last_row: int) -> int | None:
    """Where in ``segment`` (whole rows) the first row below ``last_row`` starts, if any."""
    for match in _ROW_NUMBER_RE.finditer(segment):
        if int(match.group(1)) > last_row:
            return match.start()
    return None


def _all_cells(segment: bytes, found: int) -> bool:
    """Whether ``found`` cells are all the cells of ``segment``: its ``<c`` tags, rich text's
    ``<charset>``, ``<color>`` and ``<condense>`` aside."""
    tags = segment.count(b"<c")
    return tags == found or tags - segment.count(b"<ch") - segment.count(b"<co") == found


_TEXTS_KEPT = 10_000
"""Inline texts :class:`_Scanner` keeps to hand out again (the first ones of a sheet)."""


class _ByLetters(dict[bytes, V]):
    """Per column letters (as the scanner finds them), one thing made by ``make(column)``."""

    def __init__(self, make: Callable[[int], V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, letters: bytes) -> V:
        made = self[letters] = self._make(_COLUMNS_BY_LETTERS[letters])
        return made


class _Scanner:
    """Reads a sheet's cells segment after segment into ``sheet``, straight into its columns.

    To hold less, the cells of a row share the row's number object, repeated inline texts
    (teams, grades, names) one string, and a column's formulas filled down one text per run
    (:class:`~kpi_xl.workbook.model.FormulaRuns`): a formula whose bytes, with the row's
    number taken out, are the row above's is only counted, not decoded.
    """

    def __init__(self, sheet: SheetData, strings: list[str]) -> None:
        self.sheet = sheet
        self.strings = strings
        self.others = _OtherCells(sheet, strings)
        self.texts: dict[bytes, str] = {}
        self.values = _ByLetters(sheet.values.column)
        self.cached = _ByLetters(sheet.cached.column)
        self.formulas = _ByLetters(sheet.formulas.column)
        self.patterns: dict[bytes, tuple[int, bytes | None]] = {}
        """Per column letters: the row and raw pattern of the column's last formula."""

    def scan(self, segment: bytes) -> int:
        """Read the cells of ``segment`` (whole rows); returns how many it matched.

        One pass of :data:`_CELL_RE`: the common shapes are read here, the rest by
        :class:`_OtherCells`.
        """
        values, cached, formulas, patterns = self.values, self.cached, self.formulas, self.patterns
        strings, texts = self.strings, self.texts
        last_digits = b""
        row = 0
        row_bytes = b""
        cells = _CELL_RE.findall(segment)
        shared = self.others.shared
        for letters, digits, formula, result, si, shown, number, index, inline, rest in cells:
            if digits != last_digits:
                last_digits = digits
                row = int(digits)
                row_bytes = str(row).encode()
            if formula:
                # a character reference may hold the row's digits: no shortcut for those
                raw = None if b"&#" in formula else formula.replace(row_bytes, b"\0")
                runs = formulas[letters]
                if raw is not None and patterns.get(letters) == (row - 1, raw) \
                        and runs.continues(row):
                    runs.extend(row)
                else:
                    runs.append(row, _pattern(formula, raw, row))
                patterns[letters] = (row, raw)
                if result:
                    cached[letters].append(row, float(result))
            elif si:
                pattern = shared.pattern(row, _COLUMNS_BY_LETTERS[letters], si.decode())
                if pattern is not None:
                    formulas[letters].append(row, pattern)
                    patterns.pop(letters, None)
                if shown:
                    cached[letters].append(row, float(shown))
            elif number:
                values[letters][row] = float(number)
            elif inline:
                text = texts.get(inline)
                if text is None:
                    text = inline.decode()
                    if len(texts) < _TEXTS_KEPT:
                        texts[inline] = text
                values[letters][row] = text
            elif index:
                values[letters][row] = strings[int(index)]
            elif rest:
                self.others.read((row, _COLUMNS_BY_LETTERS[letters]), rest)
        return len(cells)


def _pattern(formula: bytes, raw: bytes | None, row: int) -> str:
    """The :func:`~kpi_xl.core.cells.row_pattern` of a formula cell's text (its ``<f>``
    bytes ``formula``, and ``raw``: those bytes with the row's number as NUL, ``None`` when
    they hold a character reference: then the text is resolved first)."""
    if raw is None:
        return row_pattern("=" + _xml_chars(formula.decode()), row)
    text = raw.decode()
    if "&" in text or "\r" in text:
        text = _xml_chars(text)
    return "=" + text


class _OtherCells:
    """Reads the cells :func:`_scan_segment` leaves: typed values, shared and array formulas,
    rich text, entity references; keeps the sheet's shared-formula masters and array ranges."""

    def __init__(self, sheet: SheetData, strings: list[str]) -> None:
        self.sheet = sheet
        self.strings = strings
        self.shared = _SharedFormulas()
        self.array_cells: list[tuple[int, int, int, int]] = []

    def read(self, cell: tuple[int, int], rest: bytes) -> None:
        """Read one cell from what follows its ``r`` attribute."""
        match = _OTHER_RE.fullmatch(rest)
        if match is None:
            raise NotStreamable("a cell this scanner does not follow")
        attrs, f_element, f_plain, v, inline, children = match.groups()
        value = self._value(attrs, v, inline, children)
        sheet = self.sheet
        if f_element is None:
            if value is not None:
                sheet.values[cell] = value
            return
        if f_plain is not None:
            sheet.formulas[cell] = "=" + _text(f_plain)
            if value is not None:
                sheet.cached[cell] = value
            return
        f = _F_RE.match(f_element)
        assert f is not None
        f_attrs = {m.group(1).decode(): _text(m.group(2) if m.group(2) is not None
                                              else m.group(3))
                   for m in _FATTR_RE.finditer(f.group(1))}
        f_text = _text(f.group(2)) if f.group(2) else ""
        text = _formula_text(f_attrs, f_text, cell[0], cell[1], self.shared, sheet,
                             self.array_cells)
        if text is not None:
            sheet.formulas[cell] = text
            if value is not None:
                sheet.cached[cell] = value
        elif f_attrs.get("t") == "shared":
            if value is not None:
                sheet.cached[cell] = value
        elif value is not None:
            sheet.values[cell] = value

    def _value(self, attrs: bytes, v: bytes | None, inline: bytes | None,
               children: bytes | None) -> object:
        """The cell's value from its attributes, ``<v>`` text, plain ``<is>`` text and other
        children."""
        kind = None
        if attrs and b"t" in attrs:
            t = _T_RE.search(attrs)
            if t is not None:
                kind = t.group(1).decode()
        if inline is not None and kind == "inlineStr" and not children:
            return unescape_text(_text(inline)) if inline else ""
        if children:
            if b"<v" in children or b"<f" in children or inline is not None:
                raise NotStreamable("a cell whose children this scanner does not follow")
            return _scanned_value(kind, v, children, self.strings)
        if kind is None or kind == "n":
            return float(v) if v else None
        return _scanned_value(kind, v, b"", self.strings)


def _scanned_value(kind: str | None, v: bytes | None, rest: bytes, strings: list[str]) -> object:
    """A cell's value from its type, ``<v>`` text and other children (``<is>``)."""
    if kind == "inlineStr":
        item = _IS_RE.search(rest)
        return None if item is None else _inline_text(item.group(1) or b"")
    raw = v or None
    if kind is None or kind == "n":
        return None if raw is None else float(raw)
    if kind == "s":
        return None if raw is None else strings[int(raw)]
    if kind == "str":
        return "" if raw is None else unescape_text(_text(raw))
    if raw is None:
        return None
    if kind == "b":
        return raw.strip() in (b"1", b"true")
    return _text(raw)  # "e" (the error code) and "d" (ISO date text)


def _finish_shared(shared: _SharedFormulas, sheet: SheetData) -> None:
    """Resolve shared-formula cells that came before their master (rare, but legal)."""
    if not shared.pending:
        return  # then every cell in ``cached`` holds a formula
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
