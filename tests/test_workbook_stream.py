"""The streamed sheet edits and the byte scanner give what the lxml tree paths give."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

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
