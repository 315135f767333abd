"""xlwings Lite: generate main.py / requirements.txt from the package, and embed them in a book.

kpi-xl is not on PyPI, so Lite's Pyodide cannot ``pip install`` it. :func:`main_source`
therefore inlines the package: every ``kpi_xl`` module that :mod:`kpi_xl.udfs` and
:mod:`kpi_xl.scripts` import (transitively) is embedded as source text, served by a
meta-path importer, and main.py re-exports the ``@func`` functions of ``kpi_xl.udfs`` and the
``@script`` functions of ``kpi_xl.scripts`` (Lite looks for both in module ``main``).
:func:`requirements_text` lists what the embedded modules import from outside the standard
library (numpy: a Pyodide package, unpinned) plus xlwings pinned to this version.

``python -m kpi_xl.lite build [--out DIR]`` writes install/lite/main.py and requirements.txt;
:func:`embed_lite` writes both into a workbook as the Lite add-in stores them (see
docs/LITE.md), leaving every other part of the workbook as it was.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
import sys
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from kpi_xl.workbook.atomic import atomic_write, workbook_lock

PACKAGE = "kpi_xl"
PACKAGE_DIR = Path(__file__).resolve().parent
#: Modules whose decorated functions main.py re-exports (missing ones are skipped).
ENTRY_MODULES = ("kpi_xl.udfs", "kpi_xl.scripts")
DEFAULT_OUT = PACKAGE_DIR.parent / "install" / "lite"

#: import name -> requirement line. Pyodide-built packages stay unpinned (their version is
#: the Pyodide distribution's); pure-Python ones could be pinned.
THIRD_PARTY = {
    "numpy": "numpy",
    "openpyxl": "openpyxl",
    "lxml": "lxml",
    "dateutil": "python-dateutil",
}

LITE_ADDIN_ID = "wa200008175"
WE_NS = "http://schemas.microsoft.com/office/webextensions/webextension/2010/11"
WETP_NS = "http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TASKPANES = "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes"
REL_WEBEXTENSION = "http://schemas.microsoft.com/office/2011/relationships/webextension"
CT_TASKPANES = "application/vnd.ms-office.webextensiontaskpanes+xml"
CT_WEBEXTENSION = "application/vnd.ms-office.webextension+xml"


class LiteError(ValueError):
    """The package or the workbook is not in a form the Lite tools can handle."""


# -- which modules to embed ---------------------------------------------------------------
def _module_path(name: str, root: Path) -> Path | None:
    parts = name.split(".")
    base = root.joinpath(*parts[1:]) if len(parts) > 1 else root
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    file = base.with_suffix(".py") if len(parts) > 1 else None
    return file if file is not None and file.is_file() else None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names imported anywhere in a module (``from a import b`` gives a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)
    return names


def collect_modules(
    entries: tuple[str, ...] = ENTRY_MODULES, root: Path = PACKAGE_DIR
) -> tuple[dict[str, tuple[bool, str]], set[str]]:
    """The package modules the entries need, as {name: (is_package, source)}, and the
    top-level names of the third-party modules they import."""
    modules: dict[str, tuple[bool, str]] = {}
    external: set[str] = set()
    todo = [e for e in entries if _module_path(e, root)]
    while todo:
        name = todo.pop()
        if name in modules:
            continue
        path = _module_path(name, root)
        if path is None:
            continue
        is_package = path.name == "__init__.py"
        source = path.read_text(encoding="utf-8")
        modules[name] = (is_package, source)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages
        for imported in _imports(ast.parse(source, str(path)), name, is_package):
            top = imported.split(".")[0]
            if top == PACKAGE:
                if _module_path(imported, root):
                    todo.append(imported)
            elif top and top not in sys.stdlib_module_names and top not in ("xlwings", "pyodide"):
                external.add(top)
    return dict(sorted(modules.items())), external


# -- main.py and requirements.txt -------------------------------------------------------
_LOADER = '''
import importlib.abc
import importlib.util
import sys


class _KpiXlSources(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Serves the embedded kpi_xl modules (Lite has no kpi-xl wheel to install)."""

    kpi_xl_embedded = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _SOURCES:
            return None
        is_package = _SOURCES[fullname][0]
        spec = importlib.util.spec_from_loader(
            fullname, self, origin=_origin(fullname, is_package), is_package=is_package
        )
        spec.has_location = True
        return spec

    def is_package(self, fullname):
        return _SOURCES[fullname][0]

    def get_source(self, fullname):
        return _SOURCES[fullname][1]

    def get_code(self, fullname):
        is_package = _SOURCES[fullname][0]
        return compile(self.get_source(fullname), _origin(fullname, is_package), "exec")

    def get_filename(self, fullname):
        return _origin(fullname, _SOURCES[fullname][0])


