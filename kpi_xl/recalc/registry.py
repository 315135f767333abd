"""Calling the KPI_ worksheet functions (``kpi_xl.functions.FUNCTIONS``) from the engine.

A row-wise function is called once for a whole group: per-row arguments are stacked
(N×1 for a cell, N×k for a row of cells), fixed ones passed as they are. Other functions
(KPI_POOL, KPI_SHARE) are called once when all their arguments are fixed, else once per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc.block import BLANK, NUM, TEXT, Block, NotComputable
from kpi_xl.recalc.evaluate import Context

OFFICE_JS_PREFIX = "_XLDUDF_"
"""How Excel stores an Office.js custom function in a formula: ``=KPI_TIER(…)`` typed in a book
with xlwings Lite is saved as ``_xldudf_KPI_TIER(…)`` (a namespace's dot becomes ``_``)."""


class Registry:
    def __init__(self, functions: Mapping[str, Callable[..., object]],
                 rowwise: frozenset[str] | set[str]) -> None:
        self.functions = {name.upper(): function for name, function in functions.items()}
        self.rowwise = frozenset(name.upper() for name in rowwise)

    def resolve(self, name: str) -> str | None:
        """Registry name for a formula's function name: ``KPI_TIER``, ``XLWINGS.KPI_TIER`` and
        the form Excel stores Office.js (xlwings Lite) functions in, ``_xldudf_KPI_TIER``,
        all → ``KPI_TIER``."""
        if name in self.functions:
            return name
        upper = name.upper()
        if upper.startswith(OFFICE_JS_PREFIX):
            upper = upper[len(OFFICE_JS_PREFIX):]
            if upper in self.functions:
                return upper
        tail = upper.rsplit(".", 1)[-1]
        return tail if tail in self.functions else None

    def call(self, ctx: Context, name: str, args: list[Block | None]) -> Block:
        resolved = self.resolve(name)
        if resolved is None:
            raise NotComputable(f"unsupported function {name}")
        function = self.functions[resolved]
        per_row = any(b is not None and b.n > 1 for b in args)
        if per_row and resolved in self.rowwise:
            result = _invoke(function, [_argument(b, stacked=True) for b in args])
            if _raised(result):
                return _block(result[None, :, :])
            if result.shape[0] != ctx.n or result.shape[1] != 1:
                raise NotComputable(f"{resolved} returned {result.shape[0]}×{result.shape[1]} "
                                    f"for {ctx.n} rows")
            return _block(result[:, None, :])
        if per_row:
            n = max(b.n for b in args if b is not None)
            rows = []
            for row in range(n):
                one = [None if b is None else b.rows(row, row + 1) for b in args]
                rows.append(_invoke(function, [_argument(b, stacked=False) for b in one]))
            shapes = {r.shape for r in rows if not _raised(r)}
            if len(shapes) > 1:
                raise NotComputable(f"{resolved} returned arrays of different sizes per row")
            shape = shapes.pop() if shapes else (1, 1)
            stacked = np.empty((n, *shape), dtype=object)
            for row, result in enumerate(rows):
                stacked[row] = result[0, 0] if _raised(result) else result
            return _block(stacked)
        result = _invoke(function, [_argument(b, stacked=False) for b in args])
        return _block(result[None, :, :])


class _Raised(np.ndarray):
    """Marks the 1×1 result of a call that raised a KpiError (it fills every row)."""


def _raised(result: np.ndarray) -> bool:
    return isinstance(result, _Raised)


def _invoke(function: Callable[..., object], args: list[object]) -> np.ndarray:
    try:
        result = function(*args)
    except KpiError as error:
        return np.array([[error]], dtype=object).view(_Raised)
    array = np.asarray(result, dtype=object)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    elif array.ndim != 2:
        raise NotComputable("a worksheet function returned more than two dimensions")
    return array


def _argument(block: Block | None, *, stacked: bool) -> object:
    """A block as a KPI_ function's argument. Error cells go in as their KpiError objects
    (Excel would send the code text): the functions keep the object, so an error passed
    along is recognised as the same error and listed once, where it arose."""
    if block is None:
        return None
    if stacked and block.n > 1:
        if block.shape[1] != 1:
            raise NotComputable("a per-row range taller than one row in a KPI_ function")
        return _values(block)[:, 0, :]
    if block.cells == 1:
        return block.python()[0, 0, 0]
    return _values(block)[0]


def _values(block: Block) -> np.ndarray:
    """The cells of a block: a float array when all are numbers (the functions read it in
    one pass), else an object array of Python values."""
    if block.obj is None and (block.kind == NUM).all():
        return block.num
    return block.python()


def _block(values: np.ndarray) -> Block:
    """A function's result; an empty result cell is empty text, as Excel shows it."""
    block = Block.from_values(values)
    blank = block.kind == BLANK
    if not blank.any():
        return block
    obj = block.objects().copy()
    obj[blank] = ""
    return Block(np.where(blank, np.nan, block.num), np.where(blank, np.int8(TEXT), block.kind),
                 obj)
