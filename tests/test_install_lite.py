"""xlwings Lite: generated main.py / requirements.txt, and embedding them into a workbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kpi_xl import lite

ROOT = Path(__file__).resolve().parents[1]
LITE_DIR = ROOT / "install" / "lite"

# Runs a generated main.py as module "main" with the Office.js decorators (as Lite does).
RUNNER = textwrap.dedent(
    """
    import asyncio, json, sys, types
    sys.path.insert(0, sys.argv[1])
    ffi = types.ModuleType("pyodide.ffi")
    ffi.JsNull = type("JsNull", (), {})
    sys.modules["pyodide"] = types.ModuleType("pyodide")
    sys.modules["pyodide.ffi"] = ffi
    import main
    import kpi_xl
    from xlwings import server
    out = {
        "kpi_xl_file": kpi_xl.__file__,
        "functions": sorted(main.FUNCTIONS),
        "scripts": sorted(main.SCRIPTS),
        "meta": sorted(f["name"] for f in server.custom_functions_meta(main)["functions"]),
    }
    if len(sys.argv) > 2:
        call = json.loads(sys.argv[2])
        call.update(version=server.__version__ if hasattr(server, "__version__") else
                    __import__("xlwings").__version__, client="Office.js", runtime="1.4",
                    caller_address="[Book.xlsx]Sheet1!A1")
        out["result"] = asyncio.run(server.custom_functions_call(call, main))
    exec(compile(open(sys.argv[1] + "/main.py", encoding="utf-8").read(), "main.py", "exec"),
         {"__name__": "main_again"})  # Lite re-runs main.py after edits: must not break
    print(json.dumps(out))
    """
)


def _run_main(folder: Path, call: dict | None = None) -> dict:
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial"}
    args = [sys.executable, "-I", "-c", RUNNER, str(folder)]
    if call is not None:
        args.append(json.dumps(call))
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_committed_lite_files_are_generated_from_the_package() -> None:
    hint = "run: python -m kpi_xl.lite build"
    assert (LITE_DIR / "main.py").read_text(encoding="utf-8") == lite.main_source(), hint
    assert (LITE_DIR / "requirements.txt").read_text(encoding="utf-8") == lite.requirements_text()


def test_main_embeds_exactly_the_needed_modules_verbatim() -> None:
    modules, _ = lite.collect_modules()
    assert "kpi_xl.udfs" in modules and "kpi_xl" in modules
    assert "kpi_xl.cli" not in modules and "kpi_xl.lite" not in modules
    namespace: dict = {}
    source = lite.main_source()
    exec(source[: source.index("\nimport importlib.abc")], namespace)  # just _SOURCES
    embedded = namespace["_SOURCES"]
    assert set(embedded) == set(modules)
    for name, (is_package, text) in embedded.items():
        path = lite._module_path(name, lite.PACKAGE_DIR)
        assert path is not None and path.read_text(encoding="utf-8") == text
        assert is_package == (path.name == "__init__.py")


def test_requirements_pin_xlwings_and_list_imports() -> None:
    import xlwings

    lines = [ln for ln in lite.requirements_text().splitlines() if not ln.startswith("#")]
    assert lines[0] == f"xlwings=={xlwings.__version__}"
    assert "numpy" in lines
    assert "kpi-xl" not in lines and "kpi_xl" not in lines


@pytest.mark.officejs
def test_generated_main_runs_with_officejs_decorators(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(lite.main_source(), encoding="utf-8")
    call = {"func_name": "KPI_TIER", "args": [[[0.47], [0.3]], [["[45%,50%):80; <45%:0"]]]}
    out = _run_main(tmp_path, call)
    assert out["kpi_xl_file"].startswith("<kpi_xl-lite>/")  # not the installed package
    assert "KPI_TIER" in out["functions"] and "KPI_TIER" in out["meta"]
    assert out["meta"] == sorted(out["functions"])  # no namespace prefix on the names
    assert out["result"] == [[80.0], [0.0]]


@pytest.mark.officejs
def test_generator_includes_scripts_and_their_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "kpi_xl"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text('__version__ = "9.9"\n', encoding="utf-8")
    (pkg / "core" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "core" / "helper.py").write_text("def double(x):\n    return 2 * x\n", "utf-8")
    (pkg / "udfs.py").write_text(
        "from xlwings import func\nfrom .core.helper import double\n\n"
        "@func\ndef TWICE(x):\n    return double(x)\n",
        encoding="utf-8",
    )
    (pkg / "scripts.py").write_text(
        "import xlwings as xw\nfrom xlwings import script\nfrom kpi_xl.core import helper\n\n"
        "@script\ndef refresh_payroll_button(book: xw.Book):\n    helper.double(1)\n\n"
        "def not_a_script():\n    pass\n",
        encoding="utf-8",
    )
    (pkg / "unused.py").write_text("import numpy\n", encoding="utf-8")
    modules, external = lite.collect_modules(root=pkg)
    assert set(modules) == {
        "kpi_xl",
        "kpi_xl.core",
        "kpi_xl.core.helper",
        "kpi_xl.udfs",
        "kpi_xl.scripts",
    }
    assert external == set()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "main.py").write_text(lite.main_source(root=pkg), encoding="utf-8")
    out = _run_main(out_dir, {"func_name": "TWICE", "args": [[[21]]]})
    assert out["functions"] == ["TWICE"]
    assert out["scripts"] == ["refresh_payroll_button"]
    assert out["result"] == [[42]]


def test_unknown_third_party_import_is_an_error(tmp_path: Path) -> None:
    pkg = tmp_path / "kpi_xl"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "udfs.py").write_text("import requests\n", encoding="utf-8")
    with pytest.raises(lite.LiteError, match="requests"):
        lite.requirements_text(root=pkg)


# -- embedding ----------------------------------------------------------------------------------
def _book(path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工资表"
    ws["A1"] = "姓名"
    ws["B2"] = '=KPI_TIER(A2, "<45%:0")'
    wb.create_sheet("规则")
    wb.save(path)
    return path


def _entries(path: Path) -> dict[str, tuple[bytes, zipfile.ZipInfo]]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: (zf.read(i), i) for i in zf.infolist()}


CHANGED = {"[Content_Types].xml", "_rels/.rels"}
ADDED = {
    "xl/webextensions/webextension1.xml",
    "xl/webextensions/taskpanes.xml",
    "xl/webextensions/_rels/taskpanes.xml.rels",
}


def test_embed_leaves_other_parts_byte_identical(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    before = _entries(book)
    main_py = 'print("你好 <&> \\"quotes\\"")\n\tx = 1\n'
    lite.embed_lite(book, main_py=main_py, requirements="xlwings==0.37.8\nnumpy\n")
    after = _entries(book)
    assert set(after) == set(before) | ADDED
    assert list(after)[: len(before)] == list(before)  # original order kept
    for name, (data, info) in before.items():
        if name in CHANGED:
            continue
        assert after[name][0] == data, name
        assert after[name][1].date_time == info.date_time
        assert after[name][1].compress_type == info.compress_type
    # the previous file kept as .bak, no temp file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "book.xlsx.bak"]


def test_embedded_properties_round_trip(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    main_py = 'print("你好 <&> \\"quotes\\"")\n\tx = 1\n'
    lite.embed_lite(book, main_py=main_py, requirements="xlwings==0.37.8\n")
    props = lite.read_lite_properties(book)
    assert props == {"main.py": main_py, "requirements.txt": "xlwings==0.37.8\n"}

    parts = {n: d for n, (d, _) in _entries(book).items()}
    ext = parts["xl/webextensions/webextension1.xml"].decode("utf-8")
    assert '<we:reference id="wa200008175"' in ext and 'storeType="OMEX"' in ext
    raw = ext.split('name="main.py" value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("&quot;") and "\n" not in raw  # JSON string, XML-escaped
    for name in ADDED | CHANGED:
        ET.fromstring(parts[name])  # well-formed
    types = parts["[Content_Types].xml"].decode("utf-8")
    assert 'PartName="/xl/webextensions/webextension1.xml"' in types
    assert 'PartName="/xl/webextensions/taskpanes.xml"' in types
    assert "webextensiontaskpanes" in parts["_rels/.rels"].decode("utf-8")
    assert 'Target="webextension1.xml"' in parts[
        "xl/webextensions/_rels/taskpanes.xml.rels"
    ].decode("utf-8")


def test_embed_again_updates_in_place(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    lite.embed_lite(book, main_py="a = 1\n", requirements="numpy\n")
    first = _entries(book)
    lite.embed_lite(book, main_py="a = 2\n", requirements="numpy\n")
    second = _entries(book)
    assert set(second) == set(first)
    changed = {n for n in first if first[n][0] != second[n][0]}
    assert changed == {"xl/webextensions/webextension1.xml"}
    assert lite.read_lite_properties(book)["main.py"] == "a = 2\n"


def test_embed_default_uses_the_generated_files(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    lite.embed_lite(book)
    props = lite.read_lite_properties(book)
    assert props["main.py"] == lite.main_source()
    assert props["requirements.txt"] == lite.requirements_text()
    openpyxl = pytest.importorskip("openpyxl")
    assert openpyxl.load_workbook(book).sheetnames == ["工资表", "规则"]
