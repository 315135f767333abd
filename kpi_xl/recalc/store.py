"""Cell values of one sheet as typed column arrays, gathered into blocks by row vectors."""

from __future__ import annotations

import numpy as np

from kpi_xl.recalc.block import BLANK, ERR, NUM, TEXT, Block, classify


class _Column:
    __slots__ = ("has_obj", "kind", "num", "obj")

    def __init__(self, length: int) -> None:
        self.num = np.zeros(length, dtype=np.float64)
        self.kind = np.full(length, BLANK, dtype=np.int8)
        self.obj = np.full(length, None, dtype=object)
        self.has_obj = False

    def grow(self, length: int) -> None:
        if length <= self.num.shape[0]:
            return
        extra = max(length, 2 * self.num.shape[0]) - self.num.shape[0]
        self.num = np.concatenate([self.num, np.zeros(extra)])
        self.kind = np.concatenate([self.kind, np.full(extra, BLANK, dtype=np.int8)])
        self.obj = np.concatenate([self.obj, np.full(extra, None, dtype=object)])


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

    def set(self, row: int, col: int, value: object) -> None:
        kind, number, obj = classify(value)
        column = self.column(col, row + 1)
        column.kind[row] = kind
        column.num[row] = number
        column.obj[row] = obj
        if obj is not None:
            column.has_obj = True
        self.max_row = max(self.max_row, row)

    def load(self, cells: dict[tuple[int, int], object], skip: dict) -> list[tuple[int, int]]:
        """Bulk-load input cells (those not in ``skip``); returns the cells holding errors."""
        plain: dict[int, tuple[list[int], list[float]]] = {}
        others = []
        for (row, col), value in cells.items():
            if (row, col) in skip:
                continue
            if type(value) is float and value == value and abs(value) != float("inf"):
                rows, numbers = plain.setdefault(col, ([], []))
                rows.append(row)
                numbers.append(value)
            else:
                others.append((row, col, value))
        top = max((row for row, _ in cells), default=0)
        self.max_row = max(self.max_row, top)
        for col, (rows, numbers) in plain.items():
            column = self.column(col, top + 1)
            index = np.array(rows, dtype=np.int64)
            column.num[index] = numbers
            column.kind[index] = NUM
        errors = []
        for row, col, value in others:
            self.set(row, col, value)
            if self.columns[col].kind[row] == ERR:
                errors.append((row, col))
        return errors

    def write(self, row0: int, col: int, block: Block) -> None:
        """Write a ``(count, 1, 1)`` block into rows ``row0 …`` of a column."""
        count = block.n
        column = self.column(col, row0 + count)
        column.num[row0:row0 + count] = block.num.reshape(-1)
        column.kind[row0:row0 + count] = block.kind.reshape(-1)
        if block.obj is not None:
            column.obj[row0:row0 + count] = block.obj.reshape(-1)
            column.has_obj = True
        else:
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
        for offset in range(width):
            column = self.columns.get(col1 + offset)
            if column is None:
                continue
            length = column.num.shape[0]
            if n == 1 and index[0, -1] < length:
                lo, hi = int(index[0, 0]), int(index[0, -1]) + 1
                num[0, :, offset] = column.num[lo:hi]
                kind[0, :, offset] = column.kind[lo:hi]
                if column.has_obj:
                    if obj is None:
                        obj = np.full(shape, None, dtype=object)
                    obj[0, :, offset] = column.obj[lo:hi]
                continue
            inside = index < length
            safe = np.where(inside, index, 0)
            num[:, :, offset] = np.where(inside, column.num[safe], 0.0)
            kind[:, :, offset] = np.where(inside, column.kind[safe], BLANK)
            if column.has_obj:
                if obj is None:
                    obj = np.full(shape, None, dtype=object)
                obj[:, :, offset] = np.where(inside, column.obj[safe], None)
        if obj is not None and not ((kind == TEXT) | (kind == ERR)).any():
            obj = None
        return Block(num, kind, obj, is_ref=True)
