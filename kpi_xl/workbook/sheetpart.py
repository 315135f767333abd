"""One worksheet part held as an lxml tree, with the cell-level edits the editor needs.

Everything outside ``<sheetData>`` (sheet views, frozen panes, column widths, page setup,
drawing and legacy-drawing relationships, extension lists …) is kept as parsed; only the
``<dimension>``, ``autoFilter`` range and the rows touched change.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence

from lxml import etree

from kpi_xl.core.cells import column_index, coordinate

from .cellvalues import Encoded, Formula, encode_cached, encode_input
from .ooxml import NS_MAIN, XML_SPACE, part_bytes, q, xml_parser
from .refs import parse_range, shift_formula

Cell = tuple[int, int]

_ROW, _C, _F, _V, _IS, _T = q("row"), q("c"), q("f"), q("v"), q("is"), q("t")
_DIGITS = "0123456789"
_ROW_ATTRS_NOT_COPIED = frozenset({"r", "spans", "hidden", "outlineLevel", "collapsed"})


def _split(ref: str) -> Cell:
    letters = ref.rstrip(_DIGITS)
    return int(ref[len(letters) :]), column_index(letters.replace("$", ""))


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


class SheetPart:
    """A parsed worksheet part and indexes over its rows and cells."""

    def __init__(self, name: str, part: str, data: bytes) -> None:
        self.name = name
        self.part = part
        self.root = etree.fromstring(data, xml_parser())
        self.source = data
        sheet_data = self.root.find(q("sheetData"))
        if sheet_data is None:
            raise ValueError(f"sheet {name!r} ({part}) has no <sheetData>")
        self.sheet_data = sheet_data
        self.formulas_changed = False
        self.shape_changed = False
        self._rows: dict[int, etree._Element] | None = None
        self._row_numbers: list[int] = []
        self._cells: dict[int, tuple[list[int], dict[int, etree._Element]]] = {}

    # ---------------------------------------------------------------- indexes
    def _row_index(self) -> dict[int, etree._Element]:
        if self._rows is None:
            rows: dict[int, etree._Element] = {}
            number = 0
            for row in self.sheet_data.iterchildren(_ROW):
                r = row.get("r")
                number = int(r) if r else number + 1
                if not r:
                    row.set("r", str(number))  # make positions explicit before inserting
                rows[number] = row
            self._rows = rows
            self._row_numbers = sorted(rows)
        return self._rows

    def row(self, number: int, *, create: bool) -> etree._Element | None:
        rows = self._row_index()
        found = rows.get(number)
        if found is not None or not create:
            return found
        new = etree.Element(_ROW, r=str(number))
        position = bisect.bisect_left(self._row_numbers, number)
        if position < len(self._row_numbers):
            rows[self._row_numbers[position]].addprevious(new)
        else:
            self.sheet_data.append(new)
        self._row_numbers.insert(position, number)
        rows[number] = new
        self.shape_changed = True
        return new

    def _cell_index(self, number: int, row: etree._Element) -> tuple[list[int], dict]:
        index = self._cells.get(number)
        if index is None:
            cells: dict[int, etree._Element] = {}
            col = 0
            for c in row.iterchildren(_C):
                ref = c.get("r")
                if ref:
                    col = _split(ref)[1]
                else:
                    col += 1
                    c.set("r", coordinate(number, col))
                cells[col] = c
            index = self._cells[number] = (sorted(cells), cells)
        return index

    def cell(self, cell: Cell, *, create: bool) -> etree._Element | None:
        number, col = cell
        row = self.row(number, create=create)
        if row is None:
            return None
        cols, cells = self._cell_index(number, row)
        found = cells.get(col)
        if found is not None or not create:
            return found
        new = etree.Element(_C, r=coordinate(number, col))
        style = self._new_cell_style(row, col)
        if style is not None:
            new.set("s", style)
        position = bisect.bisect_left(cols, col)
        if position < len(cols):
            cells[cols[position]].addprevious(new)
        else:
            row.append(new)
        cols.insert(position, col)
        cells[col] = new
        _widen_spans(row, col)
        self.shape_changed = True
        return new

    def _new_cell_style(self, row: etree._Element, col: int) -> str | None:
        """A new cell takes its row's style (if custom), else its column's, like Excel."""
        if row.get("customFormat") in ("1", "true") and row.get("s"):
            return row.get("s")
        return self.column_styles().get(col)

    def column_styles(self) -> dict[int, str]:
        styles: dict[int, str] = {}
        for col in self.root.iter(q("col")):
            style = col.get("style")
            if style and style != "0":
                low, high = int(col.get("min", "0")), min(int(col.get("max", "0")), 16384)
                for index in range(low, high + 1):
                    styles[index] = style
        return styles

    def array_ranges(self) -> list[tuple[Cell, tuple[int, int, int, int]]]:
        """Anchor cell and (top, left, bottom, right) of every array formula."""
        found = []
        for f in self.sheet_data.iter(_F):
            if f.get("t") == "array":
                anchor = _split(f.getparent().get("r"))
                found.append((anchor, parse_range(f.get("ref") or coordinate(*anchor))))
        return found

    # ---------------------------------------------------------------- edits
    def set_cached(self, values: Mapping[Cell, object]) -> None:
        """Set the stored results of formula cells (and of cells an array formula fills)."""
        arrays = None
        for cell, value in values.items():
            el = self.cell(cell, create=False)
            if el is None or el.find(_F) is None:
                arrays = self.array_ranges() if arrays is None else arrays
                if not _inside_any(cell, arrays):
                    raise KeyError(
                        f"{self.name}!{coordinate(*cell)} is not a formula cell; "
                        "use set_cells for input cells"
                    )
                el = self.cell(cell, create=True) if el is None else el
            _write_value(el, encode_cached(value))

    def set_inputs(self, values: Mapping[Cell, object]) -> None:
        """Write plain values; text always as inline strings; styles kept."""
        arrays = self.array_ranges()
        for cell in values:
            if _inside_any(cell, arrays):
                raise ValueError(
                    f"{self.name}!{coordinate(*cell)} 属于数组公式, 不能单独改写 "
                    "(is part of an array formula and cannot be overwritten)"
                )
        encoded = {cell: encode_input(value) for cell, value in values.items()}
        for cell, enc in encoded.items():
            el = self.cell(cell, create=enc is not None)
            if el is None:
                continue  # writing a blank where there is no cell: nothing to do
            f = el.find(_F)
            if f is not None:
                self._drop_formula(el, f)
            for attr in ("cm", "vm"):
                el.attrib.pop(attr, None)
            _write_value(el, enc)

    def _drop_formula(self, el: etree._Element, f: etree._Element) -> None:
        if f.get("t") == "shared" and f.get("ref"):
            self.unshare({f.get("si", "")})
        el.remove(f)
        self.formulas_changed = True

    def unshare(self, groups: set[str]) -> None:
        """Turn the members of the given shared-formula groups into ordinary formulas."""
        members: dict[str, list[etree._Element]] = {si: [] for si in groups}
        masters: dict[str, tuple[Cell, str]] = {}
        for f in self.sheet_data.iter(_F):
            si = f.get("si")
            if f.get("t") != "shared" or si not in members:
                continue
            members[si].append(f)
            if f.get("ref") and f.text:
                masters[si] = (_split(f.getparent().get("r")), f.text)
        for si, formulas in members.items():
            if si not in masters:
                continue
            (mrow, mcol), text = masters[si]
            for f in formulas:
                row, col = _split(f.getparent().get("r"))
                f.text = shift_formula(text, row - mrow, col - mcol)
                for attr in ("t", "si", "ref"):
                    f.attrib.pop(attr, None)

    def replace_rows(
        self,
        rows: Iterable[Sequence[object]],
        *,
        first_row: int,
        first_col: int,
        keep_rows: int,
        styles: Mapping[int, int | None] | None,
    ) -> int:
        """Replace every row below ``keep_rows`` with ``rows`` starting at ``first_row``.

        Returns the number of the last row written (``first_row - 1`` if ``rows`` is empty).
        """
        template = self._template(first_row, keep_rows)
        col_styles = {**self.column_styles(), **template[0]}
        for col, style in (styles or {}).items():
            if style is None:
                col_styles.pop(col, None)
            else:
                col_styles[col] = str(style)
        self._unshare_across(keep_rows)
        removed_formulas = self._remove_rows_below(keep_rows)
        fragment, last_row, wrote_formulas = _rows_xml(
            rows, first_row, first_col, col_styles, template[1]
        )
        if fragment:
            self.sheet_data.extend(self._parse_rows(fragment))
        self.formulas_changed |= removed_formulas or wrote_formulas
        self.shape_changed = True
        self._rows = None
        self._cells.clear()
        self._fit_auto_filter(keep_rows, last_row)
        return last_row

    def _parse_rows(self, fragment: str) -> list[etree._Element]:
        """Parse generated ``<row>`` text with the sheet's own namespace prefixes in scope."""
        declarations = "".join(
            f' xmlns:{prefix}="{_xml_attr(uri)}"'
            for prefix, uri in self.root.nsmap.items()
            if prefix
        )
        wrapper = f'<sheetData xmlns="{NS_MAIN}"{declarations}>{fragment}</sheetData>'
        return list(etree.fromstring(wrapper.encode(), xml_parser()))

    def _template(self, first_row: int, keep_rows: int) -> tuple[dict[int, str], str]:
        """Column styles and row attributes of the first existing data row (the template)."""
        rows = self._row_index()
        row = rows.get(first_row)
        if row is None:
            row = rows.get(keep_rows + 1)
        if row is None:
            return {}, ""
        styles: dict[int, str] = {}
        col = 0
        for c in row.iterchildren(_C):
            ref = c.get("r")
            col = _split(ref)[1] if ref else col + 1
            if c.get("s"):
                styles[col] = c.get("s")
        attrs = "".join(
            f' {_attr_name(row, key)}="{_xml_attr(value)}"'
            for key, value in row.attrib.items()
            if key not in _ROW_ATTRS_NOT_COPIED
        )
        return styles, attrs

    def _unshare_across(self, keep_rows: int) -> None:
        """Shared-formula groups with members both kept and removed lose their sharing."""
        kept: set[str] = set()
        removed: set[str] = set()
        for f in self.sheet_data.iter(_F):
            if f.get("t") == "shared":
                row = _split(f.getparent().get("r"))[0]
                (kept if row <= keep_rows else removed).add(f.get("si", ""))
        if kept & removed:
            self.unshare(kept & removed)

    def _remove_rows_below(self, keep_rows: int) -> bool:
        """Remove rows after ``keep_rows``; True if any of them held a formula."""
        had_formula = False
        for number, row in list(self._row_index().items()):
            if number > keep_rows:
                had_formula = had_formula or row.find(f"{_C}/{_F}") is not None
                self.sheet_data.remove(row)
        return had_formula

    def _fit_auto_filter(self, keep_rows: int, last_row: int) -> None:
        """An autoFilter whose header row is kept now ends at the last data row."""
        auto_filter = self.root.find(q("autoFilter"))
        if auto_filter is None or not auto_filter.get("ref"):
            return
        top, left, _, right = parse_range(auto_filter.get("ref"))
        if top <= keep_rows:
            bottom = max(last_row, top)
            auto_filter.set("ref", f"{coordinate(top, left)}:{coordinate(bottom, right)}")

    # ---------------------------------------------------------------- output
    def update_dimension(self) -> None:
        """Set ``<dimension ref>`` to the used range (first cell to last cell)."""
        top = left = 10**9
        bottom = right = 0
        for number, row in self._row_index().items():
            cells = row.findall(_C)
            if not cells:
                continue
            if cells[0].get("r") and cells[-1].get("r"):
                first, last = _split(cells[0].get("r"))[1], _split(cells[-1].get("r"))[1]
            else:
                cols = self._cell_index(number, row)[0]
                first, last = cols[0], cols[-1]
            top, bottom = min(top, number), max(bottom, number)
            left, right = min(left, first), max(right, last)
        ref = "A1" if bottom == 0 else f"{coordinate(top, left)}:{coordinate(bottom, right)}"
        if ref.split(":")[0] == ref.split(":")[-1]:
            ref = ref.split(":")[0]
        dimension = self.root.find(q("dimension"))
        if dimension is None:
            dimension = etree.Element(q("dimension"))
            _insert_after_any(self.root, dimension, ("sheetPr",))
        dimension.set("ref", ref)

    def to_bytes(self) -> bytes:
        if self.shape_changed:
            self.update_dimension()
        return part_bytes(self.root, self.source)


