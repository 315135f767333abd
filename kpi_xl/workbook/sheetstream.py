"""Worksheet parts edited as a byte stream, never held as a tree.

The two big edits of a refresh — caching every formula result of 考核 and replacing the rows
of 工资/明细/历史 — rewrite one sheet part in a single pass: untouched bytes (other rows, other
cells, everything outside ``<sheetData>``) are copied through as they are, new ``<row>``/``<c>``
text is generated, and the result is deflated as it is produced (:class:`Deflated`), so neither
the part's XML nor a tree of it stays in memory until the save. Inflating the part and
deflating the result run on worker threads (zlib lets go of the GIL), beside the rewriting.

Both edits work a column at a time where they can, not a cell at a time: cached values are
filed by column, each row's cells to fill are matched by one pattern and their values put in a
column at a time; new rows are made from each column's cell texts (one per distinct value),
joined a row at a time. Rows that do not fit (an odd cell, values of other kinds, rows of
other lengths) are done a cell at a time, with the same result.

This works on the layout every producer of .xlsx files writes (Excel, LibreOffice, openpyxl,
kpi_xl): the main namespace as the default one, ``r`` as the first attribute of ``<row>`` and
``<c>``, rows in order, ``<f>`` before ``<v>``. Anything else — comments, CDATA, a prefixed
main namespace, a cell that would have to be created — raises :class:`NotStreamable` and the
caller edits that part as a tree instead (:mod:`~kpi_xl.workbook.sheetpart`), with the same
result.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress, filterfalse, islice, repeat
from typing import NamedTuple, Protocol, cast

from kpi_xl.core.cells import column_index, column_letters, coordinate
from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError
from kpi_xl.core.gcpause import gc_paused

from .cellvalues import Formula, encode_cached, encode_input, storable_error
from .ooxml import NS_MAIN, escape_text
from .refs import parse_range

Cell = tuple[int, int]

CHUNK = 4 << 20
"""Bytes read (and rows written) at a time."""
COMPRESS_LEVEL = 1
"""Deflate level of rewritten parts: 3× faster than zipfile's default (6), files ~30 % larger."""

_ROW_ATTRS_NOT_COPIED = frozenset({b"r", b"spans", b"hidden", b"outlineLevel", b"collapsed"})
_MAIN_DEFAULT = f'xmlns="{NS_MAIN}"'.encode()

_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_T_ATTR_RE = re.compile(rb"""\s+t\s*=\s*(?:"[^"]*"|'[^']*')""")
_REF_RE = re.compile(rb"""\br\s*=\s*["']([A-Za-z$]+[0-9$]+)["']""")
_CELL_TAG_RE = re.compile(rb"<c\b([^>]*?)(/?)>")
_ROW_TAG_RE = re.compile(rb"""<row\b([^>]*?)(/?)>""")
_ROW_NUMBER_RE = re.compile(rb"""\br\s*=\s*["']([0-9]+)["']""")
_DIMENSION_RE = re.compile(rb"""(<dimension\b[^>]*?\bref\s*=\s*)(?:"[^"]*"|'[^']*')""")
_AUTO_FILTER_RE = re.compile(rb"""(<autoFilter\b[^>]*?\bref\s*=\s*)(?:"([^"]*)"|'([^']*)')""")
_COL_RE = re.compile(rb"<col\b([^>]*?)/?>")
_VALUE_RE = re.compile(
    rb"(?:<v\b[^>]*?/>|<v\b[^>]*>[^<]*</v>|<is\b[^>]*?/>|<is\b[^>]*>.*?</is>)", re.S
)
_F_RE = re.compile(rb"<f\b[^>]*?/>|<f\b[^>]*>[^<]*</f>")


class NotStreamable(Exception):
    """This part (or this edit) needs the tree editor."""


# --------------------------------------------------------------------------- compressed parts
@dataclass(frozen=True)
class Deflated:
    """A part's bytes as one raw deflate stream (what a zip entry holds), with CRC and size."""

    data: bytes
    crc: int
    size: int

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes a chunk at a time (a big part inflated ahead: :func:`read_ahead`)."""
        return read_ahead(self._inflated()) if self.size > CHUNK else self._inflated()

    def _inflated(self) -> Iterator[bytes]:
        inflater = zlib.decompressobj(-15)
        for start in range(0, len(self.data), CHUNK // 8):
            out = inflater.decompress(self.data[start:start + CHUNK // 8])
            if out:
                yield out
        rest = inflater.flush()
        if rest:
            yield rest

    def to_bytes(self) -> bytes:
        return zlib.decompress(self.data, -15)


class DeflateSink:
    """Collects output bytes and deflates them a chunk at a time on a worker thread: zlib lets
    go of the GIL, so deflating one chunk overlaps making the next. (A part smaller than a
    chunk is deflated at :meth:`close`, without a thread.)

    Use it in a ``with`` block: leaving it, error or not, stops and joins the worker (an
    error of the worker's comes out of :meth:`write` or :meth:`close`)."""

    _AHEAD = 2
    """Chunks handed to the worker and not deflated yet, at most (bounds the memory)."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        self._out: list[bytes] = []
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._worker: ThreadPoolExecutor | None = None
        self._queued: deque[Future[None]] = deque()
        self._crc = 0
        self.size = 0

    def __enter__(self) -> DeflateSink:
        return self

    def __exit__(self, *exc: object) -> None:
        """Join the worker, dropping the chunks it has not started (none are left after
        :meth:`close`)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= CHUNK:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="kpi-xl-deflate")
            if len(self._queued) >= self._AHEAD:
                self._queued.popleft().result()
            self._queued.append(self._worker.submit(self._deflate, self._take()))

    def _take(self) -> bytes:
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self.size += len(data)
        return data

    def _deflate(self, data: bytes) -> None:
        """Deflate the next chunk (on the worker, one chunk after the other)."""
        self._crc = zlib.crc32(data, self._crc)
        out = self._z.compress(data)
        if out:
            self._out.append(out)

    def close(self) -> Deflated:
        """The deflated part, once the worker has deflated every chunk handed to it."""
        if self._worker is not None:
            self._worker.shutdown()
            while self._queued:
                self._queued.popleft().result()
        self._deflate(self._take())
        self._out.append(self._z.flush())
        return Deflated(b"".join(self._out), self._crc, self.size)


