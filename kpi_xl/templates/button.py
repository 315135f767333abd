"""The 刷新工资表 button on 工资: a shape openpyxl cannot write, added to the saved zip.

xlwings Lite runs a ``@script(button="[name]Sheet!A1")`` when the named cell is selected, and a
shape whose hyperlink points at that cell selects it when clicked (the Lite docs' recipe for a
sheet button). The classic add-in (:mod:`kpi_xl.addin`) watches the same selection. So every
template's 工资 sheet gets one rounded rectangle named and captioned
:data:`~kpi_xl.templates.layout.REFRESH_BUTTON`, covering
:data:`~kpi_xl.templates.layout.REFRESH_BUTTON_CELL` (and the cell to its right), whose
hyperlink is ``#工资!H2`` — all from the constants :mod:`kpi_xl.scripts` uses as well.

What is added (the OOXML a desktop Excel writes for such a shape):

* ``xl/drawings/drawingN.xml``: ``<xdr:twoCellAnchor>`` → ``<xdr:sp macro="" textlink="">``
  with ``<xdr:cNvPr name="刷新工资表"><a:hlinkClick r:id="rId1"/></xdr:cNvPr>``, a
  ``roundRect`` geometry and the caption in ``<xdr:txBody>``;
* ``xl/drawings/_rels/drawingN.xml.rels``: ``rId1`` of type ``…/hyperlink`` with
  ``Target="#工资!H2"`` and no ``TargetMode`` (a location in this document);
* the sheet's ``<drawing r:id="…"/>`` (in schema order) and its relationship in the sheet's
  rels part; a content-type override for the drawing part.

Every other part keeps its bytes. The output is a function of the input only (deterministic).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils import column_index_from_string
from openpyxl.utils.cell import coordinate_from_string

from kpi_xl.templates.layout import (
    PAY,
    REFRESH_BUTTON,
    REFRESH_BUTTON_CELL,
    REFRESH_BUTTON_LINK,
)
from kpi_xl.workbook.ooxml import map_package, rels_path

NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_DRAWING = f"{NS_R}/drawing"
REL_HYPERLINK = f"{NS_R}/hyperlink"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"

BUTTON_ROW_HEIGHT = 30.0
"""Points; the builder gives row 2 of 工资 this height so the button is easy to hit."""
BUTTON_COLUMNS = 2
"""The button spans the link cell and the one to its right (a CJK caption needs the room)."""
BUTTON_FILL = "1F4E78"
BUTTON_TEXT = "FFFFFF"
BUTTON_FONT = "等线"
BUTTON_DESCRIPTION = "点击刷新本月工资 (xlwings Lite 或 kpi_xl 加载项)"

EMU_PER_PX = 9525
MARGIN_PX = 2

# CT_Worksheet children that come after <drawing> (schema order); <drawing> goes before them.
_AFTER_DRAWING = ("legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
                  "controls", "webPublishItems", "tableParts", "extLst")


class ButtonError(ValueError):
    """The workbook is not a template this post-processor can put the button into."""


def _column_px(sheet_xml: str, column: int) -> int:
    """Pixel width of a 1-based column, from ``<cols>`` (Excel's rounding, 7 px per char)."""
    for match in re.finditer(r"<col\b([^>]*)/>", sheet_xml):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if int(attrs.get("min", 0)) <= column <= int(attrs.get("max", 0)) and "width" in attrs:
            width = float(attrs["width"])
            return int(((256 * width + 18) / 256) * 7)
    return 64  # Excel's default column (8.43 characters)


def _row_px(sheet_xml: str, row: int) -> int:
    found = re.search(rf'<row\b[^>]*\br="{row}"[^>]*\bht="([\d.]+)"', sheet_xml)
    default = re.search(r'<sheetFormatPr\b[^>]*\bdefaultRowHeight="([\d.]+)"', sheet_xml)
    points = float(found.group(1)) if found else float(default.group(1) if default else 15)
    return round(points * 96 / 72)


def drawing_xml(sheet_xml: str) -> str:
    """The drawing part: one rounded rectangle over the link cell and the cell to its right."""
    letter, row = coordinate_from_string(REFRESH_BUTTON_CELL)
    col0, row0 = column_index_from_string(letter) - 1, row - 1  # 0-based anchor cells
    last_col = col0 + BUTTON_COLUMNS - 1
    widths = [_column_px(sheet_xml, c + 1) for c in range(last_col + 1)]
    heights = [_row_px(sheet_xml, r + 1) for r in range(row0 + 1)]
    left, top = sum(widths[:col0]), sum(heights[:row0])
    width, height = sum(widths[col0:]), heights[row0]
    emu = EMU_PER_PX
    name = escape(REFRESH_BUTTON, {'"': "&quot;"})
    description = escape(BUTTON_DESCRIPTION, {'"': "&quot;"})
    run_font = f'<a:latin typeface="{BUTTON_FONT}"/><a:ea typeface="{BUTTON_FONT}"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}">'
        "<xdr:twoCellAnchor>"
        f"<xdr:from><xdr:col>{col0}</xdr:col><xdr:colOff>{MARGIN_PX * emu}</xdr:colOff>"
        f"<xdr:row>{row0}</xdr:row><xdr:rowOff>{MARGIN_PX * emu}</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{last_col}</xdr:col>"
        f"<xdr:colOff>{(widths[last_col] - MARGIN_PX) * emu}</xdr:colOff>"
        f"<xdr:row>{row0}</xdr:row><xdr:rowOff>{(height - MARGIN_PX) * emu}</xdr:rowOff>"
        "</xdr:to>"
        '<xdr:sp macro="" textlink="">'
        f'<xdr:nvSpPr><xdr:cNvPr id="2" name="{name}" descr="{description}">'
        f'<a:hlinkClick xmlns:r="{NS_R}" r:id="rId1" tooltip="{name}"/></xdr:cNvPr>'
        "<xdr:cNvSpPr/></xdr:nvSpPr>"
        "<xdr:spPr>"
        f'<a:xfrm><a:off x="{(left + MARGIN_PX) * emu}" y="{(top + MARGIN_PX) * emu}"/>'
        f'<a:ext cx="{(width - 2 * MARGIN_PX) * emu}" cy="{(height - 2 * MARGIN_PX) * emu}"/>'
        "</a:xfrm>"
        '<a:prstGeom prst="roundRect"><a:avLst/></a:prstGeom>'
        f'<a:solidFill><a:srgbClr val="{BUTTON_FILL}"/></a:solidFill>'
        f'<a:ln w="9525"><a:solidFill><a:srgbClr val="{BUTTON_FILL}"/></a:solidFill></a:ln>'
        "</xdr:spPr>"
        "<xdr:txBody>"
        '<a:bodyPr vertOverflow="clip" horzOverflow="clip" wrap="none" rtlCol="0" '
        'anchor="ctr"/><a:lstStyle/>'
        '<a:p><a:pPr algn="ctr"/>'
        '<a:r><a:rPr lang="zh-CN" altLang="en-US" sz="1200" b="1">'
        f'<a:solidFill><a:srgbClr val="{BUTTON_TEXT}"/></a:solidFill>{run_font}</a:rPr>'
        f"<a:t>{escape(REFRESH_BUTTON)}</a:t></a:r></a:p>"
        "</xdr:txBody>"
        "</xdr:sp>"
        "<xdr:clientData/>"
        "</xdr:twoCellAnchor>"
        "</xdr:wsDr>"
    )


