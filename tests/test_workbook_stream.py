"""The streamed sheet edits and the byte scanner give what the lxml tree paths give."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kpi_xl.core.errors import KpiError
from kpi_xl.workbook import sheetstream, xlsx_read
from kpi_xl.workbook.ooxml import NS_MAIN
from kpi_xl.workbook.xlsx import Formula, XlsxEditor, read_book
from kpi_xl.workbook.xlsx_read import read_sheet, scan_sheet

from .test_workbook_xlsx import book, edit_everything, template  # noqa: F401

REPO = Path(__file__).resolve().parent.parent


def _canonical_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        out = {}
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith((".xml", ".rels")):
                data = etree.tostring(etree.fromstring(data), method="c14n")
            out[name] = data
        return out


def _tree_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise sheetstream.NotStreamable("forced")

    monkeypatch.setattr(sheetstream, "set_cached", refuse)
    monkeypatch.setattr(sheetstream, "replace_rows", refuse)


def test_streamed_edits_equal_tree_edits(book: Path, tmp_path: Path,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree.xlsm"
    tree.write_bytes(book.read_bytes())
    edit_everything(book)
    with monkeypatch.context() as patch:
        _tree_only(patch)
        edit_everything(tree)
    assert _canonical_parts(book) == _canonical_parts(tree)


def test_streamed_edits_are_idempotent(book: Path) -> None:  # noqa: F811
    def refresh_like() -> None:
        editor = XlsxEditor(book)
        editor.set_cached_values("考核", {(2, 6): 1.5, (3, 6): "文本 <&>\r", (4, 6): True})
        editor.replace_sheet_rows("明细", [["甲", 1.0, None, Formula("=B2*2", 2.0)],
                                          ["  前后空格 ", float("nan"), 0.25, "=1+1"]],
                                  first_row=2)
        editor.save()

    refresh_like()
    first = book.read_bytes()
    refresh_like()
    assert book.read_bytes() == first
    sheet = read_book(book).sheets["明细"]
    assert sheet.values[(3, 1)] == "  前后空格 " and sheet.values[(3, 4)] == "=1+1"
    assert (3, 2) not in sheet.values and sheet.formulas[(2, 4)] == "=B2*2"
    assert read_book(book).sheets["考核"].cached[(3, 6)] == "文本 <&>\r"


def test_streamed_cached_values_refuse_input_cells(book: Path) -> None:  # noqa: F811
    editor = XlsxEditor(book)
    with pytest.raises(KeyError):
        editor.set_cached_values("考核", {(2, 6): 1.0, (2, 2): 1.0})
    editor.set_cached_values("考核", {(2, 6): 4.0})  # the failed call changed nothing
    editor.save()
    assert read_book(book).sheets["考核"].cached[(2, 6)] == 4.0


def _sheet(rows: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{NS_MAIN}">{head}<sheetData>{rows}</sheetData></worksheet>'
            ).encode()


@pytest.mark.parametrize("xml", [
    _sheet('<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="inlineStr"><is><r><t>富</t>'
           '</r><r><t xml:space="preserve"> 文本</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c>'
           '<c r="C1" t="str"><f>A1&amp;"x"</f><v>a_x000D_b&#13;</v></c></row>'
           '<row r="5"><c r="B5" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="C5" t="b"><v>1</v></c>'
           '<c r="E5"><f t="shared" si="3"/><v>7</v></c></row>'
           '<row r="6"><c r="D6"><f t="shared" ref="D6:E6" si="3">$A6+B6</f><v>6</v></c>'
           '<c r="F6" t="n"><v>1e-05</v></c><c r="G6" s="2"/><c r="H6"><v></v></c>'
           '<c r="I6" t="inlineStr"><is><t>&lt;&amp;&gt; &#x41;</t></is></c></row>'
           '<row r="7"><c r="A7"><f t="array" ref="A7:A8">B7:B8*2</f><v>2</v></c></row>'
           '<row r="8"><c r="A8"><v>4</v></c></row>'),
    _sheet('<row r="1"><c r="A1"><v>1</v></c><!-- a comment --></row>'),
    _sheet('<row><c><v>1</v></c><c t="inlineStr"><is><t>x</t></is></c></row>'),
])
def test_scanner_reads_what_the_tree_reads(xml: bytes) -> None:
    strings = ["零", "一"]
    expected = read_sheet(xml, "s", strings)
    try:
        scanned = scan_sheet([xml[:40], xml[40:]], "s", strings)
    except sheetstream.NotStreamable:
        return  # read_book falls back to read_sheet for it
    assert scanned == expected


@pytest.mark.parametrize("last_row", [1, 5, 6, 7, 100])
def test_scanner_and_tree_stop_at_the_same_row(last_row: int) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>'
                   f'x{r}</t></is></c></row>' for r in (1, 5, 6, 8))
    xml = _sheet(rows)
    expected = read_sheet(xml, "s", [], last_row)
    scanned = scan_sheet([xml[:70], xml[70:]], "s", [], last_row)
    assert scanned == expected
    assert max(r for r, _ in scanned.values) == max(r for r in (1, 5, 6, 8) if r <= last_row)
    assert scanned.read_to == (None if last_row >= 8 else last_row)


@pytest.mark.parametrize("path", sorted((REPO / "workbook_templates").glob("*.xlsx"))
                         + sorted((REPO / "tests" / "corpus").glob("*.xlsx")), ids=str)
def test_read_book_scanner_agrees_with_lxml(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        scanned = read_book(path)
    except Exception as exc:  # a corpus file that is not a workbook at all
        with monkeypatch.context() as patch:
            patch.setattr(xlsx_read, "scan_sheet", _refuse_scan)
            with pytest.raises(type(exc)):
                read_book(path)
        return
    monkeypatch.setattr(xlsx_read, "scan_sheet", _refuse_scan)
    assert read_book(path) == scanned


def _refuse_scan(*_args: object) -> None:
    raise sheetstream.NotStreamable("forced")



def test_no_worker_thread_outlives_a_part_given_up_half_way(tmp_path: Path) -> None:
    """A sheet part bigger than a chunk is inflated (and its rewrite deflated) on worker
    threads. When the scanner or the streamed edit gives up on it half way (here an XML comment
    near its end) and the caller keeps the exception (logs it, re-raises it), no worker may be
    left running on the abandoned part."""
    import threading

    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><f>A{r}*2</f></c></row>'
                   for r in range(1, 120_001))
    big = _sheet(rows + '<row r="120001"><c r="A120001"><v>1</v></c><!-- late --></row>')
    assert len(big) > 2 * sheetstream.CHUNK
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("sheet.xml", big)

    def workers() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("kpi-xl-")]

    with zipfile.ZipFile(path) as zf:
        with pytest.raises(sheetstream.NotStreamable) as scanning:
            scan_sheet(sheetstream.member_chunks(zf, "sheet.xml"), "s", [])
        assert workers() == [], scanning.value
        cached = {(r, 2): 2.0 * r for r in range(1, 120_001)}
        with pytest.raises(sheetstream.NotStreamable) as editing:
            sheetstream.set_cached(sheetstream.member_chunks(zf, "sheet.xml"), cached, "s")
        assert workers() == [], editing.value


# ------------------------------------------------------------------- a row or a column at once
def _outcome(edit: Callable[[], object]) -> object:
    """What an edit gives: its bytes, or its error's type and message."""
    try:
        result = edit()
    except Exception as exc:  # compared, not handled
        return type(exc).__name__, str(exc)
    if isinstance(result, tuple):
        return result[0].to_bytes(), *result[1:]
    return result.to_bytes()  # type: ignore[attr-defined]


