"""The xlwings Lite refresh button: ``refresh_payroll`` run through xlwings' own script dispatch
on ``xw.Book(json=payload)``, from the Lite main.py embedded in a new month workbook (the same
text as the generated install/lite/main.py), gives actions that — applied to the workbook —
equal the headless refresh cell by cell; and its ``button`` names the workbook's shape and the
cell the shape's hyperlink selects.

PolyForm Noncommercial: this folder alone runs ``xlwings.server`` (see README, Licences).
"""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest

from kpi_xl.core.errors import KpiError
from kpi_xl.lite import DEFAULT_OUT, read_lite_properties
from kpi_xl.templates import new_month
from kpi_xl.workbook.headless import compute_book
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import read_book
from kpi_xl.xlbook import FORMULAS_NOT_CHECKED
from tests.officejs.conftest import apply_actions

pytestmark = pytest.mark.officejs

MAIN_PY = DEFAULT_OUT / "main.py"


def _payload(path) -> tuple[dict, list[str]]:
    """What the Lite add-in sends: every sheet's values (computed), "" for empty cells."""
    computed = compute_book(path)
    sheets, names = [], []
    for name in computed.book.sheets:
        values = computed.values(name)
        rows = max((r for r, _ in values), default=1)
        cols = max((c for _, c in values), default=1)
        grid = [["" for _ in range(cols)] for _ in range(rows)]
        for (r, c), value in values.items():
            if isinstance(value, KpiError):
                value = value.code
            grid[r - 1][c - 1] = "" if value is None else value
        sheets.append({"name": name, "values": grid, "pictures": [], "tables": []})
        names.append(name)
    payload = {"client": "Office.js", "version": "0.37.8",
               "book": {"name": path.name, "active_sheet_index": 4, "selection": "H2"},
               "names": [], "sheets": sheets}
    return payload, names


def _apply(payload: dict, actions: list[dict]) -> dict[str, dict[tuple[int, int], object]]:
    """The sheets after the add-in applied the actions (1-based cells, blanks dropped)."""
    grids = {sheet["name"]: {(r + 1, c + 1): v for r, row in enumerate(sheet["values"])
                             for c, v in enumerate(row) if v != ""}
             for sheet in payload["sheets"]}
    return apply_actions([sheet["name"] for sheet in payload["sheets"]], grids, actions)


def _button(path) -> tuple[str, str]:
    """The 工资 sheet's button shape in the workbook: (shape name, hyperlink location)."""
    with zipfile.ZipFile(path) as zf:
        drawings = [n for n in zf.namelist() if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        for drawing in drawings:
            xml = zf.read(drawing).decode("utf-8")
            if "<xdr:sp " not in xml:
                continue
            name = re.search(r'<xdr:cNvPr id="\d+" name="([^"]+)"', xml).group(1)
            rels = zf.read(drawing.replace("drawings/", "drawings/_rels/") + ".rels").decode()
            target = re.search(r'Type="[^"]+/hyperlink" Target="#([^"]+)"', rels).group(1)
            return name, target
    raise AssertionError("no button shape")


def test_lite_script_equals_the_headless_refresh(officejs, tmp_path) -> None:
    book = new_month("taobao-cs", tmp_path / "lite.xlsx", sample=True, history_months=3,
                     agents=12)
    headless = tmp_path / "headless.xlsx"
    shutil.copy(book, headless)
    payload, _ = _payload(book)
    embedded = tmp_path / "main.py"  # the code the workbook carries, as Lite would load it
    embedded.write_text(read_lite_properties(book)["main.py"], encoding="utf-8")
    assert embedded.read_text(encoding="utf-8") == MAIN_PY.read_text(encoding="utf-8")

    answer = officejs({"source_path": str(embedded), "script": "refresh_payroll",
                       "payload": payload})
    script = next(s for s in answer["scripts"] if s["function_name"] == "refresh_payroll")
    name, link = _button(book)
    assert script["button"] == f"[{name}]{link}" == "[刷新工资表]工资!H2"
    actions = answer["actions"]
    assert {a["func"] for a in actions} >= {"rangeClearContents", "setValues", "alert"}
    written = {payload["sheets"][a["sheet_position"]]["name"] for a in actions
               if a["func"] == "setValues"}
    assert written == {"工资", "明细", "历史", "概览"}  # 异常 is empty: cleared only
    after = _apply(payload, actions)

    result = refresh_file(headless)
    stored = read_book(headless)
    for sheet in ("工资", "明细", "历史", "异常", "概览"):
        expected = {cell: value for cell, value in stored.sheets[sheet].values.items()
                    if cell[0] >= 5}
        got = {cell: value for cell, value in after[sheet].items() if cell[0] >= 5}
        assert got == expected, sheet
    pay = {cell: v for cell, v in after["工资"].items() if cell[0] >= 5}
    assert len({r for r, _ in pay}) == 12 + 1  # the agents and 合计
    assert pay[(5 + 12, 1)] == "合计"
    assert pay[(5 + 12, result.pay_headers.index("应发工资") + 1)] == float(result.total)
    alert = next(a for a in actions if a["func"] == "alert")
    assert "工资已刷新" in alert["args"][0]
    # Lite reads no formulas: the message says they were not checked (not a silent skip)
    assert alert["args"][0].endswith(FORMULAS_NOT_CHECKED)