# -------------------------------------------------------------------- helpers
def _attr_name(el: etree._Element, key: str) -> str:
    """An attribute's name as written in XML (``{ns}local`` → ``prefix:local``)."""
    if not key.startswith("{"):
        return key
    uri, local = key[1:].split("}", 1)
    for prefix, namespace in el.nsmap.items():
        if namespace == uri and prefix:
            return f"{prefix}:{local}"
    raise ValueError(f"no prefix for namespace {uri}")


def _inside_any(cell: Cell, ranges: list[tuple[Cell, tuple[int, int, int, int]]]) -> bool:
    row, col = cell
    return any(t <= row <= b and left <= col <= r for _, (t, left, b, r) in ranges)


def _widen_spans(row: etree._Element, col: int) -> None:
    spans = row.get("spans")
    if not spans or ":" not in spans or " " in spans:
        return
    low, high = (int(x) for x in spans.split(":"))
    if not low <= col <= high:
        row.set("spans", f"{min(low, col)}:{max(high, col)}")


def _write_value(el: etree._Element, enc: Encoded | None) -> None:
    """Replace a cell's ``<v>``/``<is>`` (keeping ``<f>``, ``s`` and extensions) and its ``t``."""
    for child in el.findall(_V) + el.findall(_IS):
        el.remove(child)
    if enc is None:
        el.attrib.pop("t", None)
        return
    if enc.t is None:
        el.attrib.pop("t", None)
    else:
        el.set("t", enc.t)
    position = 1 if len(el) and el[0].tag == _F else 0
    if enc.inline:
        item = etree.Element(_IS)
        t = etree.SubElement(item, _T)
        t.text = enc.text
        if enc.text != enc.text.strip() or "\n" in enc.text:
            t.set(XML_SPACE, "preserve")
        el.insert(position, item)
    else:
        v = etree.Element(_V)
        v.text = enc.text
        el.insert(position, v)