def _formula_rows(count: int) -> bytes:
    """``count`` rows with inputs in A and C, formulas in B and D, an array formula down E and
    text in F."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>']
    for r in range(2, count + 2):
        e = (f'<c r="E2"><f t="array" ref="E2:E{count + 1}">A2:A{count + 1}*3</f></c>'
             if r == 2 else f'<c r="E{r}" s="4"/>')
        rows.append(f'<row r="{r}" spans="1:6"><c r="A{r}"><v>{r}</v></c>'
                    f'<c r="B{r}" s="3"><f>A{r}*2</f></c><c r="C{r}" s="2"/>'
                    f'<c r="D{r}"><f>B{r}+C{r}</f><v>1</v></c>{e}<c r="F{r}" t="inlineStr">'
                    f"<is><t>x</t></is></c></row>")
    return _sheet("".join(rows))


_ODD_CELLS = {  # name: (a cell as _formula_rows writes it, another way to write it)
    "t": ('<c r="B5" s="3"><f>A5*2</f></c>', '<c r="B5" s="3" t="str"><f>A5</f><v>old</v></c>'),
    "shared": ('<c r="B6" s="3"><f>A6*2</f></c>', '<c r="B6"><f t="shared" si="0"/></c>'),
    "attribute": ('<c r="B9" s="3">', '<c r="B9" s="3" cm="1">'),
    "missing": ('<c r="B12" s="3"><f>A12*2</f></c>', ""),
    "input": ('<c r="B13" s="3"><f>A13*2</f></c>', '<c r="B13" s="3"><v>7</v></c>'),
    "twice": ('<c r="B14" s="3"><f>A14*2</f></c>',
              '<c r="B14"><f>A14</f></c><c r="B14" s="3"><f>A14*2</f></c>'),
    "more": ("<f>B15+C15</f><v>1</v>", "<f>B15+C15</f><extLst/><v>1</v>"),
    "range cell": ('<c r="E16" s="4"/>', '<c r="E16" s="4"><extLst/><v>1</v></c>'),
}


class _Columns(Mapping[tuple[int, int], object]):
    """Cells that also hand out their columns (rows not in order), as a recalc's results do."""

    def __init__(self, cells: dict[tuple[int, int], object]) -> None:
        self._cells = cells

    def columns(self) -> Iterator[tuple[int, Mapping[int, object]]]:
        for col in sorted({col for _, col in self._cells}):
            yield col, {row: value for (row, c), value in reversed(self._cells.items())
                        if c == col}

    def __getitem__(self, cell: tuple[int, int]) -> object:
        return self._cells[cell]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)


