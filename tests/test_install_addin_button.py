"""The classic add-in runs the templates' 刷新工资表 shape: its ThisWorkbook module watches the
selection the shape's hyperlink makes (the cell the Lite ``@script(button=...)`` names) and
runs the ribbon's refresh. Static checks only — running it needs Excel (docs/INSTALL.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpi_xl.addin import build as addin_build
from kpi_xl.addin.ovba import VbaProject
from kpi_xl.templates.layout import PAY, REFRESH_BUTTON, REFRESH_BUTTON_CELL

XLAM = Path(__file__).resolve().parents[1] / "install" / "windows" / "kpi_xl.xlam"


@pytest.fixture(scope="module")
def project() -> VbaProject:
    return VbaProject(addin_build.read_zip(XLAM.read_bytes())["xl/vbaProject.bin"])


def _chrw_text(expression: str) -> str:
    """Evaluate a VBA ``ChrW(n) & ChrW(m) …`` expression."""
    codes = re.findall(r"ChrW\((\d+)\)", expression)
    assert expression.replace(" ", "") == "&".join(f"ChrW({c})" for c in codes)
    return "".join(chr(int(c)) for c in codes)


def test_this_workbook_keeps_its_attributes_and_is_ascii(project: VbaProject) -> None:
    source = project.module_source("ThisWorkbook")
    lines = source.split("\r\n")
    assert lines[0] == 'Attribute VB_Name = "ThisWorkbook"'
    assert 'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"' in lines
    assert source.isascii()  # Chinese names only as ChrW(): safe in any VBA code page
    assert "Private WithEvents App As Application" in lines
    assert re.search(r"Private Sub Workbook_Open\(\)\r\n    ArmRefreshButton\r\nEnd Sub", source)
    assert {m.name: m.offset for m in project.modules()}["ThisWorkbook"] == 0


def test_selection_handler_matches_the_template_button(project: VbaProject) -> None:
    source = project.module_source("ThisWorkbook")
    handler = re.search(r"Private Sub App_SheetSelectionChange\(ByVal Sh As Object, "
                        r"ByVal Target As Range\)\r\n(.*?)\r\nEnd Sub", source, re.S)
    assert handler
    body = handler.group(1)
    assert f'If Target.Address(False, False) <> "{REFRESH_BUTTON_CELL}" Then Exit Sub' in body
    sheet = re.search(r"If Sh\.Name <> (.*?) Then Exit Sub", body)
    shape = re.search(r"If Not HasShape\(Sh, (.*?)\) Then Exit Sub", body)
    assert sheet and _chrw_text(sheet.group(1)) == PAY
    assert shape and _chrw_text(shape.group(1)) == REFRESH_BUTTON
    macro = addin_build.SHEET_BUTTON_MACRO
    assert body.rstrip().endswith(f"RibbonMyAddin.{macro}")
    assert body.index("Target.Offset(1, 0).Select") < body.index(macro)


def test_sheet_button_macro_is_the_ribbon_refresh_without_arguments(project: VbaProject) -> None:
    """Same command as the ribbon's 刷新工资表; parameterless, so a shape can be given it."""
    ribbon = project.module_source("RibbonMyAddin")
    refresh = re.search(r"Sub KpiRefresh\(control As IRibbonControl\)\r\n\s+(.*?)\r\n", ribbon)
    button = re.search(rf"^Sub {addin_build.SHEET_BUTTON_MACRO}\(\)\r\n\s+(.*?)\r\nEnd Sub",
                       ribbon, re.M)
    assert refresh and button and button.group(1) == refresh.group(1)
    assert ribbon.isascii()


def test_import_functions_rearms_the_button(project: VbaProject) -> None:
    ribbon = project.module_source("RibbonMyAddin")
    body = re.search(r"Sub KpiImportFunctions\(control As IRibbonControl\)\r\n(.*?)End Sub",
                     ribbon, re.S)
    assert body and body.group(1).strip().endswith("ThisWorkbook.ArmRefreshButton")
    assert "Public Sub ArmRefreshButton()" in project.module_source("ThisWorkbook")
