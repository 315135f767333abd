"""Cell values of one sheet as typed column arrays, gathered into blocks by row vectors."""

from __future__ import annotations

from itertools import repeat

import numpy as np

from kpi_xl.recalc.block import BLANK, ERR, TEXT, Block, classify_all
from kpi_xl.workbook.model import CellColumns, Formulas


class _Column:
    __slots__ = ("kind", "num", "obj")

    def __init__(self, length: int) -> None:
        self.num = np.zeros(length, dtype=np.float64)
        self.kind = np.full(length, BLANK, dtype=np.int8)
        self.obj: np.ndarray | None = None
        """Text and errors by row; allocated when the column first holds one."""

    def grow(self, length: int) -> None:
        if length <= self.num.shape[0]:
            return
        extra = max(length, 2 * self.num.shape[0]) - self.num.shape[0]
        self.num = np.concatenate([self.num, np.zeros(extra)])
        self.kind = np.concatenate([self.kind, np.full(extra, BLANK, dtype=np.int8)])
        if self.obj is not None:
            self.obj = np.concatenate([self.obj, np.full(extra, None, dtype=object)])

    def objects(self) -> np.ndarray:
        """The object array, allocated on first use."""
        if self.obj is None:
            self.obj = np.full(self.num.shape[0], None, dtype=object)
        return self.obj


class SheetStore:
    """Values by column; index = row number (row 0 unused)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: dict[int, _Column] = {}
        self.max_row = 0

    def column(self, col: int, min_length: int) -> _Column:
        column = self.columns.get(col)
        if column is None:
            column = self.columns[col] = _Column(max(min_length, self.max_row + 1))
        column.grow(min_length)
        return column

    def load(self, cells: CellColumns[object], skip: Formulas) -> list[tuple[int, int]]:
        """Bulk-load input cells, column by column (those where ``skip`` holds a formula are
        left out); returns the cells holding errors."""
        errors: list[tuple[int, int]] = []
        for col, cells_of_column in cells.columns():
            count = len(cells_of_column)
            rows = np.fromiter(cells_of_column.keys(), dtype=np.int64, count=count)
            values = np.fromiter(cells_of_column.values(), dtype=object, count=count)
            formulas = skip.find_column(col)
            if formulas:
                kept = ~np.isin(rows, np.fromiter(formulas, dtype=np.int64, count=len(formulas)))
                rows, values = rows[kept], values[kept]
                if not rows.size:
                    continue
            self.max_row = max(self.max_row, int(rows.max()))
            kinds, numbers, objs = classify_all(values)
            column = self.column(col, self.max_row + 1)
            column.kind[rows] = kinds
            column.num[rows] = numbers
            held = (kinds == TEXT) | (kinds == ERR)
            if held.any() or column.obj is not None:
                column.objects()[rows] = None if objs is None else objs
            errors += zip(rows[kinds == ERR].tolist(), repeat(col))
        return errors

    def write(self, row0: int, col: int, block: Block) -> None:
        """Write a ``(count, 1, 1)`` block into rows ``row0 …`` of a column."""
        count = block.n
        column = self.column(col, row0 + count)
        column.num[row0:row0 + count] = block.num.reshape(-1)
        column.kind[row0:row0 + count] = block.kind.reshape(-1)
        if block.obj is not None:
            column.objects()[row0:row0 + count] = block.obj.reshape(-1)
        elif column.obj is not None:
            column.obj[row0:row0 + count] = None
        self.max_row = max(self.max_row, row0 + count - 1)

    def gather(self, tops: np.ndarray, height: int, col1: int, width: int) -> Block:
        """Block ``(len(tops), height, width)``: for each top row, the rectangle below it."""
        n = tops.shape[0]
        shape = (n, height, width)
        num = np.zeros(shape)
        kind = np.full(shape, BLANK, dtype=np.int8)
        obj: np.ndarray | None = None
        index = tops[:, None] + np.arange(height)[None, :]
        # one rectangle, or one cell per row down consecutive rows: a slice of each column
        sliced = n == 1 or (height == 1 and int(tops[-1] - tops[0]) == n - 1 and
                            bool((np.diff(tops) == 1).all()))
        for offset in range(width):
            column = self.columns.get(col1 + offset)
            if column is None:
                continue
            length = column.num.shape[0]
            if sliced and index[-1, -1] < length:
                lo, hi = int(index[0, 0]), int(index[-1, -1]) + 1
                num[:, :, offset] = column.num[lo:hi].reshape(n, height)
                kind[:, :, offset] = column.kind[lo:hi].reshape(n, height)
                if column.obj is not None:
                    if obj is None:
                        obj = np.full(shape, None, dtype=object)
                    obj[:, :, offset] = column.obj[lo:hi].reshape(n, height)
                continue
            inside = index < length
            safe = np.where(inside, index, 0)
            num[:, :, offset] = np.where(inside, column.num[safe], 0.0)
            kind[:, :, offset] = np.where(inside, column.kind[safe], BLANK)
            if column.obj is not None:
                if obj is None:
                    obj = np.full(shape, None, dtype=object)
                obj[:, :, offset] = np.where(inside, column.obj[safe], None)
        if obj is not None and not ((kind == TEXT) | (kind == ERR)).any():
            obj = None
        return Block(num, kind, obj, is_ref=True)