@pytest.mark.parametrize("odd", [None, *_ODD_CELLS])
@pytest.mark.parametrize(("chunk", "cols"), [(1 << 22, (2, 4, 5)), (700, (2, 4, 5)),
                                             (1 << 22, (2, 4))])
def test_rows_matched_at_once_are_cached_as_cell_by_cell(
        odd: str | None, chunk: int, cols: tuple[int, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows whose cells are plain are filled a column at a time; each other row (an odd cell, a
    missing one, an input cell where a formula should be) cell by cell, with the same bytes or
    the same error."""
    xml = _formula_rows(40)
    if odd is not None:
        plain, other = _ODD_CELLS[odd]
        xml = xml.replace(plain.encode(), other.encode())
    kinds = [1.5, 0.0, -0.0, 1e16, float("nan"), math.inf, "text <&>", "#N/A", True, None,
             KpiError("错", "error", code="#DIV/0!")]
    values: dict[tuple[int, int], object] = {}
    for col in cols:  # D gets numbers only (finite ones unless E is filled too)
        for r in range(2, 42):
            values[(r, col)] = (kinds[(r * col) % len(kinds)] if col != 4 else
                                math.inf if r == 17 and 5 in cols else -0.0 if r == 3 else r / 8)
    monkeypatch.setattr(sheetstream, "CHUNK", chunk)

    def cached(cells: Mapping[tuple[int, int], object]) -> object:
        return _outcome(lambda: sheetstream.set_cached([xml], cells, "s"))

    fast = cached(values)
    assert cached(_Columns(values)) == fast
    assert cached(dict(sorted(values.items()))) == fast  # row by row
    monkeypatch.setattr(sheetstream, "_FAST_ROWS", 10**9)
    assert cached(values) == fast
    if odd is None:
        again = sheetstream.set_cached([fast], values, "s").to_bytes()  # type: ignore[list-item]
        assert again == fast and b"<v>1.5</v>" in again


def test_a_matched_row_without_its_formula_raises_as_cell_by_cell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    xml = _formula_rows(30).replace(b'ref="E2:E31"', b'ref="E2:E19"')
    values = {(r, 5): 1.0 for r in range(2, 32)}
    fast = _outcome(lambda: sheetstream.set_cached([xml], values, "s"))
    monkeypatch.setattr(sheetstream, "_FAST_ROWS", 10**9)
    assert _outcome(lambda: sheetstream.set_cached([xml], values, "s")) == fast
    assert fast == ("KeyError", "'s!E20 is not a formula cell; use set_cells for input cells'")


_TEXTS = st.text(st.sampled_from("ab中 \t\n\r&<>_x0041\x01\ufffe{}%"), max_size=6)
_VALUES = st.one_of(st.none(), _TEXTS, st.floats(allow_infinity=False),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2))


@given(st.integers(1, 4).flatmap(lambda width: st.lists(
    st.lists(_VALUES, min_size=width, max_size=width), min_size=1, max_size=30)))
@settings(max_examples=150, deadline=None)
def test_rows_made_a_column_at_a_time_equal_cell_by_cell(rows: list[list[object]]) -> None:
    layout = sheetstream._RowLayout(7, 2, {3: "5"}, b' ht="20"')
    cells = sheetstream._column_cells(rows, layout)
    assert cells is not None
    assert sheetstream._joined_rows(cells, 7, layout.row_attrs) == \
        sheetstream._row_by_row(rows, 7, layout)[0]


@pytest.mark.parametrize("rows", [
    [["a", 1.0], ["b", 2.0, "wider"], [None, None]],  # a row longer than the first
    [[None, 1.0], ["b", 2.0]],  # the first row starts blank
    [[None, 1.0], [None, 2.0]],  # the first column blank
    [["a", None], ["b", float("nan")]],  # the last column blank
    [["a", 1.0], [float("nan"), None]],  # the last row blank
    [["a", -0.0], ["b", Decimal("-0")]],
    [["a", 1.0]] * 5000 + [["b", math.inf]],  # an error after a whole batch
    [["a", Decimal("1.5")], ["b", Decimal("sNaN")], ["c", object()]],
    [["a", Formula("=B1*2", 3.0), True, 4]],
])
def test_rows_written_at_once_equal_rows_written_one_by_one(
        rows: list[list[object]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The used range read off the first and last rows, and rows made a column at a time, give
    what working the range out over every row and writing row by row give, errors too."""
    xml = _sheet('<row r="1" ht="30"/><row r="2" ht="20"><c r="A2"/></row>',
                 head='<dimension ref="A1"/>')

    def replaced() -> object:
        return _outcome(lambda: sheetstream.replace_rows(
            [xml], rows, first_row=2, first_col=1, keep_rows=1, styles=None))

    fast = replaced()
    monkeypatch.setattr(sheetstream, "_edge_extent", lambda *_: None)
    monkeypatch.setattr(sheetstream, "_column_cells", lambda *_: None)
    assert replaced() == fast