def member_chunks(zf: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """A zip member's bytes a chunk at a time (a big member inflated ahead: :func:`read_ahead`)."""
    chunks = _member_chunks(zf, name)
    return read_ahead(chunks) if zf.getinfo(name).file_size > CHUNK else chunks


def _member_chunks(zf: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with zf.open(name) as stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                return
            yield chunk


def read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, each made on a worker thread while the caller works on the one before:
    inflating lets go of the GIL, so it overlaps scanning and rewriting. The worker is joined
    when the generator is exhausted or closed (a caller that may stop early closes it:
    :func:`closing_chunks`); an error making a chunk comes out where that chunk is read."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-xl-inflate") as worker:
        ahead = worker.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = worker.submit(next, chunks, None)
            yield chunk


@contextmanager
def closing_chunks(chunks: Iterable[bytes]) -> Iterator[None]:
    """Close ``chunks`` (a generator, e.g. :func:`read_ahead`'s) on the way out, so a part left
    half read — :class:`NotStreamable`, a missing cell — joins its worker thread there and
    then, not whenever the abandoned generator is collected. Read to the end, it is a no-op."""
    try:
        yield
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


# --------------------------------------------------------------------------- splitting a part
class Part:
    """A sheet part read as head (through ``<sheetData>``), row segments, and tail."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        buffer = b""
        while True:
            start = buffer.find(b"<sheetData")
            if start >= 0:
                end = buffer.find(b">", start)
                if end >= 0:
                    break
            more = next(self._chunks, None)
            if more is None:
                raise NotStreamable("no <sheetData>")
            buffer += more
        if buffer[end - 1:end] == b"/" or _MAIN_DEFAULT not in buffer[:start]:
            raise NotStreamable("empty <sheetData/> or a prefixed main namespace")
        self.head = buffer[:end + 1]
        self._buffer = buffer[end + 1:]
        self.tail = b""

    def segments(self) -> Iterator[bytes]:
        """The content of ``<sheetData>``, cut after whole rows; then ``tail`` is set."""
        buffer = self._buffer
        self._buffer = b""
        while True:
            close = buffer.find(b"</sheetData>")
            if close >= 0:
                segment, self.tail = buffer[:close], buffer[close:]
                _check_simple(segment)
                if segment:
                    yield segment
                for more in self._chunks:
                    self.tail += more
                return
            cut = buffer.rfind(b"</row>")
            if cut >= 0 and len(buffer) > CHUNK // 2:
                cut += 6
                segment, buffer = buffer[:cut], buffer[cut:]
                _check_simple(segment)
                yield segment
            more = next(self._chunks, None)
            if more is None:
                raise NotStreamable("no </sheetData>")
            buffer += more


def _check_simple(segment: bytes) -> None:
    """Refuse comments, CDATA, doctype parts, processing instructions and namespace
    declarations inside ``<sheetData>`` (``?`` alone is found fast: it is rare in sheets)."""
    if b"<!" in segment or (b"?" in segment and b"<?" in segment) or b"xmlns" in segment:
        raise NotStreamable("markup inside <sheetData> this editor does not follow")


# --------------------------------------------------------------------------- cached values
_T_ATTRS = {t: b' t="' + t + b'"' for t in (b"e", b"str", b"b")}


def _cached_xml(value: object) -> tuple[bytes, bytes]:
    """(the ``t`` attribute, `` t="…"`` or ``b""`` for none; the ``<v>`` element) for a
    formula's cached result."""
    kind = type(value)
    if kind is float:
        if value == value and value not in (math.inf, -math.inf):  # type: ignore[comparison-overlap]
            if value.is_integer() and abs(value) < 1e16:  # type: ignore[attr-defined]
                return b"", b"<v>%d</v>" % value  # type: ignore[str-format]
            return b"", b"<v>%r</v>" % value
        return _T_ATTRS[b"e"], b"<v>#NUM!</v>"
    if kind is str:
        if value in EXCEL_ERROR_CODES:
            return _T_ATTRS[b"e"], b"<v>" + storable_error(value).encode() + b"</v>"  # type: ignore[arg-type]
        return _T_ATTRS[b"str"], b"<v>" + xml_text(escape_text(value)).encode() + b"</v>"  # type: ignore[arg-type]
    if kind is bool:
        return _T_ATTRS[b"b"], b"<v>1</v>" if value else b"<v>0</v>"
    if isinstance(value, KpiError):
        return _T_ATTRS[b"e"], b"<v>" + storable_error(value.code).encode() + b"</v>"
    enc = encode_cached(value)
    if enc is None:
        return b"", b""
    inner = xml_text(enc.text).encode()
    return (b"" if enc.t is None else _T_ATTRS[enc.t.encode()]), b"<v>" + inner + b"</v>"


def xml_text(text: str) -> str:
    """Text content escaped for XML (``\\r`` as a character reference, as lxml writes it)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _with_t(attrs: bytes, t: bytes) -> bytes:
    """A ``<c>`` tag's attribute text with its ``t`` attribute set to ``t`` (removed for
    ``b""``)."""
    found = _T_ATTR_RE.search(attrs)
    if found is None:
        return attrs + t
    return attrs[:found.start()] + t + attrs[found.end():]


def _array_ranges(segment: bytes, into: list[tuple[int, int, int, int]]) -> None:
    """Add the ranges of array formulas whose ``<f>`` is in ``segment``."""
    position = segment.find(b"array")
    while position >= 0:
        f_start = segment.rfind(b"<f", 0, position)
        f_end = segment.find(b">", position)
        c_start = segment.rfind(b"<c ", 0, position)
        if f_start >= 0 and f_end >= 0 and c_start >= 0 and segment.find(b">", f_start,
                                                                          position) < 0:
            attrs = dict(_attrs(segment[f_start + 2:f_end]))
            if attrs.get(b"t") == b"array":
                ref = _REF_RE.search(segment, c_start, segment.find(b">", c_start) + 1)
                if ref is None:
                    raise NotStreamable("an array formula's cell has no reference")
                anchor = ref.group(1).decode()
                into.append(parse_range(attrs.get(b"ref", anchor.encode()).decode() or anchor))
        position = segment.find(b"array", position + 5)


def _attrs(text: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTR_RE.finditer(text)]


def _inside(cell: Cell, ranges: list[tuple[int, int, int, int]]) -> bool:
    row, col = cell
    return any(t <= row <= b and left <= col <= r for t, left, b, r in ranges)


_VALUE_OF = operator.itemgetter(1)


class ByColumn(Protocol):
    """A mapping of cells that also hands out its columns (``(column, {row: value})``), as
    :class:`~kpi_xl.workbook.model.CellColumns` does: filing cells by column is then free."""

    def columns(self) -> Iterable[tuple[int, Mapping[int, object]]]: ...


class _Block(NamedTuple):
    """Rows whose cells to fill are in the same columns: the rows (ascending), the columns
    (ascending) and the values a column at a time (``values[i][k]`` is for ``cols[i]``,
    ``rows[k]``)."""

    rows: list[int]
    cols: list[int]
    values: list[list[object]]


def _blocks(values: Mapping[Cell, object]) -> list[_Block]:
    """The cells of ``values`` as blocks of rows in row order. A recalc fills whole columns,
    so its results are usually one block, filed here without a step per cell."""
    columns = _columns(values)
    layouts: dict[tuple[int, ...], list[int]] = {}
    for col in sorted(columns):
        layouts.setdefault(tuple(columns[col][0]), []).append(col)
    if len(layouts) == 1:
        [(rows, cols)] = layouts.items()
        return [_Block(list(rows), cols, [columns[col][1] for col in cols])] if rows else []
    return _row_blocks(columns)


def _columns(values: Mapping[Cell, object]) -> dict[int, tuple[list[int], list[object]]]:
    """Column → (its rows ascending, their values)."""
    columns: dict[int, tuple[list[int], list[object]]] = {}
    if callable(getattr(values, "columns", None)):
        for col, cells in cast(ByColumn, values).columns():
            columns[col] = (list(cells), list(map(_VALUE_OF, cells.items())))
    else:
        last = None
        for (row, col), value in values.items():
            if col != last:
                found = columns.setdefault(col, ([], []))
                add_row, add_value, last = found[0].append, found[1].append, col
            add_row(row)
            add_value(value)
    for col, (rows, cells) in columns.items():
        if any(map(operator.ge, rows, islice(rows, 1, None))):
            pairs = sorted(zip(rows, cells, strict=True), key=operator.itemgetter(0))
            columns[col] = ([row for row, _ in pairs], [value for _, value in pairs])
    return columns


def _row_blocks(columns: dict[int, tuple[list[int], list[object]]]) -> list[_Block]:
    """:func:`_blocks` for columns that cover different rows: filed row by row."""
    by_row: dict[int, tuple[list[int], list[object]]] = {}
    for col in sorted(columns):
        rows, cells = columns[col]
        for row, value in zip(rows, cells, strict=True):
            found = by_row.setdefault(row, ([], []))
            found[0].append(col)
            found[1].append(value)
    blocks: list[_Block] = []
    for row in sorted(by_row):
        cols, cells = by_row[row]
        if blocks and blocks[-1].cols == cols:
            blocks[-1].rows.append(row)
            for column, value in zip(blocks[-1].values, cells, strict=True):
                column.append(value)
        else:
            blocks.append(_Block([row], cols, [[value] for value in cells]))
    return blocks


class _CellTags(dict[int, bytes]):
    """Column number → the start of its cells' tags (``<c r="AB``)."""

    def __missing__(self, col: int) -> bytes:
        tag = self[col] = b'<c r="' + column_letters(col).encode()
        return tag


