"""The 刷新工资表 button on every template's 工资 sheet: a named rounded-rectangle shape whose
hyperlink selects the cell the xlwings Lite ``@script(button=...)`` names — both from one
constant — that openpyxl, the workbook reader, the headless refresh and LibreOffice all accept.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.templates import TEMPLATE_DIR, TEMPLATES, build_template, new_month
from kpi_xl.templates.button import ButtonError, add_refresh_button
from kpi_xl.templates.layout import (
    PAY,
    REFRESH_BUTTON,
    REFRESH_BUTTON_CELL,
    REFRESH_BUTTON_LINK,
    REFRESH_BUTTON_SPEC,
)
from kpi_xl.workbook.ooxml import map_package, rels_path
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import read_book
from tests.libreoffice import convert, needs_soffice

ROOT = Path(__file__).resolve().parents[1]
IDS = list(TEMPLATES)
DRAWING = "xl/drawings/drawing2.xml"  # drawing1 holds 概览's charts


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _pay_part(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return next(s.part for s in map_package(zf).sheets if s.name == PAY)


def test_spec_is_built_from_the_shape_constants() -> None:
    assert f"[{REFRESH_BUTTON}]{PAY}!{REFRESH_BUTTON_CELL}" == REFRESH_BUTTON_SPEC
    assert REFRESH_BUTTON_SPEC == "[刷新工资表]工资!H2"  # what docs/INSTALL.md tells users


def test_lite_script_uses_the_shared_constant() -> None:
    """kpi_xl.scripts cannot drift from the builder: its decorator takes the constant."""
    tree = ast.parse((ROOT / "kpi_xl" / "scripts.py").read_text(encoding="utf-8"))
    refresh = next(n for n in ast.walk(tree)
                   if isinstance(n, ast.FunctionDef) and n.name == "refresh_payroll")
    (decorator,) = refresh.decorator_list
    assert isinstance(decorator, ast.Call) and decorator.func.id == "script"
    (keyword,) = decorator.keywords
    assert keyword.arg == "button" and isinstance(keyword.value, ast.Name)
    assert keyword.value.id == "REFRESH_BUTTON_SPEC"


@pytest.mark.parametrize("template_id", IDS)
def test_pay_sheet_has_the_button_shape(template_id: str) -> None:
    data = (TEMPLATE_DIR / f"{template_id}.xlsx").read_bytes()
    parts = _parts(data)
    sheet = _pay_part(data)
    sheet_xml = parts[sheet].decode("utf-8")
    rid = re.search(r'<drawing xmlns:r="[^"]+" r:id="(rId\d+)"/></worksheet>$', sheet_xml)
    assert rid, "the <drawing> element closes the sheet (after headerFooter)"
    sheet_rels = parts[rels_path(sheet)].decode("utf-8")
    assert (f'Id="{rid.group(1)}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/drawing" Target="../drawings/drawing2.xml"') in sheet_rels
    types = parts["[Content_Types].xml"].decode("utf-8")
    assert (f'<Override PartName="/{DRAWING}" ContentType="application/vnd.openxmlformats-'
            'officedocument.drawing+xml"/>') in types

    drawing = parts[DRAWING].decode("utf-8")
    assert drawing.count("<xdr:sp ") == 1 and '<xdr:sp macro="" textlink="">' in drawing
    assert f'name="{REFRESH_BUTTON}"' in drawing and 'prst="roundRect"' in drawing
    assert f"<a:t>{REFRESH_BUTTON}</a:t>" in drawing
    assert "<xdr:from><xdr:col>7</xdr:col>" in drawing  # column H
    assert re.search(r"<xdr:from>.*<xdr:row>1</xdr:row>.*</xdr:from>", drawing)  # row 2
    hlink = re.search(r'<a:hlinkClick xmlns:r="[^"]+" r:id="(rId\d+)"', drawing)
    assert hlink
    drawing_rels = parts[rels_path(DRAWING)].decode("utf-8")
    assert (f'Id="{hlink.group(1)}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/hyperlink" Target="#{REFRESH_BUTTON_LINK}"/>') in drawing_rels
    assert "TargetMode" not in drawing_rels  # a place in this document, not a file


@pytest.mark.parametrize("template_id", IDS[:2])
def test_openpyxl_and_the_reader_still_load_it(template_id: str, tmp_path: Path) -> None:
    path = TEMPLATE_DIR / f"{template_id}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert "刷新按钮位置" in wb[PAY][REFRESH_BUTTON_CELL].value
    assert wb[PAY].row_dimensions[2].height == 30
    assert PAY in read_book(path).sheets


def test_refresh_keeps_the_button(tmp_path: Path) -> None:
    book = new_month("taobao-cs", tmp_path / "m.xlsx", sample=True, agents=6)
    before = _parts(book.read_bytes())
    refresh_file(book)
    after = _parts(book.read_bytes())
    for part in (DRAWING, rels_path(DRAWING), rels_path(_pay_part(book.read_bytes())),
                 "[Content_Types].xml"):
        assert after[part] == before[part], part
    assert re.search(rb'<drawing xmlns:r="[^"]+" r:id="rId1"/>',
                     after[_pay_part(book.read_bytes())])


def test_a_sheet_with_a_drawing_is_refused() -> None:
    parts = _parts(build_template("medal"))
    with pytest.raises(ButtonError, match="already has a drawing"):
        add_refresh_button(parts)


@pytest.mark.libreoffice
@needs_soffice
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_libreoffice_renders_the_button_and_reads_its_link(tmp_path: Path) -> None:
    source = tmp_path / "in" / "taobao-cs.xlsx"
    source.parent.mkdir()
    shutil.copy(TEMPLATE_DIR / "taobao-cs.xlsx", source)
    pdf = convert(source, "pdf", tmp_path, recalc_always=False)[0]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pay_pages = [page for page in text.split("\f") if "工资 —" in page]
    assert pay_pages and REFRESH_BUTTON in pay_pages[0]  # the caption is drawn on 工资
    assert all(REFRESH_BUTTON not in page for page in text.split("\f") if "工资 —" not in page)

    ods = convert(source, "ods", tmp_path, recalc_always=False)[0]
    with zipfile.ZipFile(ods) as zf:
        content = zf.read("content.xml").decode("utf-8")
    shape = re.search(r'<draw:a xlink:href="([^"]+)"[^>]*><draw:custom-shape[^>]*'
                      rf'draw:name="{REFRESH_BUTTON}"', content)
    assert shape and shape.group(1) == f"#{PAY}.{REFRESH_BUTTON_CELL}"  # an internal link