def _origin(fullname, is_package):
    tail = "/__init__.py" if is_package else ".py"
    return "<kpi_xl-lite>/" + fullname.replace(".", "/") + tail


def _install():
    # main.py runs again after every edit/restart: replace an older importer and modules
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "kpi_xl_embedded", False)]
    for name in [m for m in sys.modules if m == "kpi_xl" or m.startswith("kpi_xl.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _KpiXlSources())


_install()


def _export(module_name, marker):
    """Copy the module's functions carrying ``marker`` into this module (Lite reads main)."""
    if module_name not in _SOURCES:
        return []
    module = importlib.import_module(module_name)
    names = []
    for name, obj in vars(module).items():
        if hasattr(obj, marker) and not name.startswith("_"):
            globals()[name] = obj
            names.append(name)
    return names


FUNCTIONS = _export("kpi_xl.udfs", "__xlfunc__")
SCRIPTS = _export("kpi_xl.scripts", "__xlscript__")
'''


def _version() -> str:
    init = (PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__\s*=\s*"([^"]+)"', init)
    return found.group(1) if found else "unknown"


def main_source(entries: tuple[str, ...] = ENTRY_MODULES, root: Path = PACKAGE_DIR) -> str:
    """The text of Lite's main.py: the embedded package + the re-exported functions."""
    modules, _ = collect_modules(entries, root)
    if not any(e in modules for e in entries):
        raise LiteError(f"none of {entries} exists under {root}")
    lines = [
        f'"""kpi_xl {_version()} for xlwings Lite.',
        "",
        "GENERATED by `python -m kpi_xl.lite build` from the kpi_xl package: do not edit here,",
        "edit the package and rebuild. The package's modules are embedded below (_SOURCES) and",
        "served by an import hook; the worksheet functions of kpi_xl.udfs and the scripts of",
        "kpi_xl.scripts are re-exported at the end, where xlwings Lite finds them.",
        '"""',
        "",
        "# name -> (is_package, source)",
        "_SOURCES = {",
    ]
    for name, (is_package, source) in modules.items():
        lines.append(f"    {name!r}: ({is_package!r}, {source!r}),")
    lines.append("}")
    return "\n".join(lines) + "\n" + _LOADER


def requirements_text(entries: tuple[str, ...] = ENTRY_MODULES, root: Path = PACKAGE_DIR) -> str:
    """Lite's requirements.txt for the embedded modules."""
    _, external = collect_modules(entries, root)
    unknown = sorted(external - THIRD_PARTY.keys())
    if unknown:
        raise LiteError(f"no requirement known for import(s) {unknown}: add them to THIRD_PARTY")
    import xlwings

    lines = [
        f"# GENERATED by `python -m kpi_xl.lite build` (kpi_xl {_version()}).",
        "# xlwings is pure Python: pinned. numpy is built into Pyodide: not pinned.",
        f"xlwings=={xlwings.__version__}",
        *sorted({THIRD_PARTY[name] for name in external}),
    ]
    return "\n".join(lines) + "\n"


def build(out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write main.py and requirements.txt into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("main.py", main_source()), ("requirements.txt", requirements_text())):
        target = out_dir / name
        target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)
    return written


# -- embedding in a workbook ------------------------------------------------------------
def property_value(text: str) -> str:
    """A Lite property value as stored: the text as a JSON string (XML-escaped on write)."""
    return json.dumps(text, ensure_ascii=False)


def _attr(value: str) -> str:
    """A double-quoted XML attribute (as Excel writes them: ``"`` becomes ``&quot;``)."""
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def read_property(value: str) -> str:
    """Inverse of :func:`property_value` (the XML parser has already unescaped it)."""
    return str(json.loads(value))


def _webextension_xml(properties: dict[str, str]) -> str:
    ext_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "kpi_xl/xlwings-lite")).upper() + "}"
    props = "".join(
        f"<we:property name={_attr(k)} value={_attr(property_value(v))}/>"
        for k, v in properties.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<we:webextension xmlns:we="{WE_NS}" id="{ext_id}">'
        f'<we:reference id="{LITE_ADDIN_ID}" version="1.0.0.0" store="en-US" storeType="OMEX"/>'
        "<we:alternateReferences>"
        f'<we:reference id="{LITE_ADDIN_ID.upper()}" version="1.0.0.0" '
        f'store="{LITE_ADDIN_ID.upper()}" storeType="OMEX"/>'
        "</we:alternateReferences>"
        f"<we:properties>{props}</we:properties>"
        "<we:bindings/>"
        f'<we:snapshot xmlns:r="{R_NS}"/>'
        "</we:webextension>"
    )


def _taskpane_xml(rel_id: str) -> str:
    return (
        '<wetp:taskpane dockstate="right" visibility="1" width="350" row="4">'
        f'<wetp:webextensionref xmlns:r="{R_NS}" r:id="{rel_id}"/>'
        "</wetp:taskpane>"
    )


def _set_properties(xml: bytes, properties: dict[str, str]) -> bytes:
    """Replace or add ``we:property`` elements in an existing webextension part."""
    text = xml.decode("utf-8")
    for name, value in properties.items():
        element = f"<we:property name={_attr(name)} value={_attr(property_value(value))}/>"
        pattern = re.compile(
            r"<we:property\s+name=" + re.escape(_attr(name)) + r"\s+value=\"[^\"]*\"\s*/>"
        )
        if pattern.search(text):
            text = pattern.sub(lambda _m, e=element: e, text, count=1)
        elif "<we:properties/>" in text:
            text = text.replace("<we:properties/>", f"<we:properties>{element}</we:properties>", 1)
        elif "</we:properties>" in text:
            text = text.replace("</we:properties>", element + "</we:properties>", 1)
        else:
            raise LiteError("webextension part has no we:properties element")
    return text.encode("utf-8")


def _next_rel_id(rels_xml: str) -> str:
    used = {int(n) for n in re.findall(r'Id="rId(\d+)"', rels_xml)}
    return f"rId{max(used, default=0) + 1}"


def _add_before(xml: bytes, closing: str, fragment: str) -> bytes:
    text = xml.decode("utf-8")
    if closing not in text:
        raise LiteError(f"no {closing} in part")
    head, _, tail = text.rpartition(closing)
    return (head + fragment + closing + tail).encode("utf-8")


def embed_parts(parts: dict[str, bytes], properties: dict[str, str]) -> dict[str, bytes]:
    """The workbook's parts with ``properties`` written into its xlwings Lite web extension
    (created, with task pane, relationships and content types, when the book has none)."""
    out = dict(parts)
    for name, data in parts.items():
        if re.fullmatch(r"xl/webextensions/webextension\d+\.xml", name) and (
            f'id="{LITE_ADDIN_ID}"'.encode() in data or LITE_ADDIN_ID.upper().encode() in data
        ):
            out[name] = _set_properties(data, properties)
            return out

    n = 1
    while f"xl/webextensions/webextension{n}.xml" in parts:
        n += 1
    ext_part = f"xl/webextensions/webextension{n}.xml"
    out[ext_part] = _webextension_xml(properties).encode("utf-8")

    panes = "xl/webextensions/taskpanes.xml"
    panes_rels = "xl/webextensions/_rels/taskpanes.xml.rels"
    rels_xml = parts.get(panes_rels, f'<Relationships xmlns="{REL_NS}"></Relationships>'.encode())
    rel_id = _next_rel_id(rels_xml.decode("utf-8"))
    rel = f'<Relationship Id="{rel_id}" Type="{REL_WEBEXTENSION}" Target="webextension{n}.xml"/>'
    if panes_rels in parts:
        out[panes_rels] = _add_before(rels_xml, "</Relationships>", rel)
    else:
        out[panes_rels] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{REL_NS}">{rel}</Relationships>'
        ).encode()
    if panes in parts:
        out[panes] = _add_before(parts[panes], "</wetp:taskpanes>", _taskpane_xml(rel_id))
    else:
        out[panes] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<wetp:taskpanes xmlns:wetp="{WETP_NS}">{_taskpane_xml(rel_id)}</wetp:taskpanes>'
        ).encode()
        root_rels = parts["_rels/.rels"]
        root_id = _next_rel_id(root_rels.decode("utf-8"))
        out["_rels/.rels"] = _add_before(
            root_rels,
            "</Relationships>",
            f'<Relationship Id="{root_id}" Type="{REL_TASKPANES}" '
            f'Target="xl/webextensions/taskpanes.xml"/>',
        )

    types = parts["[Content_Types].xml"]
    additions = ""
    for part, content_type in ((panes, CT_TASKPANES), (ext_part, CT_WEBEXTENSION)):
        if f'PartName="/{part}"'.encode() not in types:
            additions += f'<Override PartName="/{part}" ContentType="{content_type}"/>'
    if additions:
        out["[Content_Types].xml"] = _add_before(types, "</Types>", additions)
    return out


def read_lite_properties(path: str | os.PathLike[str]) -> dict[str, str]:
    """The properties (decoded) of a workbook's xlwings Lite web extension."""
    from xml.etree import ElementTree as ET

    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"xl/webextensions/webextension\d+\.xml", name):
                root = ET.fromstring(zf.read(name))
                ref = root.find(f"{{{WE_NS}}}reference")
                if ref is not None and ref.get("id", "").lower() == LITE_ADDIN_ID:
                    return {
                        p.get("name", ""): read_property(p.get("value", '""'))
                        for p in root.iter(f"{{{WE_NS}}}property")
                    }
    raise LiteError(f"{path}: no xlwings Lite web extension")


# -- function names in formulas: classic ``KPI_TIER(`` vs. Office.js ``_xldudf_KPI_TIER(`` --
OFFICE_JS_PREFIX = "_xldudf_"
"""Excel stores a call of an Office.js custom function (xlwings Lite) with this prefix."""

_FORMULA = re.compile(rb"(<(?:\w+:)?f\b[^>]*>)([^<]*)(</(?:\w+:)?f>)")
_LITERAL = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")
_CALL = re.compile(r"(?<![\w.!\]])(" + re.escape(OFFICE_JS_PREFIX) + r")?([A-Za-z_][\w.]*)(?=\()",
                   re.IGNORECASE)
"""A function call's name (``(`` follows), optionally with the Office.js prefix."""


def _function_names() -> frozenset[str]:
    from kpi_xl.functions import FUNCTIONS

    return frozenset(name.upper() for name in FUNCTIONS)


def rewrite_formula(text: str, lite: bool, names: frozenset[str] | None = None) -> str:
    """``text`` (a formula without ``=``) with every call of a kpi_xl function spelled the
    Office.js way (``lite=True``: ``KPI_TIER(`` → ``_xldudf_KPI_TIER(``) or the classic way
    (``lite=False``: the reverse). Text in string literals and quoted sheet names is kept."""
    names = _function_names() if names is None else names

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        if name.upper() not in names:
            return match.group(0)
        return (OFFICE_JS_PREFIX + name) if lite else name

    out, pos = [], 0
    for literal in _LITERAL.finditer(text):
        out.append(_CALL.sub(one, text[pos:literal.start()]))
        out.append(literal.group(0))
        pos = literal.end()
    out.append(_CALL.sub(one, text[pos:]))
    return "".join(out)


def rewrite_sheet_formulas(xml: bytes, lite: bool, names: frozenset[str] | None = None) -> bytes:
    """A worksheet part with :func:`rewrite_formula` applied to every ``<f>`` element; the
    bytes are unchanged outside the formulas that change (returns ``xml`` itself if none).

    Works on the escaped text as stored: ``&quot;``/``&apos;`` are read as the quotes that
    delimit literals (written back as plain quotes, valid in element text); other references
    (``&amp;``, ``&#26159;`` …) hold no ``(`` or name and stay as they are."""
    names = _function_names() if names is None else names
    changed = False

    def one(match: re.Match[bytes]) -> bytes:
        nonlocal changed
        raw = match.group(2).decode("utf-8")
        text = raw.replace("&quot;", '"').replace("&apos;", "'")
        new = rewrite_formula(text, lite, names)
        if new == text:
            return match.group(0)
        changed = True
        return match.group(1) + new.encode("utf-8") + match.group(3)

    result = _FORMULA.sub(one, xml)
    return result if changed else xml


def rewrite_function_names(parts: dict[str, bytes], lite: bool) -> dict[str, bytes]:
    """The workbook's parts with kpi_xl function calls in every worksheet's formulas spelled
    for xlwings Lite (``lite=True``) or for the classic add-in (``lite=False``). Parts without
    such a call keep their bytes."""
    from kpi_xl.workbook.ooxml import map_package

    with zipfile.ZipFile(_zip_of(parts)) as zf:
        sheets = [sheet.part for sheet in map_package(zf).sheets]
    names = _function_names()
    out = dict(parts)
    for part in sheets:
        if part in parts:
            out[part] = rewrite_sheet_formulas(parts[part], lite, names)
    return out


def _zip_of(parts: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    buffer.seek(0)
    return buffer


# -- writing a workbook -------------------------------------------------------------------
def embed_bytes(
    data: bytes,
    main_py: str | None = None,
    requirements: str | None = None,
    lite_names: bool | None = None,
) -> bytes:
    """A workbook (zip bytes) with main.py and requirements.txt (default: generated from this
    package) written into its xlwings Lite web extension; see :func:`embed_lite`."""
    properties = {
        "main.py": main_source() if main_py is None else main_py,
        "requirements.txt": requirements_text() if requirements is None else requirements,
    }
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        parts = {i.filename: zf.read(i) for i in infos}
    new_parts = embed_parts(parts, properties)
    if lite_names is not None:
        new_parts = rewrite_function_names(new_parts, lite=lite_names)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for info in infos:
            out.writestr(info, new_parts[info.filename])
        for name in [n for n in new_parts if n not in parts]:  # in a fixed order
            stamp = infos[0].date_time if infos else (1980, 1, 1, 0, 0, 0)
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = infos[0].external_attr if infos else 0
            entry.create_system = infos[0].create_system if infos else 0
            out.writestr(entry, new_parts[name])
    return buffer.getvalue()


def embed_lite(
    path: str | os.PathLike[str],
    main_py: str | None = None,
    requirements: str | None = None,
    lite_names: bool | None = None,
) -> Path:
    """Write main.py and requirements.txt (default: generated from this package) into the
    workbook at ``path`` for xlwings Lite. Other zip entries keep their content, order,
    timestamps and compression; the file is replaced atomically, the previous one kept as
    ``.bak``, and refused while Excel has it open.

    ``lite_names=True`` also spells every kpi_xl function call in the sheets' formulas the way
    Excel stores Office.js functions (``_xldudf_KPI_TIER(``); ``False`` turns them back into
    the classic ``KPI_TIER(``; ``None`` (default) leaves formulas alone. Only sheet parts
    holding such a call change.
    """
    target = Path(path)
    with workbook_lock(target):
        data = embed_bytes(target.read_bytes(), main_py, requirements, lite_names)
        atomic_write(target, lambda stream: stream.write(data))
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m kpi_xl.lite build [--out DIR]`` | ``embed BOOK.xlsx``."""
    parser = argparse.ArgumentParser(prog="python -m kpi_xl.lite")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="write main.py and requirements.txt")
    p_build.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p_embed = sub.add_parser("embed", help="embed main.py/requirements.txt into a workbook")
    p_embed.add_argument("book", type=Path)
    names = p_embed.add_mutually_exclusive_group()
    names.add_argument("--lite-names", dest="lite_names", action="store_const", const=True,
                       help="spell KPI_ calls in formulas _xldudf_KPI_…( (as Excel stores Lite's)")
    names.add_argument("--classic-names", dest="lite_names", action="store_const", const=False,
                       help="spell _xldudf_KPI_…( calls back as KPI_…(")
    args = parser.parse_args(argv)
    if args.command == "build":
        for written in build(args.out):
            print(written)
    else:
        print(embed_lite(args.book, lite_names=args.lite_names))
    return 0


__all__ = [
    "OFFICE_JS_PREFIX",
    "build",
    "collect_modules",
    "embed_bytes",
    "embed_lite",
    "embed_parts",
    "main_source",
    "read_lite_properties",
    "requirements_text",
    "rewrite_formula",
    "rewrite_function_names",
]

if __name__ == "__main__":
    sys.exit(main())