def _insert_after_any(root: etree._Element, new: etree._Element, before: tuple[str, ...]) -> None:
    position = 0
    for index, child in enumerate(root):
        if isinstance(child.tag, str) and etree.QName(child).localname in before:
            position = index + 1
    root.insert(position, new)


def _value_xml(enc: Encoded | None) -> tuple[str, str]:
    """(``t`` attribute text, inner XML) for an encoded value."""
    if enc is None:
        return "", ""
    t = "" if enc.t is None else f' t="{enc.t}"'
    if enc.inline:
        space = ' xml:space="preserve"' if enc.text != enc.text.strip() or "\n" in enc.text else ""
        return t, f"<is><t{space}>{_xml_text(enc.text)}</t></is>"
    return t, f"<v>{_xml_text(enc.text)}</v>"


def _cell_xml(ref: str, style: str | None, value: object) -> tuple[str, bool]:
    """One ``<c>`` element as text, and whether it holds a formula."""
    s = "" if style is None else f' s="{style}"'
    if isinstance(value, Formula):
        t, inner = _value_xml(encode_cached(value.cached))
        return f'<c r="{ref}"{s}{t}><f>{_xml_text(value.body)}</f>{inner}</c>', True
    enc = encode_input(value)
    if enc is None:
        return (f'<c r="{ref}"{s}/>' if s else ""), False
    t, inner = _value_xml(enc)
    return f'<c r="{ref}"{s}{t}>{inner}</c>', False


def _rows_xml(
    rows: Iterable[Sequence[object]],
    first_row: int,
    first_col: int,
    col_styles: Mapping[int, str],
    row_attrs: str,
) -> tuple[str, int, bool]:
    """Rows of values as ``<row>`` XML text; (xml, last row number, any formula written)."""
    parts: list[str] = []
    letters: list[str] = []
    number = first_row - 1
    wrote_formula = False
    for number, values in enumerate(rows, start=first_row):
        while len(letters) < len(values):
            letters.append(coordinate(1, first_col + len(letters))[:-1])
        cells = []
        for offset, value in enumerate(values):
            xml, is_formula = _cell_xml(
                f"{letters[offset]}{number}", col_styles.get(first_col + offset), value
            )
            wrote_formula |= is_formula
            if xml:
                cells.append(xml)
        parts.append(f'<row r="{number}"{row_attrs}>{"".join(cells)}</row>')
    return "".join(parts), number, wrote_formula