_CELL_TAGS = _CellTags()


def _number_texts(numbers: Iterable[float]) -> list[str]:
    """Finite floats as cells store them (``%d`` for whole numbers below 1e16, else ``repr``),
    worked out together: ``repr`` without its ``.0``."""
    texts = list(map(str.removesuffix, map(repr, numbers), repeat(".0")))
    if "-0" in texts:
        texts[texts.index("-0")] = "0"
    return texts


def _wrapped(texts: list[str], before: bytes, after: bytes, *, escape: bool = False) -> list[bytes]:
    """``before + text + after`` for each of ``texts`` (none holding ``\\0`` or ``\\1``; with
    ``escape``, each text :func:`xml_text`-escaped), made with one pass over them all."""
    if not texts:
        return []
    joined = "\0".join(texts)
    if escape:
        joined = xml_text(joined)
    return (before + joined.encode().replace(b"\0", after + b"\1" + before) + after).split(b"\1")


class _ValueXml(dict[object, tuple[bytes, bytes]]):
    """:func:`_cached_xml` of numbers and text, each worked out once (results repeat: tiers,
    grades, zeros). Other values (bools, which equal 0 and 1, errors) are not kept."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[float, bytes] = {}
        """The ``<v>`` elements of finite floats (which get no ``t``)."""

    def __missing__(self, value: object) -> tuple[bytes, bytes]:
        found = _cached_xml(value)
        if value == value:  # not NaN: each NaN is a key of its own
            self[value] = found
        return found

    def one(self, value: object) -> tuple[bytes, bytes]:
        kind = type(value)
        return self[value] if kind is float or kind is str else _cached_xml(value)

    def number_column(self, values: list[float]) -> Iterable[bytes]:
        """The ``<v>`` elements of finite floats, the new ones worked out together."""
        numbers = self.numbers
        new = list(filterfalse(numbers.__contains__, set(values)))
        if new:
            numbers.update(zip(new, _wrapped(_number_texts(new), b"<v>", b"</v>"), strict=True))
        return map(numbers.__getitem__, values)

    def column(self, values: list[object]) -> tuple[Sequence[bytes], Sequence[bytes]]:
        """The ``t`` attributes and the ``<v>`` elements of ``values`` (not empty)."""
        pairs = map(self.__getitem__ if set(map(type, values)) <= {float, str} else
                    _cached_xml, values)
        ts, vs = zip(*pairs, strict=True)
        return ts, vs


_PLAIN_FORMULA_CELL_RE = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,5}")?>'
    rb"(?:<f>[^<]*</f>|<f [^>]*?(?:/>|>[^<]*</f>))()(?:<v>[^<]*</v>)?</c>"
)
"""A formula cell as nearly every one is written: ``r``, maybe ``s``, no ``t``; an ``<f>``,
maybe a ``<v>``, nothing else. Group 1 marks where its ``<v>`` goes."""
_FORMULA_CELL_RE = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,5}")?()( t="[A-Za-z]{1,9}")?'
    rb"(?:/>|>(<f>[^<]*</f>|<f [^>]*?(?:/>|>[^<]*</f>))?()(?:<v>[^<]*</v>)?</c>)"
)
""":data:`_PLAIN_FORMULA_CELL_RE` with a ``t``, and cells of array formulas' ranges (maybe
without ``<f>``, maybe ``<c …/>``). Groups 1 and 4 mark where its ``t`` and its ``<v>`` go
(4 is unset for ``<c …/>``), 2 is its ``t``, 3 its ``<f>``."""

_ANY_CELL = (rb'"(?: s="[0-9]{1,5}")?)((?: t="[A-Za-z]{1,9}")?)'
             rb"(>(?:<f>[^<]*</f>|<f [^>]*?(?:/>|>[^<]*</f>))?(?=(?:<v>[^<]*</v>)?</c>)|/>)"
             rb"((?:<v>[^<]*</v>)?)")
"""A cell of a run after its reference: the shapes :data:`_FORMULA_CELL_RE` takes, as groups
(the tag so far, its ``t``, ``>`` and its ``<f>`` or ``/>``, its ``<v>``)."""
_NUMBER_CELL = (rb'"(?: s="[0-9]{1,5}")?><f(?:>[^<]*</f>| [^>]*?(?:/>|>[^<]*</f>)))'
                rb"((?:<v>[^<]*</v>)?)(?=</c>)")
"""A formula cell of a run getting a number, after its reference: no ``t``, an ``<f>``, maybe
a ``<v>``; as groups (the cell through its ``<f>``, its ``<v>``)."""
_FAST_ROWS = 16
"""Blocks with fewer rows are rewritten cell by cell (a run pattern is not worth compiling)."""


class _Run(NamedTuple):
    """A row's cells to fill, matched at once: the pattern, the pieces a row of them makes
    (the text before them, then the pattern's groups) and, per cell, which pieces are its
    ``t`` attribute (-1: a cell getting a number has none) and its ``<v>``."""

    pattern: re.Pattern[bytes]
    width: int
    slots: list[tuple[int, int]]


@functools.lru_cache(maxsize=64)
def _run_pattern(cols: tuple[int, ...], numbers: tuple[bool, ...]) -> _Run:
    """The cells of ``cols`` in one row, in column order, maybe with other cells of the row
    between them; ``numbers`` tells the cells matched as :data:`_NUMBER_CELL`, the others are
    matched as :data:`_ANY_CELL`. Group 2 is the row number (within group 1)."""
    parts = []
    slots = []
    at = 1
    for index, (col, number) in enumerate(zip(cols, numbers, strict=True)):
        tag = _CELL_TAGS[col]
        if index == 0:
            parts.append(b"(" + tag + rb"(?P<n>[0-9]{1,7})")
            at += 1
        else:
            other_cell = (rb"(?!" + tag + rb'(?P=n)")(?><c r="[A-Z]{1,3}(?P=n)"[^>]*?'
                          rb"(?:/>|>.*?</c>))")
            parts.append(rb"((?:</c>)?(?:" + other_cell + rb")*?" + tag + rb"(?P=n)")
        parts.append(_NUMBER_CELL if number else _ANY_CELL)
        slots.append((-1, at + 1) if number else (at + 1, at + 3))
        at += 2 if number else 4
    return _Run(re.compile(b"".join(parts), re.S), at, slots)


def set_cached(chunks: Iterable[bytes], values: Mapping[Cell, object], sheet: str) -> Deflated:
    """Rewrite a sheet part with the cached results of its formula cells set to ``values``
    (any mapping; one that is also :class:`ByColumn` is filed faster).

    Raises ``KeyError`` for a cell that holds no formula (and is in no array formula's range),
    :class:`NotStreamable` when the tree editor must do it (e.g. a cell to create).
    """
    with gc_paused(), closing_chunks(chunks), DeflateSink() as sink:
        part = Part(chunks)
        sink.write(part.head)
        editor = _CachedValues(values, sheet)
        for segment in part.segments():
            editor.rewrite(segment, sink)
        editor.check_done()
        sink.write(part.tail)
        return sink.close()


class _CachedValues:
    """Sets the cached values of one part's formula cells, block by block, segment by segment.

    The rows of a block that hold its cells the plain way are matched a row at a time
    (:func:`_run_pattern`) and filled a column at a time (:meth:`_fill`); any other row is
    rewritten cell by cell (:meth:`_row`), which also raises for what is wrong with it."""

    def __init__(self, values: Mapping[Cell, object], sheet: str) -> None:
        self.sheet = sheet
        self.blocks = _blocks(values)
        self.block = 0
        """The block being rewritten."""
        self.next = 0
        """Its next row to rewrite (an index into its rows)."""
        self.arrays: list[tuple[int, int, int, int]] = []
        self.xml = _ValueXml()
        self.numbers: dict[int, list[bool]] = {}
        """Per block (by index), whether each of its columns holds finite numbers only."""

    def rewrite(self, segment: bytes, sink: DeflateSink) -> None:
        """Write ``segment`` to ``sink`` with the cells of the rows it holds rewritten."""
        if b"array" in segment:
            _array_ranges(segment, self.arrays)
        out: list[bytes] = []
        position = 0
        while self.block < len(self.blocks):
            block = self.blocks[self.block]
            position = self._block(segment, position, block, out)
            if self.next < len(block.rows):
                break  # in a later segment (or missing: found out at the end)
            self.block += 1
            self.next = 0
        out.append(segment[position:])
        sink.write(b"".join(out))

    def check_done(self) -> None:
        """Raise for the first cell whose row the part does not have."""
        if self.block < len(self.blocks):
            block = self.blocks[self.block]
            raise _missing(self.sheet, block.rows[self.next], block.cols[0], self.arrays)

    def _block(self, segment: bytes, position: int, block: _Block, out: list[bytes]) -> int:
        """Rewrite the rows of ``block`` that ``segment`` holds, from :attr:`next` on, into
        ``out``; returns the position up to which ``segment`` is written."""
        run = self._run(block) if len(block.rows) >= _FAST_ROWS else None
        first_tag = _CELL_TAGS[block.cols[0]]
        find = segment.find
        matched: list[bytes] = []
        first = self.next
        while self.next < len(block.rows):
            row_bytes = b"%d" % block.rows[self.next]
            start = find(b'<row r="' + row_bytes + b'"', position)
            if start < 0:
                break
            found = None
            if run is not None:
                tag_end = find(b">", start)
                end = find(b"</row>", tag_end)
                cells = find(first_tag + row_bytes + b'"', tag_end, end)
                if cells >= 0 and segment[tag_end - 1] != 47:
                    found = run.pattern.match(segment, cells, end)
            if found is None:
                self._fill(matched, run, block, first, self.next - first, out)
                position = self._row(segment, position, start, block, self.next, out)
                matched = []
                first = self.next + 1
            else:
                matched.append(segment[position:cells])
                matched.extend(found.groups())
                position = found.end()
            self.next += 1
        self._fill(matched, run, block, first, self.next - first, out)
        return position

    def _run(self, block: _Block) -> _Run:
        """The :func:`_run_pattern` for ``block``: a cell gets a number the plain way in each
        column that holds finite numbers only and crosses no array formula's range."""
        numbers = self.numbers.get(self.block)
        if numbers is None:
            numbers = self.numbers[self.block] = [
                set(map(type, column)) == {float} and all(map(math.isfinite, column))
                for column in block.values]
        return _run_pattern(tuple(block.cols), tuple(
            number and not any(left <= col <= right for _, left, _, right in self.arrays)
            for col, number in zip(block.cols, numbers, strict=True)))

    def _fill(self, matched: list[bytes], run: _Run | None, block: _Block, first: int,
              count: int, out: list[bytes]) -> None:
        """Put the values of ``count`` rows of ``block`` from ``first`` on into ``matched``
        (per row the text before its cells and the groups of ``run``), then add it to
        ``out``."""
        if not count or run is None:
            return
        width = run.width
        matched[2::width] = [b""] * count  # the row numbers, already in the first tags
        problems: list[tuple[int, int]] = []
        for index, (t_at, v_at) in enumerate(run.slots):
            values = block.values[index][first:first + count]
            if t_at < 0:
                matched[v_at::width] = self.xml.number_column(values)
                continue
            ts, vs = self.xml.column(values)
            matched[t_at::width] = ts
            opened = matched[t_at + 1::width]
            if b">" in opened or b"/>" in opened:
                vs = self._range_cells(matched, t_at + 1, width, opened, vs)
                problems += self._outside(opened, block, first, index)
            matched[v_at::width] = vs
        if problems:
            k, index = min(problems)
            raise _missing(self.sheet, block.rows[first + k], block.cols[index], [])
        out += matched

    def _outside(self, opened: list[bytes], block: _Block, first: int,
                 index: int) -> Iterator[tuple[int, int]]:
        """(row, ``index``) of the cells among ``opened`` (rows of ``block`` from ``first`` on)
        that hold no ``<f>`` and are in no array formula's range."""
        col = block.cols[index]
        top, bottom = block.rows[first], block.rows[first + len(opened) - 1]
        if any(t <= top and bottom <= b and left <= col <= right
               for t, left, b, right in self.arrays):
            return iter(())
        return ((k, index) for k, f in enumerate(opened) if f in (b">", b"/>")
                and not _inside((block.rows[first + k], col), self.arrays))

    @staticmethod
    def _range_cells(matched: list[bytes], at: int, width: int, opened: list[bytes],
                     vs: Sequence[bytes]) -> list[bytes]:
        """Close the ``<c …/>`` cells among ``opened`` (cells of array formulas' ranges, which
        hold no ``<f>``) around their values; the ``<v>`` elements left to write."""
        vs = list(vs)
        for k, opening in enumerate(opened):
            if opening == b"/>":
                v = vs[k]
                matched[at + k * width] = b">" + v + b"</c>" if v else b"/>"
                vs[k] = b""
        return vs

    def _row(self, segment: bytes, position: int, start: int, block: _Block, k: int,
             out: list[bytes]) -> int:
        """Rewrite row ``k`` of ``block`` (its tag at ``start``) cell by cell into ``out``;
        returns the position up to which ``segment`` is written."""
        number, cols = block.rows[k], block.cols
        find, plain, write = segment.find, _PLAIN_FORMULA_CELL_RE.match, out.append
        tag_end = find(b">", start)
        if segment[tag_end - 1] == 47:  # "/": a row without cells
            raise _missing(self.sheet, number, cols[0], self.arrays)
        end = find(b"</row>", tag_end)
        ref_end = b'%d"' % number
        write(segment[position:tag_end + 1])
        position = tag_end + 1
        for col, column in zip(cols, block.values, strict=True):
            c_start = find(_CELL_TAGS[col] + ref_end, position, end)
            if c_start < 0:
                raise _missing(self.sheet, number, col, self.arrays)
            t, v = self.xml.one(column[k])
            cell = None if t else plain(segment, c_start, end)
            if cell is None:
                position = self._cell(segment, position, c_start, end, (number, col), t, v, out)
                continue
            write(segment[position:cell.start(1)])
            write(v)
            position = cell.end() - 4  # at its "</c>"
        write(segment[position:end])
        return end

    def _cell(self, segment: bytes, position: int, c_start: int, end: int, cell: Cell,
              t: bytes, v: bytes, out: list[bytes]) -> int:
        """Rewrite one cell that is not a plain formula cell getting a number; returns the
        position up to which ``segment`` is written."""
        found = _FORMULA_CELL_RE.match(segment, c_start, end)
        if found is None:
            return self._odd_cell(segment, position, c_start, cell, t, v, out)
        if found.start(3) < 0 and not _inside(cell, self.arrays):
            raise _missing(self.sheet, cell[0], cell[1], [])
        write = out.append
        at_t, at_v = found.start(1), found.start(4)
        write(segment[position:at_t])
        write(t)
        if at_v < 0:  # <c …/>
            write(b">" + v + b"</c>" if v else b"/>")
            return found.end()
        write(segment[max(at_t, found.end(2)):at_v])
        write(v)
        return found.end() - 4

    def _odd_cell(self, segment: bytes, position: int, c_start: int, cell: Cell,
                  t: bytes, v: bytes, out: list[bytes]) -> int:
        """:meth:`_cell` for a cell :data:`_FORMULA_CELL_RE` does not match (other attributes,
        other children, another order)."""
        find, write = segment.find, out.append
        number, col = cell
        tag_end = find(b">", c_start)
        if segment[tag_end - 1] == 47:  # "<c …/>": no formula, no value
            if not _inside(cell, self.arrays):
                raise _missing(self.sheet, number, col, [])
            write(segment[position:c_start])
            attrs = _with_t(segment[c_start + 2:tag_end - 1], t)
            write(b"<c" + attrs + (b">" + v + b"</c>" if v else b"/>"))
            return tag_end + 1
        c_end = find(b"</c>", tag_end)
        inner_start = tag_end + 1
        if segment.startswith(b"<f>", inner_start):
            after_f = find(b"</f>", inner_start, c_end) + 4
            if after_f == 3:
                raise NotStreamable("an <f> this editor does not follow")
        elif segment.startswith(b"<f", inner_start):
            f = _F_RE.match(segment, inner_start, c_end)
            if f is None:
                raise NotStreamable("an <f> this editor does not follow")
            after_f = f.end()
        elif _inside(cell, self.arrays):
            after_f = inner_start
        else:
            raise _missing(self.sheet, number, col, [])
        if after_f == c_end:
            rest = after_f
        else:
            old = _VALUE_RE.match(segment, after_f, c_end)
            rest = old.end() if old is not None else after_f
            if rest != c_end and (find(b"<v", rest, c_end) >= 0
                                  or find(b"<is", rest, c_end) >= 0):
                raise NotStreamable("a cell value this editor does not follow")
        write(segment[position:c_start])
        write(b"<c" + _with_t(segment[c_start + 2:tag_end], t) + b">")
        write(segment[inner_start:after_f])
        write(v)
        return rest


def _missing(sheet: str, row: int, col: int, arrays: list) -> Exception:
    if _inside((row, col), arrays):
        return NotStreamable("a cell of an array formula's range to create")
    return KeyError(f"{sheet}!{coordinate(row, col)} is not a formula cell; "
                    "use set_cells for input cells")


# --------------------------------------------------------------------------- replacing rows
def column_styles(head: bytes) -> dict[int, str]:
    """Column number → default style (``<col style>``) from the part's head."""
    styles: dict[int, str] = {}
    for match in _COL_RE.finditer(head):
        attrs = dict(_attrs(match.group(1)))
        style = attrs.get(b"style")
        if style and style != b"0":
            low = int(attrs.get(b"min", b"0"))
            high = min(int(attrs.get(b"max", b"0")), 16384)
            for index in range(low, high + 1):
                styles[index] = style.decode()
    return styles


@dataclass
class _Rows:
    """What the old rows of a part tell a replacement."""

    keep_rows: int
    kept: list[bytes]
    extents: list[tuple[int, int, int]]
    """(row, first column, last column) of kept rows with cells."""
    template: bytes | None
    had_formula: bool


def _scan_rows(part: Part, keep_rows: int, first_row: int) -> _Rows:
    kept: list[bytes] = []
    extents: list[tuple[int, int, int]] = []
    template: bytes | None = None
    fallback: bytes | None = None
    had_formula = False
    shared_kept = False
    previous = 0
    for segment in part.segments():
        position = 0
        while True:
            match = _ROW_TAG_RE.search(segment, position)
            if match is None:
                break
            number_match = _ROW_NUMBER_RE.search(match.group(1))
            if number_match is None:
                raise NotStreamable("a row without r")
            number = int(number_match.group(1))
            if number <= previous:
                raise NotStreamable("rows out of order")
            previous = number
            end = match.end() if match.group(2) else segment.find(b"</row>", match.end()) + 6
            if number <= keep_rows:
                row = segment[match.start():end]
                kept.append(row)
                shared_kept |= b"shared" in row
                extent = _row_extent(row)
                if extent is not None:
                    extents.append((number, *extent))
                position = end
                continue
            if number == keep_rows + 1:
                fallback = segment[match.start():end]
            if number == first_row:
                template = segment[match.start():end]
            if template is not None or number > first_row:
                rest = segment[match.start():]
                had_formula = had_formula or b"<f" in rest
                if shared_kept and b"shared" in rest:
                    raise NotStreamable("a shared formula across kept and removed rows")
                break
            row = segment[match.start():end]
            had_formula = had_formula or b"<f" in row
            if shared_kept and b"shared" in row:
                raise NotStreamable("a shared formula across kept and removed rows")
            position = end
    return _Rows(keep_rows, kept, extents, template if template is not None else fallback,
                 had_formula)


def _row_extent(row: bytes) -> tuple[int, int] | None:
    first = last = None
    for match in _CELL_TAG_RE.finditer(row):
        ref = _REF_RE.search(match.group(1))
        if ref is None:
            raise NotStreamable("a cell without r")
        col = column_index(ref.group(1).decode().rstrip("0123456789$").replace("$", ""))
        first = col if first is None else first
        last = col
    return None if first is None else (first, last)  # type: ignore[return-value]


def _template(row: bytes | None) -> tuple[dict[int, str], bytes]:
    """Cell styles and copied row attributes of the template row."""
    if row is None:
        return {}, b""
    tag = _ROW_TAG_RE.match(row)
    assert tag is not None
    attrs = b"".join(
        b" " + key + b'="' + value.replace(b'"', b"&quot;") + b'"'
        for key, value in _attrs(tag.group(1)) if key not in _ROW_ATTRS_NOT_COPIED)
    styles: dict[int, str] = {}
    for match in _CELL_TAG_RE.finditer(row):
        cell = dict(_attrs(match.group(1)))
        ref = cell.get(b"r")
        style = cell.get(b"s")
        if not ref:
            raise NotStreamable("a cell without r")
        if style:
            col = column_index(ref.decode().rstrip("0123456789$").replace("$", ""))
            styles[col] = style.decode()
    return styles, attrs


def replace_rows(chunks: Iterable[bytes], rows: Iterable[Sequence[object]], *, first_row: int,
                 first_col: int, keep_rows: int,
                 styles: Mapping[int, int | None] | None) -> tuple[Deflated, int, bool]:
    """Rewrite a sheet part with every row below ``keep_rows`` replaced by ``rows``.

    Returns the new part, the last row written and whether a formula was removed or written.
    ``rows`` is read a batch at a time (a lazy sequence of rows stays lazy), once when its first
    and last rows tell the used range (:func:`_edge_extent`), else twice.
    """
    with closing_chunks(chunks):
        part = Part(chunks)
        old = _scan_rows(part, keep_rows, first_row)
    template_styles, row_attrs = _template(old.template)
    col_styles = {**column_styles(part.head), **template_styles}
    for col, style in (styles or {}).items():
        if style is None:
            col_styles.pop(col, None)
        else:
            col_styles[col] = str(style)
    rows = rows if isinstance(rows, Sequence) else list(rows)
    last_row = first_row + len(rows) - 1
    layout = _RowLayout(first_row, first_col, col_styles, row_attrs)
    edge = _edge_extent(rows, first_row, first_col, col_styles)
    written = None if edge is None else _rewrite(part, old, edge, rows, layout, len(rows[0]))
    if written is None:
        written = _rewrite(part, old, _new_extent(rows, first_row, first_col, col_styles), rows,
                           layout, None)
    data, wrote_formula = written
    return data, last_row, old.had_formula or wrote_formula


def _rewrite(part: Part, old: _Rows, extent: list[tuple[int, int, int]],
             rows: Sequence[Sequence[object]], layout: _RowLayout,
             widest: int | None) -> tuple[Deflated, bool] | None:
    """The part with ``rows`` after the rows kept, and whether a formula was written.

    With ``widest``, ``extent`` is :func:`_edge_extent`'s: ``None`` when a row is longer, or
    when a value cannot be written (the caller redoes it the way that finds out first, with
    :func:`_new_extent`, so the same error comes out)."""
    last_row = layout.first_row + len(rows) - 1
    with DeflateSink() as sink:
        sink.write(_set_dimension(part.head, [*old.extents, *extent]))
        for row in old.kept:
            sink.write(row)
        wrote_formula = False
        number = layout.first_row
        for batch in _batches(rows):
            try:
                text, formula = _rows_text(batch, number, layout, widest)
            except (ValueError, TypeError, ArithmeticError):
                if widest is None:
                    raise
                return None
            if text is None:
                return None
            sink.write(text)
            wrote_formula |= formula
            number += len(batch)
        sink.write(_fit_auto_filter(part.tail, old.keep_rows, last_row))
        return sink.close(), wrote_formula


def _rows_text(rows: list[Sequence[object]], first_row: int, layout: _RowLayout,
               widest: int | None) -> tuple[bytes | None, bool]:
    """The ``<row>`` text of a batch of rows (``None`` if one is longer than ``widest``) and
    whether it holds a formula: made a column at a time when the rows are alike, else a cell
    at a time."""
    widths = set(map(len, rows))
    if widest is not None and max(widths) > widest:
        return None, False
    cells = _column_cells(rows, layout) if len(widths) == 1 else None
    if cells is None:
        return _row_by_row(rows, first_row, layout)
    return _joined_rows(cells, first_row, layout.row_attrs), False


def _batches(rows: Sequence[Sequence[object]]) -> Iterator[list[Sequence[object]]]:
    """``rows`` :data:`_ROWS_PER_WRITE` at a time."""
    found = iter(rows)
    while batch := list(islice(found, _ROWS_PER_WRITE)):
        yield batch


def _edge_extent(rows: Sequence[Sequence[object]], first_row: int, first_col: int,
                 col_styles: Mapping[int, str]) -> list[tuple[int, int, int]] | None:
    """:func:`_new_extent` read off the first and the last row, when they settle it and no row
    is longer than the first (which :func:`_rewrite` checks): the first row has a cell in its
    first column, the first or the last row one in that last column, the last row any cell.
    ``None`` when they do not settle it."""
    if not rows or not rows[0]:
        return None
    first, last = rows[0], rows[-1]
    width = len(first)
    right = first_col + width - 1

    def has_cell(row: Sequence[object], offset: int) -> bool:
        return _surely_written(row[offset], first_col + offset in col_styles)

    if not has_cell(first, 0) or not (has_cell(first, width - 1) or (
            len(last) == width and has_cell(last, width - 1))):
        return None
    if not any(has_cell(last, offset) for offset in range(len(last))):
        return None
    return [(first_row, first_col, right), (first_row + len(rows) - 1, first_col, right)]


def _surely_written(value: object, styled: bool) -> bool:
    """Whether :func:`_row_by_row` surely writes a cell for ``value`` (``False`` also when it
    is not sure: a value whose checks may raise is left to :func:`_new_extent`)."""
    if styled or type(value) is str:
        return True
    if type(value) is float:
        return value == value
    return type(value) is Decimal and not value.is_snan() and not value.is_nan()


def _blank_input(value: object) -> bool:
    if value is None:
        return True
    if type(value) is float or type(value) is Decimal:
        return value != value
    if type(value) in (str, int, bool) or isinstance(value, Formula):
        return False
    return encode_input(value) is None


def _new_extent(rows: Sequence[Sequence[object]], first_row: int, first_col: int,
                col_styles: Mapping[int, str]) -> list[tuple[int, int, int]]:
    """(row, first column, last column) of the first and last new rows with cells, and the
    widest columns: enough for the used range."""
    left = right = 0
    top = bottom = 0
    for number, values in enumerate(rows, start=first_row):
        size = len(values)
        i = 0
        while i < size and (first_col + i) not in col_styles and _blank_input(values[i]):
            i += 1
        if i == size:
            continue
        j = size - 1
        while (first_col + j) not in col_styles and _blank_input(values[j]):
            j -= 1
        first, last = first_col + i, first_col + j
        if not top:
            top, left, right = number, first, last
        else:
            left, right = min(left, first), max(right, last)
        bottom = number
    if not top:
        return []
    return [(top, left, right), (bottom, left, right)]


def _set_dimension(head: bytes, extents: list[tuple[int, int, int]]) -> bytes:
    """The head with ``<dimension ref>`` set to the used range."""
    if not extents:
        ref = "A1"
    else:
        top = min(e[0] for e in extents)
        bottom = max(e[0] for e in extents)
        left = min(e[1] for e in extents)
        right = max(e[2] for e in extents)
        first, last = coordinate(top, left), coordinate(bottom, right)
        ref = first if first == last else f"{first}:{last}"
    match = _DIMENSION_RE.search(head)
    if match is None:
        raise NotStreamable("no <dimension>")
    end = match.end()
    return head[:match.end(1)] + b'"' + ref.encode() + b'"' + head[end:]


def _fit_auto_filter(tail: bytes, keep_rows: int, last_row: int) -> bytes:
    match = _AUTO_FILTER_RE.search(tail)
    if match is None:
        return tail
    views = tail.find(b"<customSheetViews")
    if 0 <= views < match.start():
        return tail
    ref = (match.group(2) if match.group(2) is not None else match.group(3)).decode()
    if not ref:
        return tail
    top, left, _, right = parse_range(ref)
    if top > keep_rows:
        return tail
    bottom = max(last_row, top)
    new = f"{coordinate(top, left)}:{coordinate(bottom, right)}".encode()
    return tail[:match.end(1)] + b'"' + new + b'"' + tail[match.end():]


_ROW_MARK = b"\0"
"""Stands for the row number in the cells :func:`_column_cells` makes: no cell text holds it
(:func:`~kpi_xl.workbook.ooxml.escape_text` writes it as ``_x0000_``), so each row's text
gets its number by one ``replace``."""
_ROWS_PER_WRITE = 4096
_PLAIN_KINDS = frozenset({str, float, Decimal, type(None)})
_ESCAPED_RUN_RE = re.compile(r"_x[0-9A-Fa-f]{4}_")
"""A run of text :func:`~kpi_xl.workbook.ooxml.escape_text` escapes."""


class _RowLayout:
    """Where new rows go and how their cells start: the first row and column, the column
    styles, the template row's attributes."""

    def __init__(self, first_row: int, first_col: int, col_styles: Mapping[int, str],
                 row_attrs: bytes) -> None:
        self.first_row = first_row
        self.first_col = first_col
        self.col_styles = col_styles
        self.row_attrs = row_attrs
        self._heads: dict[int, tuple[bytes, bytes]] = {}

    def head(self, offset: int) -> tuple[bytes, bytes]:
        """The start of a cell in column ``first_col + offset`` (``<c r="B\\0" s="5"``, the
        row number as :data:`_ROW_MARK`) and the whole cell of a blank (``b""``: none)."""
        found = self._heads.get(offset)
        if found is None:
            col = self.first_col + offset
            style = self.col_styles.get(col)
            head = _CELL_TAGS[col] + _ROW_MARK + b'"'
            if style is not None:
                head += b' s="' + style.encode() + b'"'
            found = self._heads[offset] = (head, b"" if style is None else head + b"/>")
        return found


def _column_cells(rows: list[Sequence[object]], layout: _RowLayout) -> list[list[bytes]] | None:
    """The text of the cells of ``rows`` (all of one length) a column at a time (``b""`` where
    no cell is written), as :func:`_row_by_row` writes them, each distinct value of a column
    worked out once; the row number is :data:`_ROW_MARK`. ``None`` when the rows hold anything
    but text, numbers and blanks (or an infinite number): :func:`_row_by_row` writes them."""
    cells = []
    for offset, column in enumerate(zip(*rows, strict=True)):
        texts = _cell_texts(column, *layout.head(offset))
        if texts is None:
            return None
        cells.append(texts)
    return cells


def _cell_texts(column: Sequence[object], head: bytes, blank: bytes) -> list[bytes] | None:
    """:func:`_column_cells` of one column whose cells start with ``head`` (``blank`` for
    ``None`` and NaN)."""
    if not set(map(type, column)) <= _PLAIN_KINDS:
        return None
    try:
        texts = dict.fromkeys(column, blank)
    except TypeError:  # a signalling-NaN Decimal: _row_by_row says what is wrong with it
        return None
    words = [value for value in texts if type(value) is str]
    numbers = [value for value in texts if value is not None and type(value) is not str]
    floats = list(map(float, numbers))
    finite = list(map(math.isfinite, floats))
    if not all(finite):
        if any(map(math.isinf, floats)):
            return None
        numbers, floats = list(compress(numbers, finite)), list(compress(floats, finite))
    texts.update(zip(words, _inline_cells(words, head), strict=True))
    texts.update(zip(numbers, _wrapped(_number_texts(floats), head + b"><v>", b"</v></c>"),
                     strict=True))
    return list(map(texts.__getitem__, column))


def _inline_cells(words: list[str], head: bytes) -> list[bytes]:
    """The cells of text values (``head`` and :func:`_inline`), made together when no text
    needs more than ``&<>`` escaped: all printable (no control character, no line break …),
    no ``_xHHHH_`` run, no space at either end (which asks for ``xml:space``)."""
    joined = "".join(words)
    if (joined.isprintable() and ("_x" not in joined or _ESCAPED_RUN_RE.search(joined) is None)
            and list(map(str.strip, words)) == words):
        return _wrapped(words, head + b' t="inlineStr"><is><t>', b"</t></is></c>", escape=True)
    return [head + _inline(word).encode() + b"</c>" for word in words]


def _joined_rows(cells: list[list[bytes]], first_row: int, row_attrs: bytes) -> bytes:
    """The ``<row>`` text of :func:`_column_cells`' cells: each row's text joined, then given
    its number."""
    count = len(cells[0])
    opening = repeat(b'<row r="' + _ROW_MARK + b'"' + row_attrs + b">", count)
    texts = map(b"".join, zip(opening, *cells, repeat(b"</row>", count), strict=True))
    numbers = map(b"%d".__mod__, range(first_row, first_row + count))
    return b"".join(map(bytes.replace, texts, repeat(_ROW_MARK, count), numbers))


_INLINE_CACHE: dict[str, str] = {}


def _inline(text: str) -> str:
    """``t="inlineStr"><is><t>…</t></is>`` for a text input (cached: labels repeat)."""
    found = _INLINE_CACHE.get(text)
    if found is None:
        if len(_INLINE_CACHE) > 200_000:
            _INLINE_CACHE.clear()
        escaped = escape_text(text)
        space = ' xml:space="preserve"' if escaped != escaped.strip() or "\n" in escaped else ""
        found = _INLINE_CACHE[text] = f' t="inlineStr"><is><t{space}>{xml_text(escaped)}</t></is>'
    return found


def _row_by_row(rows: list[Sequence[object]], first_row: int,
                layout: _RowLayout) -> tuple[bytes, bool]:
    """The ``<row>`` text of ``rows`` (any values, any lengths) made a cell at a time, and
    whether it holds a formula.

    A ``Decimal`` is written as the float it rounds to (what Excel would store).
    """
    opens: list[str] = []
    style_attrs: list[str] = []
    attrs = layout.row_attrs.decode()
    wrote_formula = False
    out: list[str] = []
    for number, values in enumerate(rows, start=first_row):
        while len(opens) < len(values):
            col = layout.first_col + len(opens)
            style = layout.col_styles.get(col)
            opens.append(f'<c r="{column_letters(col)}')
            style_attrs.append("" if style is None else f' s="{style}"')
        rs = str(number)
        cells = [f'<row r="{rs}"{attrs}>']
        for offset, value in enumerate(values):
            head, style_attr = opens[offset], style_attrs[offset]
            kind = type(value)
            if kind is Decimal:
                value = float(value)
                kind = float
            if kind is float:
                if value != value:
                    if style_attr:
                        cells.append(f'{head}{rs}"{style_attr}/>')
                    continue
                if value.is_integer() and abs(value) < 1e16:
                    text = str(int(value))
                elif value in (math.inf, -math.inf):
                    raise ValueError("无穷大不能写入单元格 "
                                     "(an infinite number cannot be written to a cell)")
                else:
                    text = repr(value)
                cells.append(f'{head}{rs}"{style_attr}><v>{text}</v></c>')
            elif kind is str:
                cells.append(f'{head}{rs}"{style_attr}{_inline(value)}</c>')
            elif value is None:
                if style_attr:
                    cells.append(f'{head}{rs}"{style_attr}/>')
            elif kind is int:
                cells.append(f'{head}{rs}"{style_attr}><v>{value}</v></c>')
            elif kind is bool:
                cells.append(f'{head}{rs}"{style_attr} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, Formula):
                wrote_formula = True
                t, v = _cached_xml(value.cached)
                cells.append(f'{head}{rs}"{style_attr}{t.decode()}><f>{xml_text(value.body)}</f>'
                             f"{v.decode()}</c>")
            else:
                cells.append(_generic_cell(f"{head}{rs}", style_attr, value))
        cells.append("</row>")
        out.append("".join(cells))
    return "".join(out).encode(), wrote_formula


def _generic_cell(ref_open: str, style_attr: str, value: object) -> str:
    enc = encode_input(value)
    if enc is None:
        return f'{ref_open}"{style_attr}/>' if style_attr else ""
    if enc.inline:
        return f'{ref_open}"{style_attr}{_inline_encoded(enc.text)}</c>'
    t = "" if enc.t is None else f' t="{enc.t}"'
    return f'{ref_open}"{style_attr}{t}><v>{xml_text(enc.text)}</v></c>'


def _inline_encoded(escaped: str) -> str:
    space = ' xml:space="preserve"' if escaped != escaped.strip() or "\n" in escaped else ""
    return f' t="inlineStr"><is><t{space}>{xml_text(escaped)}</t></is>'
