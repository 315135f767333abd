"""The in-memory picture of a workbook that readers fill and the recalc engine computes.

Coordinates are 1-based ``(row, column)``. Input cells hold Python values as Excel would
send them (float, str, bool, None); formula cells hold their formula text with the leading
``=`` (shared formulas already expanded to each cell's own text) and, separately, the cached
value the file stored (absent when it had none).

Cells are filed by column (:class:`CellColumns`): a sheet of 100,000 agents holds millions of
cells, and a ``(row, column)`` tuple per cell cost more than the values themselves. A column
of formulas filled down keeps one text per run of rows (:class:`FormulaRuns`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import (
    Collection,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    ValuesView,
)
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Generic, TypeVar

from kpi_xl.core.cells import row_pattern

Cell = tuple[int, int]
V = TypeVar("V")


class CellColumns(MutableMapping[Cell, V], Generic[V]):
    """Cells keyed by ``(row, column)``, held as one ``{row: value}`` mapping per column.

    Iterates column by column (columns and rows ascending); :meth:`columns` hands out the
    columns themselves for work done a column at a time.
    """

    __slots__ = ("_columns",)

    def __init__(self, cells: Mapping[Cell, V] | Iterable[tuple[Cell, V]] = ()) -> None:
        self._columns: dict[int, MutableMapping[int, V]] = {}
        self.update(cells)

    def _new_column(self) -> MutableMapping[int, V]:
        return {}

    def column(self, col: int) -> MutableMapping[int, V]:
        """Column ``col`` (made empty when it has no cell yet)."""
        found = self._columns.get(col)
        if found is None:
            found = self._columns[col] = self._new_column()
        return found

    def find_column(self, col: int) -> Mapping[int, V] | None:
        """Column ``col``, ``None`` when it holds no cell."""
        return self._columns.get(col)

    def columns(self) -> Iterator[tuple[int, Mapping[int, V]]]:
        """``(column, {row: value})`` for every column holding a cell, columns ascending."""
        for col in sorted(self._columns):
            column = self._columns[col]
            if column:
                yield col, column

    def __getitem__(self, cell: Cell) -> V:
        row, col = cell
        return self._columns[col][row]

    def __setitem__(self, cell: Cell, value: V) -> None:
        row, col = cell
        self.column(col)[row] = value

    def __delitem__(self, cell: Cell) -> None:
        row, col = cell
        del self._columns[col][row]

    def __contains__(self, cell: object) -> bool:
        if not isinstance(cell, tuple) or len(cell) != 2:
            return False
        column = self._columns.get(cell[1])
        return column is not None and cell[0] in column

    def get(self, cell: Cell, default: V | None = None) -> V | None:  # type: ignore[override]
        column = self._columns.get(cell[1])
        return default if column is None else column.get(cell[0], default)

    def __iter__(self) -> Iterator[Cell]:
        for col, column in self.columns():
            yield from zip(sorted(column), repeat(col))

    def __len__(self) -> int:
        return sum(map(len, self._columns.values()))

    def items(self) -> ItemsView[Cell, V]:
        return _ColumnItems(self)

    def values(self) -> ValuesView[V]:
        return _ColumnValues(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.items())!r})"


class _ColumnItems(ItemsView[Cell, V]):
    """``items()`` of :class:`CellColumns`: each column's own items, in the keys' order."""

    _mapping: CellColumns[V]

    def __iter__(self) -> Iterator[tuple[Cell, V]]:
        for col, column in self._mapping.columns():
            items = sorted(column.items(), key=itemgetter(0))  # in order already: one pass
            yield from zip(zip(map(itemgetter(0), items), repeat(col)),
                           map(itemgetter(1), items), strict=True)


class _ColumnValues(ValuesView[V]):
    """``values()`` of :class:`CellColumns`, in the keys' order."""

    _mapping: CellColumns[V]

    def __iter__(self) -> Iterator[V]:
        return map(itemgetter(1), _ColumnItems(self._mapping))


