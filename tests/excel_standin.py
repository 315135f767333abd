"""Excel without Excel, for the tests: how a cell keeps a value written to it
(:func:`excel_stores`), and a workbook open in desktop Excel as classic xlwings sees it
(:class:`ClassicBook`: ``used_range``, ``range(...).value`` read and written,
``range.formula``, ``clear_contents``, ``app.alert``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Grid = dict[tuple[int, int], object]


def excel_stores(value: object) -> object:
    """A value written to a cell as Excel keeps it: a leading ``'`` only marks text."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


class _Range:
    """``sheet.range(...)`` / ``used_range`` of the stand-in: values, formulas, writes."""

    def __init__(self, sheet: _Sheet, top: int, left: int, bottom: int, right: int) -> None:
        self.sheet, self.row, self.column = sheet, top, left
        self.shape = (bottom - top + 1, right - left + 1)

    def options(self, **_: object) -> _Range:
        return self

    def _cells(self) -> list[list[tuple[int, int]]]:
        return [[(r, c) for c in range(self.column, self.column + self.shape[1])]
                for r in range(self.row, self.row + self.shape[0])]

    @property
    def value(self) -> list[list[object]]:
        return [[self.sheet.values.get(cell) for cell in row] for row in self._cells()]

    @value.setter
    def value(self, rows: list[list[object]]) -> None:
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                cell = (self.row + i, self.column + j)
                self.sheet.values.pop(cell, None)
                self.sheet.formulas.pop(cell, None)
                self.sheet.written.append(value)
                if value not in (None, ""):
                    self.sheet.values[cell] = self.sheet.stored(value)

    @property
    def formula(self) -> tuple[tuple[str, ...], ...]:
        """Excel's ``Range.Formula``: ``=…`` for a formula, a constant as text, ``""``."""
        return tuple(tuple(str(self.sheet.formulas.get(cell, self.sheet.values.get(cell, "")))
                           for cell in row) for row in self._cells())

    def clear_contents(self) -> None:
        for row in self._cells():
            for cell in row:
                self.sheet.values.pop(cell, None)
                self.sheet.formulas.pop(cell, None)


class _Sheet:
    def __init__(self, name: str, values: Grid, formulas: Grid,
                 stored: Callable[[object], object]) -> None:
        self.name, self.values, self.formulas = name, dict(values), dict(formulas)
        self.stored = stored
        self.written: list[object] = []

    @property
    def used_range(self) -> _Range:
        cells = set(self.values) | set(self.formulas) or {(1, 1)}
        return _Range(self, min(r for r, _ in cells), min(c for _, c in cells),
                      max(r for r, _ in cells), max(c for _, c in cells))

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> _Range:
        last = last or first
        return _Range(self, first[0], first[1], last[0], last[1])


class _Sheets(list):  # type: ignore[type-arg]
    def __getitem__(self, key: object) -> object:
        if isinstance(key, str):
            return next(sheet for sheet in self if sheet.name == key)
        return super().__getitem__(key)  # type: ignore[index]


class _App:
    def __init__(self) -> None:
        self.alerts: list[str] = []

    def alert(self, message: str, *_: object, **__: object) -> None:
        self.alerts.append(message)

    def calculate(self) -> None:  # the values are already computed
        pass


class ClassicBook:
    """A workbook as desktop Excel shows it to classic xlwings: computed values and formulas
    (``range.formula``), written values kept as ``stored`` gives them (default: as Excel
    stores them, the ``'`` text prefix taken off)."""

    def __init__(self, values: dict[str, Grid], formulas: dict[str, Grid],
                 stored: Callable[[object], object] = excel_stores) -> None:
        self.sheets = _Sheets(_Sheet(name, grid, formulas.get(name, {}), stored)
                              for name, grid in values.items())
        self.app = _App()
        self.name = "book.xlsx"


def classic_book(path: Path) -> ClassicBook:
    """``path`` as desktop Excel would show it: every formula computed (the headless engine)."""
    from kpi_xl.workbook.headless import compute_book

    computed = compute_book(path)
    return ClassicBook({name: computed.values(name) for name in computed.book.sheets},
                       {name: dict(data.formulas.items())
                        for name, data in computed.book.sheets.items()})
