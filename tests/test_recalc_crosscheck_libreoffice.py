"""LibreOffice agrees with ``kpi-xl recalc`` on the built-in formulas of every template.

For each template's sample month (normal capacity):

1. kpi_xl computes the workbook (:func:`compute_book`);
2. a copy is made in which every formula cell that calls a KPI_ function directly — and every
   cell of an array formula that does (KPI_POOL / KPI_SHARE over a column) — is replaced by
   the value kpi_xl computed, as a constant; what remains are built-in formulas only (IF, SUM,
   SUMIF, COUNTIF, INDEX/MATCH, RANK, ROUND, MIN/MAX, arithmetic, cross-sheet references);
3. LibreOffice opens that copy with a profile that recalculates every formula on load and
   saves it as xlsx; kpi_xl recalculates the same copy;
4. every formula cell of the copy is compared.

Comparison rules (documented decisions):

* numbers: within 1e-9 relative (and 1e-12 absolute near zero) — LibreOffice sums with
  compensated (Kahan) summation, so the last bits may differ from a plain left-to-right sum;
* text: equal; the empty text ``""`` that the ``IF($A5="","",…)`` guard gives on unused rows
  equals a cell read back as blank (``None``): LibreOffice stores a formula's empty-string
  result as an empty ``t="str"`` cell, which readers may return as ``None``. Only ``""`` and
  ``None`` are merged — a ``0`` is never taken for blank;
* booleans: equal; errors: by code (``#N/A``, ``#VALUE!`` …);
* RANK: ties are ties (both engines give tied values the same rank; nothing to adjust).

The number of compared cells is printed per template and must be positive.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from kpi_xl.core.errors import KpiError
from kpi_xl.templates import TEMPLATES, new_month
from kpi_xl.workbook.headless import ComputedBook, compute_book
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.xlsx import XlsxEditor
from tests.libreoffice import convert, needs_soffice

KPI_CALL = re.compile(r"(?<![A-Za-z0-9_.])(?:_XLL\.)?KPI_[A-Z]+\s*\(", re.IGNORECASE)
"""A direct call of a KPI_ function in a formula's text."""
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_TOL, ABS_TOL = 1e-9, 1e-12
STALE = -987654.25
"""Cached in every remaining formula cell of the copy: a LibreOffice that did not recalculate
on load would hand it back, and the comparison would fail."""

Cell = tuple[int, int]


@dataclass
class Prepared:
    """One template's sample month, its KPI-frozen copy, and kpi_xl's results on that copy."""

    template_id: str
    frozen: dict[str, set[Cell]]
    """Per sheet, the cells whose KPI formula was replaced by its value."""
    modified: Path
    computed: ComputedBook
    """kpi_xl's recalculation of ``modified``."""


def calls_kpi(formula: str) -> bool:
    """True when the formula text calls a KPI_ function itself (not only via a reference)."""
    return KPI_CALL.search(formula) is not None


def range_cells(ref: str) -> list[Cell]:
    """The cells of an A1 range such as ``"AN5:AN204"``."""
    (first_col, first_row, last_col, last_row) = openpyxl.utils.cell.range_boundaries(ref)
    return [(row, col) for row in range(first_row, last_row + 1)
            for col in range(first_col, last_col + 1)]


def kpi_cells(computed: ComputedBook) -> dict[str, dict[Cell, object]]:
    """Per sheet, every cell computed by a formula that calls a KPI_ function → its value."""
    out: dict[str, dict[Cell, object]] = {}
    for name, sheet in computed.book.sheets.items():
        values = computed.result.values.get(name, {})
        cells: dict[Cell, object] = {}
        for cell, formula in sheet.formulas.items():
            if calls_kpi(formula) and cell not in sheet.array_formulas:
                cells[cell] = values[cell]
        for anchor, ref in sheet.array_formulas.items():
            if calls_kpi(sheet.formulas[anchor]):
                cells.update({cell: values.get(cell) for cell in range_cells(ref)})
        if cells:
            out[name] = cells
    return out


def drop_array_formulas(source: Path, target: Path, anchors: dict[str, set[Cell]]) -> None:
    """Copy ``source`` to ``target`` with the array formulas anchored at ``anchors`` removed
    (``XlsxEditor.set_cells`` refuses to write inside an array formula's range)."""
    with zipfile.ZipFile(source) as zin:
        parts = {sheet.part: sheet.name for sheet in map_package(zin).sheets}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                wanted = anchors.get(parts.get(info.filename, ""), set())
                if wanted:
                    root = etree.fromstring(data)
                    for f in root.iter(f"{{{MAIN_NS}}}f"):
                        if f.get("t") != "array":
                            continue
                        ref = f.getparent().get("r", "")
                        col, row = openpyxl.utils.cell.coordinate_from_string(ref)
                        if (row, openpyxl.utils.cell.column_index_from_string(col)) in wanted:
                            f.getparent().remove(f)
                    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                          standalone=True)
                zout.writestr(info, data)
    target.write_bytes(buffer.getvalue())