def drawing_rels_xml() -> str:
    """The drawing's relationships: the hyperlink to a location in this document."""
    target = escape(f"#{REFRESH_BUTTON_LINK}", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL_HYPERLINK}" Target="{target}"/>'
        "</Relationships>"
    )


def _next_rel_id(rels_xml: str) -> str:
    used = {int(n) for n in re.findall(r'Id="rId(\d+)"', rels_xml)}
    return f"rId{max(used, default=0) + 1}"


def _insert_drawing(sheet_xml: str, rel_id: str) -> str:
    if re.search(r"<drawing\b", sheet_xml):
        raise ButtonError(f"sheet {PAY} already has a drawing")
    element = f'<drawing xmlns:r="{NS_R}" r:id="{rel_id}"/>'
    positions = [m.start() for tag in _AFTER_DRAWING
                 if (m := re.search(rf"<{tag}\b", sheet_xml))]
    at = min(positions, default=sheet_xml.rindex("</worksheet>"))
    return sheet_xml[:at] + element + sheet_xml[at:]


def add_refresh_button(parts: dict[str, bytes]) -> dict[str, bytes]:
    """``parts`` (zip entry → bytes, in order) with the button added to the 工资 sheet."""
    with zipfile.ZipFile(_zip(parts)) as zf:
        package = map_package(zf)
    sheet = next((s for s in package.sheets if s.name == PAY), None)
    if sheet is None:
        raise ButtonError(f"no sheet {PAY}")
    n = 1
    while f"xl/drawings/drawing{n}.xml" in parts:
        n += 1
    drawing = f"xl/drawings/drawing{n}.xml"
    sheet_xml = parts[sheet.part].decode("utf-8")

    sheet_rels = rels_path(sheet.part)
    rels_xml = parts.get(sheet_rels, f'<Relationships xmlns="{NS_PKG_REL}"></Relationships>'
                         .encode()).decode("utf-8")
    rel_id = _next_rel_id(rels_xml)
    relationship = (f'<Relationship Id="{rel_id}" Type="{REL_DRAWING}" '
                    f'Target="../drawings/drawing{n}.xml"/>')
    head, _, tail = rels_xml.rpartition("</Relationships>")

    out = dict(parts)
    out[sheet.part] = _insert_drawing(sheet_xml, rel_id).encode("utf-8")
    out[sheet_rels] = (head + relationship + "</Relationships>" + tail).encode("utf-8")
    out[drawing] = drawing_xml(sheet_xml).encode("utf-8")
    out[rels_path(drawing)] = drawing_rels_xml().encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    override = f'<Override PartName="/{drawing}" ContentType="{CT_DRAWING}"/>'
    head, _, tail = types.rpartition("</Types>")
    out["[Content_Types].xml"] = (head + override + "</Types>" + tail).encode("utf-8")
    return out


def with_refresh_button(data: bytes) -> bytes:
    """A saved workbook (zip bytes) with the button added; entries stored uncompressed (the
    template builder recompresses them with fixed dates)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    return _zip(add_refresh_button(parts)).getvalue()


def _zip(parts: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, body in parts.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), body)
    buffer.seek(0)
    return buffer
