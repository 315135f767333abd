"""The in-memory picture of a workbook that readers fill and the recalc engine computes.

Coordinates are 1-based ``(row, column)``. Input cells hold Python values as Excel would
send them (float, str, bool, None); formula cells hold their formula text with the leading
``=`` (shared formulas already expanded to each cell's own text) and, separately, the cached
value the file stored (``None`` when it had none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Cell = tuple[int, int]


@dataclass
class SheetData:
    name: str
    values: dict[Cell, object] = field(default_factory=dict)
    formulas: dict[Cell, str] = field(default_factory=dict)
    cached: dict[Cell, object] = field(default_factory=dict)
    array_formulas: dict[Cell, str] = field(default_factory=dict)
    """Top-left cell of a legacy array (CSE) formula → the range it fills, e.g. ``"X5:X40"``."""
    read_to: int | None = None
    """The last row read when the reader was told to stop there and the sheet goes on below it
    (:func:`~kpi_xl.workbook.xlsx_read.read_book`'s ``last_rows``); ``None``: read in full."""

    @property
    def max_row(self) -> int:
        return max((r for r, _ in (*self.values, *self.formulas)), default=0)

    @property
    def max_column(self) -> int:
        return max((c for _, c in (*self.values, *self.formulas)), default=0)


@dataclass
class BookData:
    sheets: dict[str, SheetData] = field(default_factory=dict)
    defined_names: dict[str, str] = field(default_factory=dict)
    """Workbook-scoped names → their reference text, e.g. ``"规则!$C$4"``."""
    local_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Sheet-scoped names: sheet name → {name → reference text} (e.g. ``_xlnm.Print_Area``)."""
