"""Build install/windows/kpi_xl.xlam from the output of ``xlwings quickstart --addin --ribbon``.

What the quickstart add-in (xlwings 0.37.x) contains, and what the build changes:

* ``customUI/customUI.xml``: one tab "MyAddin" whose button calls ``RibbonMyAddin.RunMain``.
  Replaced by the 「KPI」 tab (:data:`RIBBON_XML`).
* ``xl/vbaProject.bin`` (VBA source, compiled by Excel on load; see :mod:`kpi_xl.addin.ovba`):

  - module ``RibbonMyAddin``: ``Sub RunMain(control As IRibbonControl)`` running
    ``RunPython "import <book name>;<book name>.main()"``. Replaced by one callback per
    button (:data:`CALLBACKS`), each a fixed ``RunPython`` command.
    Plus ``KpiRefreshSheetButton()`` (no arguments): the same refresh, for the sheet button.
  - module ``ThisWorkbook`` (empty in the quickstart): an application-event handler that runs
    ``KpiRefreshSheetButton`` when the templates' 刷新工资表 shape selects 工资!H2 (its
    hyperlink), the same trigger xlwings Lite uses (:func:`workbook_module_source`).
  - module ``xlwings``: the RunPython/UDF machinery, with ``PROJECT_NAME = "myaddin"``.
    That constant names the settings sheet (``myaddin.conf``) and the settings files
    (``%USERPROFILE%\\.myaddin\\myaddin.conf``; a ``myaddin.conf`` beside the workbook).
    Set to ``kpi_xl``.
* ``xl/workbook.xml`` + ``xl/worksheets/sheet1.xml`` + ``xl/sharedStrings.xml``: the settings
  sheet ``_myaddin.conf`` (inactive, leading underscore) becomes ``kpi_xl.conf`` holding
  :data:`SETTINGS`.

The zip is written deterministically (fixed timestamps, fixed order, fixed compression), so
``python -m kpi_xl.addin build`` twice gives the same bytes.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from kpi_xl.addin.ovba import VbaProject
from kpi_xl.templates.layout import REFRESH_BUTTON, REFRESH_BUTTON_LINK

ADDIN_NAME = "kpi_xl"
PROJECT_NAME = "kpi_xl"
SETTINGS_SHEET = f"{PROJECT_NAME}.conf"
UDF_MODULES = "kpi_xl.udfs"
INTERPRETER_WIN = r"%LOCALAPPDATA%\kpi_xl\venv\Scripts\pythonw.exe"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

#: (key, value) rows of the settings sheet, read by the add-in's VBA ``GetConfig``.
SETTINGS: list[tuple[str, str]] = [
    ("UDF Modules", UDF_MODULES),
    ("Interpreter_Win", INTERPRETER_WIN),
]

#: Notes below a blank row (the VBA reads A1 down to the first blank cell only).
SETTINGS_NOTES: list[str] = [
    "kpi_xl add-in settings. Rows above the first blank row are read by the add-in; a "
    "kpi_xl.conf sheet in a workbook overrides them, %USERPROFILE%\\.kpi_xl\\kpi_xl.conf is "
    "read for keys not listed here.",
    "kpi_xl 加载项设置：空行以上各行由加载项读取；工作簿中的 kpi_xl.conf 工作表优先。"
    "Interpreter_Win 指向 install.bat 创建的 Python 环境。",
]


@dataclass(frozen=True)
class Callback:
    """A ribbon button: its id, label, icon and the VBA macro it calls."""

    button_id: str
    label: str
    image: str
    macro: str
    body: str
    tip: str


def _runpython(entry: str) -> str:
    return f'RunPython "import kpi_xl.ribbon; kpi_xl.ribbon.{entry}()"'


#: The buttons of the 「KPI」 tab, in order. ``macro`` is a Sub in module RibbonMyAddin.
CALLBACKS: list[Callback] = [
    Callback(
        "kpiRefresh",
        "刷新工资表",
        "RefreshAll",
        "KpiRefresh",
        _runpython("refresh_active"),
        "重新计算当前工资表并写回结果",
    ),
    Callback(
        "kpiImport",
        "导入平台数据",
        "ImportExcel",
        "KpiImport",
        _runpython("import_active"),
        "把客服平台导出的数据导入当前工资表",
    ),
    Callback(
        "kpiRecalc",
        "重算",
        "CalculateNow",
        "KpiRecalc",
        _runpython("recalc_active"),
        "用 Python 重新计算当前工作簿中的 KPI 公式",
    ),
    Callback(
        "kpiImportFunctions",
        "导入函数",
        "FunctionWizard",
        "KpiImportFunctions",
        "ImportPythonUDFsToAddin\r\n    ThisWorkbook.Save\r\n    ThisWorkbook.ArmRefreshButton",
        "把 KPI_TIER 等工作表函数导入加载项（首次使用或升级后点一次）",
    ),
    Callback("kpiHelp", "帮助", "Help", "KpiHelp", _runpython("show_help"), "打开使用说明"),
]

RIBBON_MODULE = "RibbonMyAddin"
WORKBOOK_MODULE = "ThisWorkbook"
SHEET_BUTTON_MACRO = "KpiRefreshSheetButton"
"""Parameterless refresh macro: run by the sheet button's handler; assignable to a shape by
name (Assign Macro → ``'kpi_xl.xlam'!KpiRefreshSheetButton``)."""


def _chrw(text: str) -> str:
    """A VBA expression for ``text`` that survives any project code page (``ChrW(…) & …``)."""
    return " & ".join(f"ChrW({ord(ch)})" for ch in text)


def workbook_module_source(header: str) -> str:
    """VBA source of the add-in's ThisWorkbook module: ``header`` (its ``Attribute`` lines, as
    the quickstart add-in has them) plus the 刷新工资表 sheet button.

    The templates' button is a shape whose hyperlink selects :data:`REFRESH_BUTTON_LINK`
    (the cell xlwings Lite's ``@script(button=...)`` watches, kpi_xl.templates.button). The
    classic add-in watches the same selection through application events: when that cell of a
    sheet holding a shape named :data:`REFRESH_BUTTON` becomes the selection, it moves the
    selection one row down (ready for the next click, as Lite does) and runs the ribbon's
    refresh. No macro is assigned to the shape: a shape's macro pointing into another
    workbook is stored as an external link to the add-in file's path on that PC.
    """
    sheet, cell = REFRESH_BUTTON_LINK.split("!")
    lines = [
        *header.rstrip("\r\n").splitlines(),
        "' Generated by kpi_xl.addin.build - do not edit; rebuild with",
        "' python -m kpi_xl.addin build",
        "' The kpi_xl templates' refresh button (a shape on the pay sheet) links to its cell:",
        "' clicking it selects the cell, and this runs the same refresh as the ribbon button.",
        "Option Explicit",
        "",
        "Private WithEvents App As Application",
        "",
        "Private Sub Workbook_Open()",
        "    ArmRefreshButton",
        "End Sub",
        "",
        "' Also called after Import Functions: changing the VBA project resets module variables.",
        "Public Sub ArmRefreshButton()",
        "    Set App = Application",
        "End Sub",
        "",
        "Private Sub App_SheetSelectionChange(ByVal Sh As Object, ByVal Target As Range)",
        f'    If Target.Address(False, False) <> "{cell}" Then Exit Sub',
        f"    If Sh.Name <> {_chrw(sheet)} Then Exit Sub",
        f"    If Not HasShape(Sh, {_chrw(REFRESH_BUTTON)}) Then Exit Sub",
        "    Application.EnableEvents = False",
        "    Target.Offset(1, 0).Select",
        "    Application.EnableEvents = True",
        f"    {RIBBON_MODULE}.{SHEET_BUTTON_MACRO}",
        "End Sub",
        "",
        "Private Function HasShape(ByVal Sh As Object, ByVal ShapeName As String) As Boolean",
        "    Dim Found As Object",
        "    On Error Resume Next",
        "    Set Found = Sh.Shapes(ShapeName)",
        "    HasShape = Not Found Is Nothing",
        "End Function",
    ]
    return "\r\n".join(lines) + "\r\n"


def ribbon_xml() -> str:
    """The customUI part: a 「KPI」 tab with the :data:`CALLBACKS` buttons."""

    def button(cb: Callback, size: str) -> str:
        return (
            f'          <button id="{cb.button_id}" label="{escape(cb.label)}" size="{size}" '
            f'imageMso="{cb.image}" screentip="{escape(cb.label)}" '
            f'supertip="{escape(cb.tip)}" onAction="{RIBBON_MODULE}.{cb.macro}"/>\n'
        )

    payroll = "".join(button(cb, "large") for cb in CALLBACKS[:3])
    setup = "".join(button(cb, "large") for cb in CALLBACKS[3:])
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">\n'
        "  <ribbon>\n"
        "    <tabs>\n"
        '      <tab id="kpiXlTab" label="KPI">\n'
        '        <group id="kpiXlPayroll" label="工资表">\n'
        f"{payroll}"
        "        </group>\n"
        '        <group id="kpiXlSetup" label="设置与帮助">\n'
        f"{setup}"
        "        </group>\n"
        "      </tab>\n"
        "    </tabs>\n"
        "  </ribbon>\n"
        "</customUI>\n"
    )


def ribbon_module_source() -> str:
    """VBA source of module RibbonMyAddin: one ``Sub X(control As IRibbonControl)`` per button."""
    lines = [
        f'Attribute VB_Name = "{RIBBON_MODULE}"',
        "' Generated by kpi_xl.addin.build - do not edit; rebuild with",
        "' python -m kpi_xl.addin build",
        "",
    ]
    for cb in CALLBACKS:
        lines += [
            f"Sub {cb.macro}(control As IRibbonControl)",
            f"    {cb.body}",
            "End Sub",
            "",
        ]
    lines += [
        "' The refresh sheet button (ThisWorkbook's selection handler); without arguments, so",
        "' it can also be assigned to a shape by name (the documented fallback).",
        f"Sub {SHEET_BUTTON_MACRO}()",
        f"    {_runpython('refresh_active')}",
        "End Sub",
        "",
    ]
    return "\r\n".join(lines)


# -- the quickstart ---------------------------------------------------------------------
def quickstart_addin(workdir: Path) -> bytes:
    """Run ``xlwings quickstart <name> --addin --ribbon`` in ``workdir``; the .xlam's bytes."""
    code = "import sys; from xlwings.cli import main; sys.argv[0] = 'xlwings'; main()"
    subprocess.run(
        [sys.executable, "-c", code, "quickstart", ADDIN_NAME, "--addin", "--ribbon"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return (workdir / ADDIN_NAME / f"{ADDIN_NAME}.xlam").read_bytes()


def xlwings_version() -> str:
    """The installed xlwings version (the add-in's VBA must match the venv's xlwings DLL)."""
    import xlwings

    return str(xlwings.__version__)


# -- part rewriting -------------------------------------------------------------------------
def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(
            f"the xlwings quickstart add-in changed: {what}. Inspect it with "
            "`python -m kpi_xl.addin vba <file>` and update kpi_xl/addin/build.py."
        )


def _patch_vba(blob: bytes) -> bytes:
    project = VbaProject(blob)
    _expect(project.project_version() == 0xFFFF, "_VBA_PROJECT carries compiled p-code")
    ribbon = project.module_source(RIBBON_MODULE)
    _expect("Sub RunMain(control As IRibbonControl)" in ribbon, "RunMain callback missing")
    project.set_module_source(RIBBON_MODULE, ribbon_module_source())
    xlw = project.module_source("xlwings")
    const = re.compile(r'Public Const PROJECT_NAME As String = "[^"]*"')
    _expect(len(const.findall(xlw)) == 1, "PROJECT_NAME constant missing")
    xlw = const.sub(f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"', xlw)
    project.set_module_source("xlwings", xlw)
    header = project.module_source(WORKBOOK_MODULE)
    _expect(header.startswith(f'Attribute VB_Name = "{WORKBOOK_MODULE}"')
            and "Sub " not in header, "ThisWorkbook module is not empty")
    project.set_module_source(WORKBOOK_MODULE, workbook_module_source(header))
    return project.to_bytes()


def _cell(ref: str, index: int) -> str:
    return f'<c r="{ref}" s="1" t="s"><v>{index}</v></c>'


def _settings_parts(sheet_xml: str) -> tuple[str, str]:
    """New sheet1.xml and sharedStrings.xml holding :data:`SETTINGS` and the notes."""
    strings: list[str] = []

    def sid(text: str) -> int:
        strings.append(text)
        return len(strings) - 1

    rows = []
    for r, (key, value) in enumerate(SETTINGS, start=1):
        rows.append(
            f'<row r="{r}" spans="1:2">{_cell(f"A{r}", sid(key))}{_cell(f"B{r}", sid(value))}</row>'
        )
    first_note = len(SETTINGS) + 2
    for i, note in enumerate(SETTINGS_NOTES):
        r = first_note + i
        rows.append(f'<row r="{r}" spans="1:1">{_cell(f"A{r}", sid(note))}</row>')
    last = first_note + len(SETTINGS_NOTES) - 1
    sheet_xml, n = re.subn(
        r"<sheetData>.*</sheetData>",
        "<sheetData>" + "".join(rows) + "</sheetData>",
        sheet_xml,
        flags=re.S,
    )
    _expect(n == 1, "settings sheet has no sheetData")
    sheet_xml = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:B{last}"', sheet_xml)
    sheet_xml = sheet_xml.replace('width="9.25"', 'width="48"')
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    )
    return sheet_xml, sst


def transform(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Rewrite the quickstart add-in's parts into the kpi_xl add-in's parts."""
    out = dict(parts)
    ui = parts["customUI/customUI.xml"].decode("utf-8")
    _expect('onAction="RibbonMyAddin.RunMain"' in ui, "ribbon does not call RibbonMyAddin.RunMain")
    out["customUI/customUI.xml"] = ribbon_xml().encode("utf-8")

    out["xl/vbaProject.bin"] = _patch_vba(parts["xl/vbaProject.bin"])

    book = parts["xl/workbook.xml"].decode("utf-8")
    _expect('name="_myaddin.conf"' in book, "settings sheet _myaddin.conf missing")
    out["xl/workbook.xml"] = book.replace(
        'name="_myaddin.conf"', f'name="{SETTINGS_SHEET}"'
    ).encode("utf-8")

    sheet, sst = _settings_parts(parts["xl/worksheets/sheet1.xml"].decode("utf-8"))
    out["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    out["xl/sharedStrings.xml"] = sst.encode("utf-8")

    core = parts["docProps/core.xml"].decode("utf-8")
    core = core.replace("<dc:title />", "<dc:title>kpi_xl</dc:title>")
    out["docProps/core.xml"] = core.encode("utf-8")
    return out


def write_zip(parts: dict[str, bytes]) -> bytes:
    """A deterministic zip: [Content_Types].xml first, then sorted names, fixed timestamps."""
    names = sorted(parts, key=lambda n: (n != "[Content_Types].xml", n))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, parts[name], compresslevel=6)
    return buffer.getvalue()


def read_zip(blob: bytes) -> dict[str, bytes]:
    """Every entry of a zip, by name, in archive order."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def build_bytes() -> bytes:
    """The kpi_xl.xlam bytes, built from a fresh xlwings quickstart."""
    with tempfile.TemporaryDirectory(prefix="kpi_xl_addin_") as tmp:
        source = quickstart_addin(Path(tmp))
    return write_zip(transform(read_zip(source)))


def requirements_text() -> str:
    """Pins the installer applies: the add-in's VBA loads ``xlwings64-<version>.dll``."""
    return (
        "# Generated by `python -m kpi_xl.addin build`: kpi_xl.xlam was built from the\n"
        "# xlwings quickstart add-in of this version; its VBA loads xlwings64-<version>.dll\n"
        "# from the venv, so the venv must hold exactly this xlwings.\n"
        f"xlwings=={xlwings_version()}\n"
    )


def build(out_dir: Path) -> list[Path]:
    """Write kpi_xl.xlam and addin-requirements.txt into ``out_dir`` (atomic replace)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        (f"{ADDIN_NAME}.xlam", build_bytes()),
        ("addin-requirements.txt", requirements_text().encode("utf-8")),
    ):
        target = out_dir / name
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(target)
    return written