class FormulaRuns(MutableMapping[int, str]):
    """One column's formula texts: consecutive rows whose texts differ only in their own row
    number are one run, stored as one text with ``\\0`` for that number (``=A\\0*2`` for
    ``=A5*2``, ``=A6*2`` …). Lossless: a formula never holds ``\\0``, so each row's text is its
    run's text with the row number put back."""

    __slots__ = ("_count", "_ends", "_patterns", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._patterns: list[str] = []
        self._count = 0

    def append(self, row: int, pattern: str) -> None:
        """File the cell at ``row`` by a pattern of its text: the text with NUL where the row's
        number goes (:func:`row_pattern` puts it wherever that number appears; a shared
        formula's template only where the formula depends on its row). A row below every row
        held joins the last run when its pattern is the run's."""
        ends = self._ends
        if ends and row <= ends[-1]:
            self[row] = pattern.replace("\0", str(row))
            return
        if ends and row == ends[-1] + 1 and pattern == self._patterns[-1]:
            ends[-1] = row
        else:
            self._starts.append(row)
            ends.append(row)
            self._patterns.append(pattern)
        self._count += 1

    def continues(self, row: int) -> bool:
        """Whether ``row`` comes right below the last row held."""
        return bool(self._ends) and self._ends[-1] == row - 1

    def extend(self, row: int) -> None:
        """File ``row`` (:meth:`continues` the last run) under the last run's pattern."""
        self._ends[-1] = row
        self._count += 1

    def runs(self) -> Iterator[tuple[int, int, str]]:
        """``(first row, last row, pattern)`` of every run, top down."""
        return zip(self._starts, self._ends, self._patterns, strict=True)

    def last_row(self) -> int:
        return self._ends[-1] if self._ends else 0

    def rows_and_texts(self) -> tuple[list[int], list[str]]:
        """Every row held, top down, and its formula text."""
        rows: list[int] = []
        texts: list[str] = []
        for start, end, pattern in self.runs():
            numbers = range(start, end + 1)
            rows += numbers
            texts += map(pattern.replace, repeat("\0"), map(str, numbers))
        return rows, texts

    def _find(self, row: int) -> int:
        index = bisect_right(self._starts, row) - 1
        return index if index >= 0 and row <= self._ends[index] else -1

    def __getitem__(self, row: int) -> str:
        index = self._find(row)
        if index < 0:
            raise KeyError(row)
        return self._patterns[index].replace("\0", str(row))

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and self._find(row) >= 0

    def __setitem__(self, row: int, text: str) -> None:
        if "\0" in text:
            raise ValueError("a formula text holding NUL")
        if not self._ends or row > self._ends[-1]:
            self.append(row, row_pattern(text, row))
            return
        if row in self:
            del self[row]
        index = bisect_right(self._starts, row)
        self._starts.insert(index, row)
        self._ends.insert(index, row)
        self._patterns.insert(index, row_pattern(text, row))
        self._count += 1

    def __delitem__(self, row: int) -> None:
        index = self._find(row)
        if index < 0:
            raise KeyError(row)
        start, end, pattern = self._starts[index], self._ends[index], self._patterns[index]
        del self._starts[index], self._ends[index], self._patterns[index]
        pieces = [(first, last) for first, last in ((start, row - 1), (row + 1, end))
                  if first <= last]
        for offset, (first, last) in enumerate(pieces):
            self._starts.insert(index + offset, first)
            self._ends.insert(index + offset, last)
            self._patterns.insert(index + offset, pattern)
        self._count -= 1

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(range(start, end + 1) for start, end, _ in self.runs())

    def items(self) -> ItemsView[int, str]:
        return _FormulaItems(self)

    def __len__(self) -> int:
        return self._count


class ValueRuns(MutableMapping[int, V], Generic[V]):
    """One column's values kept as runs of consecutive rows, each run a list (a computed
    column of 100,000 rows is one list, not 100,000 dict entries)."""

    __slots__ = ("_count", "_runs", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._runs: list[list[V]] = []
        self._count = 0

    def put_run(self, row: int, values: list[V]) -> None:
        """Rows ``row``, ``row + 1`` … get ``values`` (appended as a run when they all lie
        below the rows held)."""
        if self._starts and row < self._starts[-1] + len(self._runs[-1]):
            self.update(zip(range(row, row + len(values)), values, strict=True))
            return
        if self._starts and row == self._starts[-1] + len(self._runs[-1]):
            self._runs[-1] += values
        else:
            self._starts.append(row)
            self._runs.append(list(values))
        self._count += len(values)

    def append(self, row: int, value: V) -> None:
        """File ``row`` (usually right below the last row held: one list append)."""
        starts, runs = self._starts, self._runs
        if starts and row == starts[-1] + len(runs[-1]):
            runs[-1].append(value)
            self._count += 1
        else:
            self[row] = value

    def _find(self, row: int) -> int:
        index = bisect_right(self._starts, row) - 1
        return index if index >= 0 and row - self._starts[index] < len(self._runs[index]) else -1

    def __getitem__(self, row: int) -> V:
        index = self._find(row)
        if index < 0:
            raise KeyError(row)
        return self._runs[index][row - self._starts[index]]

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and self._find(row) >= 0

    def __setitem__(self, row: int, value: V) -> None:
        index = self._find(row)
        if index >= 0:
            self._runs[index][row - self._starts[index]] = value
            return
        if not self._starts or row > self._starts[-1]:
            self.put_run(row, [value])
            return
        index = bisect_right(self._starts, row)
        self._starts.insert(index, row)
        self._runs.insert(index, [value])
        self._count += 1

    def __delitem__(self, row: int) -> None:
        index = self._find(row)
        if index < 0:
            raise KeyError(row)
        start, run = self._starts[index], self._runs[index]
        cut = row - start
        del self._starts[index], self._runs[index]
        for offset, (first, piece) in enumerate(
                [(first, piece) for first, piece in ((start, run[:cut]), (row + 1, run[cut + 1:]))
                 if piece]):
            self._starts.insert(index + offset, first)
            self._runs.insert(index + offset, piece)
        self._count -= 1

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(range(start, start + len(run))
                                   for start, run in zip(self._starts, self._runs, strict=True))

    def items(self) -> ItemsView[int, V]:
        return _RunItems(self)

    def runs(self) -> Iterator[tuple[int, list[V]]]:
        """``(first row, values)`` of every run, top down."""
        return zip(self._starts, self._runs, strict=True)

    def __len__(self) -> int:
        return self._count


class _RunItems(ItemsView[int, V]):
    """``items()`` of :class:`ValueRuns`, a run at a time."""

    _mapping: ValueRuns[V]

    def __iter__(self) -> Iterator[tuple[int, V]]:
        return chain.from_iterable(zip(range(start, start + len(run)), run, strict=True)
                                   for start, run in self._mapping.runs())


class ValueColumns(CellColumns[V]):
    """Cells by column, each column a :class:`ValueRuns` (computed results)."""

    __slots__ = ()

    def _new_column(self) -> ValueRuns[V]:
        return ValueRuns()

    def column(self, col: int) -> ValueRuns[V]:
        return super().column(col)  # type: ignore[return-value]


class _FormulaItems(ItemsView[int, str]):
    """``items()`` of :class:`FormulaRuns`, each text rendered from its run's pattern."""

    _mapping: FormulaRuns

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return zip(*self._mapping.rows_and_texts(), strict=True)


class Formulas(CellColumns[str]):
    """Formula texts by column, each column a :class:`FormulaRuns`."""

    __slots__ = ()

    def _new_column(self) -> FormulaRuns:
        return FormulaRuns()

    def column(self, col: int) -> FormulaRuns:
        return super().column(col)  # type: ignore[return-value]

    def mention(self, words: Collection[str]) -> bool:
        """Whether any formula's text holds one of ``words``. A word without digits is looked
        for in each run's pattern (taking the row's number out of a text cannot make or
        break such a word); a word with digits in every text of the run."""
        plain = [word for word in words if not any(map(str.isdigit, word))]
        numbered = [word for word in words if word not in plain]
        for col, _ in self.columns():
            for start, end, pattern in self.column(col).runs():
                if any(word in pattern for word in plain):
                    return True
                if numbered and any(word in pattern.replace("\0", str(row))
                                    for row in range(start, end + 1) for word in numbered):
                    return True
        return False

    def patterns(self) -> dict[int, list[tuple[int, int, str]]]:
        """Column → its runs (:meth:`FormulaRuns.runs`: first row, last row, pattern): every
        formula's text without one string per cell."""
        return {col: list(self.column(col).runs()) for col, _ in self.columns()}

    def last_row(self) -> int:
        """The lowest row holding a formula (0: none)."""
        return max((self.column(col).last_row() for col, _ in self.columns()), default=0)


@dataclass
class SheetData:
    name: str
    values: CellColumns[object] = field(default_factory=CellColumns)
    formulas: Formulas = field(default_factory=Formulas)
    cached: ValueColumns[object] = field(default_factory=ValueColumns)
    """The values the file stored for formula cells (only where it stored one; a column of
    them is one list per run of rows, as the recalc's results)."""
    array_formulas: dict[Cell, str] = field(default_factory=dict)
    """Top-left cell of a legacy array (CSE) formula → the range it fills, e.g. ``"X5:X40"``."""
    read_to: int | None = None
    """The last row read when the reader was told to stop there and the sheet goes on below it
    (:func:`~kpi_xl.workbook.xlsx_read.read_book`'s ``last_rows``); ``None``: read in full."""

    def __post_init__(self) -> None:
        if not isinstance(self.values, CellColumns):
            self.values = CellColumns(self.values)
        if not isinstance(self.formulas, Formulas):
            self.formulas = Formulas(self.formulas)
        if not isinstance(self.cached, ValueColumns):
            self.cached = ValueColumns(self.cached)

    @property
    def max_row(self) -> int:
        return max((max(column) for cells in (self.values, self.formulas)
                    for _, column in cells.columns()), default=0)

    @property
    def max_column(self) -> int:
        return max((col for cells in (self.values, self.formulas)
                    for col, _ in cells.columns()), default=0)


@dataclass
class BookData:
    sheets: dict[str, SheetData] = field(default_factory=dict)
    defined_names: dict[str, str] = field(default_factory=dict)
    """Workbook-scoped names → their reference text, e.g. ``"规则!$C$4"``."""
    local_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Sheet-scoped names: sheet name → {name → reference text} (e.g. ``_xlnm.Print_Area``)."""
