"""The classic add-in install/windows/kpi_xl.xlam: reproducible build, ribbon, VBA, settings."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kpi_xl.addin import build as addin_build  # the module
from kpi_xl.addin.cfb import CompoundFile
from kpi_xl.addin.ovba import VbaProject, compress, decompress

ROOT = Path(__file__).resolve().parents[1]
XLAM = ROOT / "install" / "windows" / "kpi_xl.xlam"
REQS = ROOT / "install" / "windows" / "addin-requirements.txt"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
UI_NS = "{http://schemas.microsoft.com/office/2006/01/customui}"


@pytest.fixture(scope="module")
def built() -> bytes:
    return addin_build.build_bytes()


@pytest.fixture(scope="module")
def parts() -> dict[str, bytes]:
    return addin_build.read_zip(XLAM.read_bytes())


def test_rebuild_is_deterministic(built: bytes) -> None:
    assert addin_build.build_bytes() == built


def test_committed_addin_matches_a_fresh_build(built: bytes) -> None:
    fresh = addin_build.read_zip(built)
    committed = addin_build.read_zip(XLAM.read_bytes())
    hint = "run: python -m kpi_xl.addin build"
    assert list(fresh) == list(committed), f"entry names/order differ; {hint}"
    for name in fresh:
        assert fresh[name] == committed[name], f"{name} differs; {hint}"
    assert REQS.read_text(encoding="utf-8") == addin_build.requirements_text()


def test_zip_entries_have_fixed_timestamps_and_order(parts: dict[str, bytes]) -> None:
    import zipfile

    with zipfile.ZipFile(XLAM) as zf:
        infos = zf.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {addin_build.ZIP_DATE}


def test_ribbon_has_kpi_tab_with_chinese_labels(parts: dict[str, bytes]) -> None:
    ui = ET.fromstring(parts["customUI/customUI.xml"])
    tabs = ui.findall(f".//{UI_NS}tab")
    assert [t.get("label") for t in tabs] == ["KPI"]
    labels = [b.get("label") for b in ui.iter(f"{UI_NS}button")]
    for label in ("刷新工资表", "导入平台数据", "重算", "帮助"):
        assert label in labels


def test_every_button_calls_a_callback_defined_in_the_vba(parts: dict[str, bytes]) -> None:
    project = VbaProject(parts["xl/vbaProject.bin"])
    modules = {m.name: project.module_source(m.name) for m in project.modules()}
    ui = ET.fromstring(parts["customUI/customUI.xml"])
    actions = [b.get("onAction") for b in ui.iter(f"{UI_NS}button")]
    assert len(actions) == len(addin_build.CALLBACKS)
    for action in actions:
        module, _, macro = action.partition(".")
        assert re.search(rf"^Sub {macro}\(control As IRibbonControl\)\r$", modules[module], re.M), (
            action
        )


def test_buttons_run_the_kpi_xl_ribbon_entry_points(parts: dict[str, bytes]) -> None:
    source = VbaProject(parts["xl/vbaProject.bin"]).module_source("RibbonMyAddin")
    calls = dict(re.findall(r"Sub (\w+)\(control As IRibbonControl\)\r\n\s+(.*?)\r\n", source))
    expected = {
        "KpiRefresh": "refresh_active",
        "KpiImport": "import_active",
        "KpiRecalc": "recalc_active",
        "KpiHelp": "show_help",
    }
    for macro, entry in expected.items():
        assert calls[macro] == f'RunPython "import kpi_xl.ribbon; kpi_xl.ribbon.{entry}()"'
    assert calls["KpiImportFunctions"] == "ImportPythonUDFsToAddin"


def test_vba_reads_settings_named_kpi_xl(parts: dict[str, bytes]) -> None:
    project = VbaProject(parts["xl/vbaProject.bin"])
    xlw = project.module_source("xlwings")
    assert 'Public Const PROJECT_NAME As String = "kpi_xl"' in xlw
    assert project.project_version() == 0xFFFF  # no p-code: Excel compiles the source
    assert {m.name: m.offset for m in project.modules()}["RibbonMyAddin"] == 0


def _sheet_cells(parts: dict[str, bytes]) -> dict[str, str]:
    strings = [
        "".join(t.text or "" for t in si.iter(f"{MAIN_NS}t"))
        for si in ET.fromstring(parts["xl/sharedStrings.xml"]).findall(f"{MAIN_NS}si")
    ]
    cells = {}
    for c in ET.fromstring(parts["xl/worksheets/sheet1.xml"]).iter(f"{MAIN_NS}c"):
        v = c.find(f"{MAIN_NS}v")
        if v is not None and c.get("t") == "s":
            cells[c.get("r")] = strings[int(v.text)]
    return cells


def test_settings_sheet_names_the_udf_module_only(parts: dict[str, bytes]) -> None:
    book = ET.fromstring(parts["xl/workbook.xml"])
    names = [s.get("name") for s in book.iter(f"{MAIN_NS}sheet")]
    assert names == ["kpi_xl.conf"]
    cells = _sheet_cells(parts)
    # the VBA reads A1 downwards until the first blank cell
    settings = {}
    row = 1
    while f"A{row}" in cells:
        settings[cells[f"A{row}"].upper()] = cells.get(f"B{row}", "")
        row += 1
    assert settings["UDF MODULES"] == "kpi_xl.udfs"
    assert settings["INTERPRETER_WIN"].endswith(r"\kpi_xl\venv\Scripts\pythonw.exe")
    assert "kpi_xl.scripts" not in " ".join(settings.values())


def test_requirements_pin_the_xlwings_of_the_vba(parts: dict[str, bytes]) -> None:
    xlw = VbaProject(parts["xl/vbaProject.bin"]).module_source("xlwings")
    version = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', xlw).group(1)
    assert f"xlwings=={version}" in REQS.read_text(encoding="utf-8").splitlines()


# -- the storage layers ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_ovba_compression_round_trips(seed: int) -> None:
    rng = random.Random(seed)
    words = ["Sub ", "End Sub", "\r\n", "    ", "RunPython ", '"', "kpi_xl", "x", "é"]
    text = "".join(rng.choice(words) for _ in range(rng.randint(0, 6000))).encode("cp1252")
    noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 9000)))
    for data in (text, noise, b"a" * 10000):
        assert decompress(compress(data)) == data


def test_cfb_rewrite_keeps_every_stream(parts: dict[str, bytes]) -> None:
    cf = CompoundFile.from_bytes(parts["xl/vbaProject.bin"])
    again = CompoundFile.from_bytes(cf.to_bytes())
    assert again.streams() == cf.streams()
    assert [e.path for e in again.entries] == [e.path for e in cf.entries]


def test_olefile_reads_the_written_project(parts: dict[str, bytes]) -> None:
    olefile = pytest.importorskip("olefile")
    ole = olefile.OleFileIO(parts["xl/vbaProject.bin"])
    cf = CompoundFile.from_bytes(parts["xl/vbaProject.bin"])
    for path, data in cf.streams().items():
        assert ole.openstream(path).read() == data
