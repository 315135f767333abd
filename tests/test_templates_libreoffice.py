"""LibreOffice headless opens every template (and a sample month) and prints it to PDF: the
Chinese text renders, pages are A4 landscape, and the wide 考核 sheet prints one page wide."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kpi_xl.templates import TEMPLATE_DIR, TEMPLATES, new_month
from tests.libreoffice import convert, needs_soffice

pytestmark = [
    pytest.mark.libreoffice,
    needs_soffice,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed"),
]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    """Convert the committed templates and one sample month in a single soffice run."""
    work = tmp_path_factory.mktemp("lo")
    inputs = [TEMPLATE_DIR / f"{tid}.xlsx" for tid in TEMPLATES]
    inputs.append(new_month("taobao-cs", work / "sample-month.xlsx", sample=True,
                            history_months=2))
    outputs = convert(inputs, "pdf", work, recalc_always=False)
    return {path.stem: pdf for path, pdf in zip(inputs, outputs, strict=True)}


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _sizes(pdf) -> list[tuple[float, float]]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True,
                         text=True, check=True).stdout
    sizes = []
    for line in out.splitlines():
        if line.startswith("Page") and "size:" in line:
            parts = line.split("size:")[1].split()
            sizes.append((float(parts[0]), float(parts[2])))
    return sizes


@pytest.mark.parametrize("name", [*TEMPLATES, "sample-month"])
def test_pdf_renders_chinese_on_a4_landscape(pdfs, name):
    pdf = pdfs[name]
    assert pdf.exists() and pdf.stat().st_size > 10_000
    pages = _pages(pdf)
    text = "\n".join(pages)
    template = TEMPLATES.get(name, TEMPLATES["taobao-cs"])
    assert template.title in text
    for sheet_title in ("使用说明", "规则 —", "员工 —", "工资 —", "历史 —", "异常 —", "概览 —"):
        assert sheet_title in text, sheet_title
    if template.id == "taobao-cs":
        assert "成交额完成度" in text and "高级客服" in text
    sizes = _sizes(pdf)
    assert sizes and all(w == pytest.approx(841.89, abs=1) and h == pytest.approx(595.3, abs=1)
                         for w, h in sizes)
    assert len(pages) <= 30


@pytest.mark.parametrize("name", [*TEMPLATES, "sample-month"])
def test_assessment_sheet_prints_one_page_wide(pdfs, name):
    """The first 考核 page carries both the first header (工号) and the 等级 column."""
    pages = _pages(pdfs[name])
    first = next(p for p in pages if "蓝色表头:" in p)
    assert "工号" in first and "等级" in first
    if name == "sample-month":
        assert "KF001" in first and "售前一组" in first
