"""Month workbooks carry the Lite code; formulas can be spelled for Lite (``_xldudf_KPI_…``) or
classic (``KPI_…``) at zip level, and the headless recalc computes either spelling."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from kpi_xl import lite
from kpi_xl.functions import FUNCTIONS
from kpi_xl.recalc.registry import Registry
from kpi_xl.templates import TEMPLATE_DIR, new_month
from kpi_xl.workbook.headless import compute_book

ROOT = Path(__file__).resolve().parents[1]
LITE_DIR = ROOT / "install" / "lite"
WEBEXTENSION = "xl/webextensions/webextension1.xml"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("month")
    return new_month("taobao-cs", folder / "2026-11.xlsx", sample=True, agents=8)


# -- kpi-xl new embeds the current code -------------------------------------------------------
def test_new_month_carries_the_generated_lite_files(month: Path) -> None:
    parts = _parts(month)
    assert WEBEXTENSION in parts
    properties = lite.read_lite_properties(month)
    assert properties["main.py"] == (LITE_DIR / "main.py").read_text(encoding="utf-8")
    assert properties["requirements.txt"] == (LITE_DIR / "requirements.txt").read_text(
        encoding="utf-8")
    with zipfile.ZipFile(month) as zf:  # fixed entry dates for the added parts too
        assert {info.date_time for info in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_new_month_is_reproducible_and_can_skip_the_code(tmp_path: Path, month: Path) -> None:
    again = new_month("taobao-cs", tmp_path / "again.xlsx", sample=True, agents=8)
    assert again.read_bytes() == month.read_bytes()
    plain = new_month("taobao-cs", tmp_path / "plain.xlsx", sample=True, agents=8, lite=False)
    assert not any(name.startswith("xl/webextensions/") for name in _parts(plain))


def test_committed_templates_carry_no_code() -> None:
    """Templates stay independent of the package code (a code change does not touch them)."""
    for path in TEMPLATE_DIR.glob("*.xlsx"):
        assert not any(n.startswith("xl/webextensions/") for n in _parts(path)), path.name


# -- formula names ----------------------------------------------------------------------------
@pytest.mark.parametrize(("classic", "office_js"), [
    ('KPI_TIER(C5,规则!$C$5)', '_xldudf_KPI_TIER(C5,规则!$C$5)'),
    ('IF($A5="","",KPI_SCORE(M5:T5,规则!$D$5:$D$12))',
     'IF($A5="","",_xldudf_KPI_SCORE(M5:T5,规则!$D$5:$D$12))'),
    ('KPI_EXPLAIN(A1,"KPI_TIER(x) stays")&\'KPI_POOL(\'!A1',
     '_xldudf_KPI_EXPLAIN(A1,"KPI_TIER(x) stays")&\'KPI_POOL(\'!A1'),
    ("ROUND(KPI_PAY(\"80/20\",B2,KPI_GRADE(C2,D2)),2)+MY_KPI_TIER(1)",
     "ROUND(_xldudf_KPI_PAY(\"80/20\",B2,_xldudf_KPI_GRADE(C2,D2)),2)+MY_KPI_TIER(1)"),
    ("SUM(A1:A3)+KPI_UNKNOWN(1)", "SUM(A1:A3)+KPI_UNKNOWN(1)"),
])
def test_rewrite_formula_both_ways(classic: str, office_js: str) -> None:
    assert lite.rewrite_formula(classic, lite=True) == office_js
    assert lite.rewrite_formula(office_js, lite=False) == classic
    assert lite.rewrite_formula(office_js, lite=True) == office_js  # idempotent


def test_sheet_part_keeps_escapes_outside_changed_calls() -> None:
    xml = (b'<c r="A1"><f>KPI_TIER(B1,&quot;&lt;45%:0&quot;)&amp;"&#24037;"</f><v>0</v></c>'
           b'<c r="A2"><f>SUM(B1:B2)</f></c>')
    out = lite.rewrite_sheet_formulas(xml, lite=True)
    assert out == (b'<c r="A1"><f>_xldudf_KPI_TIER(B1,"&lt;45%:0")&amp;"&#24037;"</f><v>0</v>'
                   b'</c><c r="A2"><f>SUM(B1:B2)</f></c>')
    untouched = b'<c r="A2"><f>SUM(B1:B2)</f></c>'
    assert lite.rewrite_sheet_formulas(untouched, lite=True) is untouched


def test_lite_names_change_only_the_sheets_with_calls(tmp_path: Path, month: Path) -> None:
    book = tmp_path / "lite-names.xlsx"
    book.write_bytes(month.read_bytes())
    before = _parts(book)
    lite.embed_lite(book, lite_names=True)
    after = _parts(book)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"xl/worksheets/sheet4.xml"}  # 考核 holds every KPI_ formula
    sheet = after["xl/worksheets/sheet4.xml"].decode("utf-8")
    formulas = re.findall(r"<f\b[^>]*>([^<]*)</f>", sheet)
    names = "|".join(FUNCTIONS)
    assert any("_xldudf_KPI_" in f for f in formulas)
    assert not any(re.search(rf"(?<![\w.])({names})\(", f) for f in formulas)

    lite.embed_lite(book, lite_names=False)
    assert _parts(book) == before  # back to the classic spelling, byte for byte


def test_recalc_computes_both_spellings_alike(tmp_path: Path, month: Path) -> None:
    book = tmp_path / "lite-names.xlsx"
    book.write_bytes(month.read_bytes())
    lite.embed_lite(book, lite_names=True)
    classic, office_js = compute_book(month), compute_book(book)
    assert not office_js.result.not_computable and not office_js.result.problems
    for sheet in classic.book.sheets:
        assert office_js.values(sheet) == classic.values(sheet), sheet
    pay = office_js.values("考核")
    assert any(isinstance(v, float) and v > 0 for v in pay.values())


def test_registry_resolves_the_office_js_prefix() -> None:
    registry = Registry({"KPI_TIER": lambda *a: 1}, set())
    for name in ("KPI_TIER", "_XLDUDF_KPI_TIER", "_xldudf_KPI_TIER", "XLWINGS.KPI_TIER"):
        assert registry.resolve(name) == "KPI_TIER", name
    for name in ("_XLDUDF_SUM", "KPI_NOPE", "_XLDUDF_"):
        assert registry.resolve(name) is None, name


def test_embed_command_line_takes_the_name_flags(tmp_path: Path, month: Path) -> None:
    book = tmp_path / "cli.xlsx"
    book.write_bytes(month.read_bytes())
    assert lite.main(["embed", str(book), "--lite-names"]) == 0
    assert b"_xldudf_KPI_TIER(" in _parts(book)["xl/worksheets/sheet4.xml"]
    assert lite.main(["embed", str(book), "--classic-names"]) == 0
    assert b"_xldudf_" not in _parts(book)["xl/worksheets/sheet4.xml"]


def test_embed_bytes_is_embed_lite_in_memory(tmp_path: Path, month: Path) -> None:
    data = lite.embed_bytes(month.read_bytes(), main_py="x = 1\n", requirements="numpy\n")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert '"x = 1\\n"' in zf.read(WEBEXTENSION).decode("utf-8").replace("&quot;", '"')