def freeze_kpi_cells(source: Path, target: Path) -> dict[str, set[Cell]]:
    """Write ``target``: ``source`` with every KPI_ formula cell replaced by kpi_xl's value
    and every other formula cell caching the stale value :data:`STALE`."""
    computed = compute_book(source)
    assert not computed.result.not_computable, computed.result.not_computable[:3]
    frozen = kpi_cells(computed)
    errors = [(name, cell, value) for name, cells in frozen.items()
              for cell, value in cells.items() if isinstance(value, KpiError)]
    assert not errors, f"a clean sample month has no KPI errors: {errors[:3]}"
    anchors = {name: {cell for cell, ref in sheet.array_formulas.items()
                      if calls_kpi(sheet.formulas[cell])}
               for name, sheet in computed.book.sheets.items()}
    staged = target.with_suffix(".staged.xlsx")
    drop_array_formulas(source, staged, anchors)
    editor = XlsxEditor(staged)
    for name, cells in frozen.items():
        editor.set_cells(name, cells)
    for name, values in computed.result.values.items():
        stale = {cell: STALE for cell in values
                 if cell not in frozen.get(name, {})}
        if stale:
            editor.set_cached_values(name, stale)
    editor.save(target, backup=False)
    staged.unlink()
    return {name: set(cells) for name, cells in frozen.items()}


def same(mine: object, theirs: object) -> bool:
    """kpi_xl's value against LibreOffice's (as openpyxl reads it), by the module's rules."""
    if isinstance(mine, KpiError):
        return theirs == mine.code
    if mine == "" or mine is None:
        return theirs in ("", None)
    if isinstance(mine, bool) or isinstance(theirs, bool):
        return mine is theirs
    if isinstance(mine, str):
        return mine == theirs
    if not isinstance(theirs, int | float):
        return False
    return math.isclose(float(mine), float(theirs), rel_tol=REL_TOL, abs_tol=ABS_TOL)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Prepared, Path]]:
    """Every template's KPI-frozen sample month, recalculated by LibreOffice in one run."""
    work = tmp_path_factory.mktemp("lo-crosscheck")
    (work / "months").mkdir()
    (work / "frozen").mkdir()
    items: list[Prepared] = []
    for template_id in TEMPLATES:
        month = new_month(template_id, work / "months" / f"{template_id}.xlsx", sample=True)
        modified = work / "frozen" / f"{template_id}.xlsx"
        frozen = freeze_kpi_cells(month, modified)
        items.append(Prepared(template_id, frozen, modified, compute_book(modified)))
    outputs = convert([item.modified for item in items], "xlsx", work / "libreoffice")
    return {item.template_id: (item, out) for item, out in zip(items, outputs, strict=True)}


@pytest.mark.libreoffice
@needs_soffice
@pytest.mark.parametrize("template_id", list(TEMPLATES))
def test_libreoffice_agrees_on_builtin_formulas(prepared: dict[str, tuple[Prepared, Path]],
                                                 template_id: str) -> None:
    item, recalculated = prepared[template_id]
    computed = item.computed
    assert not computed.result.not_computable, computed.result.not_computable[:3]
    leftover = [(name, cell) for name, sheet in computed.book.sheets.items()
                for cell, formula in sheet.formulas.items() if calls_kpi(formula)]
    assert not leftover, f"KPI_ formulas left in the frozen copy: {leftover[:3]}"
    book = openpyxl.load_workbook(recalculated, data_only=True)
    compared = non_blank = 0
    mismatches = []
    for name, values in computed.result.values.items():
        sheet = book[name]
        for (row, col), mine in sorted(values.items()):
            theirs = sheet.cell(row, col).value
            compared += 1
            non_blank += mine not in ("", None)
            if not same(mine, theirs):
                formula = computed.book.sheets[name].formulas.get((row, col))
                mismatches.append(f"{name}!{openpyxl.utils.get_column_letter(col)}{row} "
                                  f"{formula}: kpi_xl {mine!r}, LibreOffice {theirs!r}")
    frozen = sum(len(cells) for cells in item.frozen.values())
    print(f"{template_id}: {compared} built-in formula cells compared ({non_blank} non-blank), "
          f"{frozen} KPI_ cells frozen as values")
    assert compared > 0 and non_blank > 0
    assert not mismatches, "\n".join(mismatches[:20])


def test_frozen_copy_keeps_kpi_results(tmp_path: Path) -> None:
    """The freezing step itself (no LibreOffice needed): the copy holds kpi_xl's values where
    the KPI_ formulas were, and recalculating the copy gives the original's results."""
    month = new_month("taobao-cs", tmp_path / "month.xlsx", sample=True, agents=8)
    original = compute_book(month)
    frozen = freeze_kpi_cells(month, tmp_path / "frozen.xlsx")
    again = compute_book(tmp_path / "frozen.xlsx")
    assert frozen["考核"]
    for name, cells in frozen.items():
        for cell in cells:
            assert again.book.sheets[name].values.get(cell, "") == original.result.values[
                name].get(cell, ""), (name, cell)
    for name, values in again.result.values.items():
        for cell, value in values.items():
            assert same(value, original.result.values[name][cell]), (name, cell)
