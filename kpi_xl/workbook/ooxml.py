"""Finding one's way in an .xlsx zip: namespaces, relationships, sheet parts, text escapes."""

from __future__ import annotations

import os
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from kpi_xl.core.errors import KpiError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"

REL_OFFICE_DOCUMENT = "/officeDocument"
REL_WORKSHEET = "/worksheet"
REL_SHARED_STRINGS = "/sharedStrings"
REL_CALC_CHAIN = "/calcChain"

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


class WorkbookFormatError(KpiError):
    """The file is not an .xlsx/.xlsm package this module can read or edit."""


LEGACY_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""How an OLE compound file (a legacy .xls, Excel 97–2003) starts."""


def check_workbook_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`WorkbookFormatError`, in words HR can act on, when ``path`` is missing,
    a folder, a legacy .xls or not a zip at all; an .xlsx/.xlsm passes (its parts are read
    later)."""
    path = Path(path)
    if path.is_dir():
        raise WorkbookFormatError(f"{path} 是文件夹, 不是工作簿",
                                  f"{path} is a folder, not a workbook")
    try:
        with path.open("rb") as stream:
            start = stream.read(len(LEGACY_XLS_MAGIC))
    except FileNotFoundError:
        raise WorkbookFormatError(f"找不到工作簿 {path}", f"workbook not found: {path}") from None
    if start.startswith(LEGACY_XLS_MAGIC):
        raise WorkbookFormatError(
            f"{path.name} 是旧版 .xls 文件, 请在 Excel 中另存为 .xlsx 后再用",
            f"{path.name} is a legacy .xls file; save it as .xlsx first")
    if not start.startswith(b"PK"):
        raise not_a_workbook(path.name, ValueError("not a zip file"))


def not_a_workbook(name: str, exc: Exception) -> WorkbookFormatError:
    return WorkbookFormatError(
        f"{name} 不是可读取的 .xlsx/.xlsm 文件",
        f"{name} is not an .xlsx/.xlsm workbook that can be read: {exc}",
    )


def q(tag: str) -> str:
    """Clark name of a SpreadsheetML main-namespace tag: ``q("c")`` → ``{…main}c``."""
    return f"{{{NS_MAIN}}}{tag}"


def xml_parser() -> etree.XMLParser:
    """A parser for package parts: no network, no entity expansion, big text allowed."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class Relationship:
    rid: str
    type: str
    target: str
    """Absolute part name inside the zip (no leading ``/``), or the raw target if external."""
    external: bool = False


_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")


def part_bytes(root: etree._Element, source: bytes) -> bytes:
    """Serialise an edited XML part, keeping the original's XML declaration byte for byte
    (lxml would rewrite it, so an unchanged part would still change on every save)."""
    match = _DECLARATION.match(source)
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return (match.group(0) if match else b"") + body


def rels_path(part: str) -> str:
    """``xl/workbook.xml`` → ``xl/_rels/workbook.xml.rels``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve_target(source_part: str, target: str) -> str:
    """Resolve a relationship target against the part that owns it."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_relationships(zf: zipfile.ZipFile, part: str) -> list[Relationship]:
    """The relationships of ``part`` (``""`` for the package root), in file order."""
    path = "_rels/.rels" if part == "" else rels_path(part)
    try:
        data = zf.read(path)
    except KeyError:
        return []
    root = etree.fromstring(data, xml_parser())
    rels = []
    for el in root.iter(f"{{{NS_PKG_REL}}}Relationship"):
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        rels.append(
            Relationship(
                rid=el.get("Id", ""),
                type=el.get("Type", ""),
                target=target if external else resolve_target(part, target),
                external=external,
            )
        )
    return rels


def workbook_part(zf: zipfile.ZipFile) -> str:
    """The workbook part's name, normally ``xl/workbook.xml``."""
    for rel in read_relationships(zf, ""):
        if rel.type.endswith(REL_OFFICE_DOCUMENT) and not rel.external:
            return rel.target
    return "xl/workbook.xml"


@dataclass(frozen=True)
class SheetRef:
    name: str
    part: str
    """Zip entry of the sheet part, e.g. ``xl/worksheets/sheet1.xml``."""
    local_id: int
    """Position among the workbook's ``<sheet>`` entries (what ``localSheetId`` counts)."""


@dataclass
class PackageMap:
    workbook: str
    sheets: list[SheetRef]
    """Worksheets only (chart sheets and dialog sheets have no cells), in tab order."""
    shared_strings: str | None
    calc_chain: str | None
    workbook_root: etree._Element


def map_package(zf: zipfile.ZipFile) -> PackageMap:
    """Read workbook.xml and its relationships: sheet names → part names in tab order."""
    wb_part = workbook_part(zf)
    root = etree.fromstring(zf.read(wb_part), xml_parser())
    if root.nsmap.get(root.prefix) == NS_STRICT_MAIN:
        raise WorkbookFormatError(
            "不支持 Strict Open XML 格式, 请在 Excel 中另存为普通 .xlsx",
            "Strict Open XML workbooks are not supported; save as a normal .xlsx in Excel",
        )
    rels = {rel.rid: rel for rel in read_relationships(zf, wb_part)}
    sheets = []
    for position, el in enumerate(root.iter(q("sheet"))):
        rel = rels.get(el.get(f"{{{NS_REL}}}id", ""))
        if rel is not None and rel.type.endswith(REL_WORKSHEET) and not rel.external:
            sheets.append(SheetRef(name=el.get("name", ""), part=rel.target, local_id=position))
    by_type = {rel.type.rsplit("/", 1)[-1]: rel.target for rel in rels.values()}
    return PackageMap(
        workbook=wb_part,
        sheets=sheets,
        shared_strings=by_type.get(REL_SHARED_STRINGS[1:]),
        calc_chain=by_type.get(REL_CALC_CHAIN[1:]),
        workbook_root=root,
    )


_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NEEDS_ESCAPE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")


def unescape_text(text: str) -> str:
    """Undo OOXML's ``_xHHHH_`` escapes (``_x000D_`` → carriage return)."""
    if "_x" not in text:
        return text
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


def escape_text(text: str) -> str:
    """Escape characters XML cannot hold (and literal ``_xHHHH_`` runs) the OOXML way."""
    if _NEEDS_ESCAPE_RE.search(text) is None:
        return text

    def repl(match: re.Match[str]) -> str:
        found = match.group(0)
        if len(found) == 1:
            return f"_x{ord(found):04X}_"
        return "_x005F" + found  # keep a literal "_x0041_" literal

    return _NEEDS_ESCAPE_RE.sub(repl, text)
