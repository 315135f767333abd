"""``recalculate(book)``: every formula of a workbook computed headless.

Formula cells are grouped into column runs (:mod:`~kpi_xl.recalc.compile`), the groups
ordered by their dependencies (:mod:`~kpi_xl.recalc.graph`), and each group evaluated once
over all its rows (:mod:`~kpi_xl.recalc.evaluate`). A plain (non-array) formula is a legacy
single-cell formula, as an xlsx stores it (Excel 365 saves a dynamic-array formula as an array
formula): it gives one value, in its own cell, by Excel's implicit intersection; an array
formula fills its range. A formula this engine cannot compute exactly gets no value and is
listed in ``not_computable``; so are the formulas that read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from kpi_xl.core.cells import coordinate
from kpi_xl.core.column import present
from kpi_xl.core.errors import CellProblem as Problem
from kpi_xl.core.errors import KpiError
from kpi_xl.core.gcpause import gc_paused
from kpi_xl.recalc.block import BLANK, ERR, NUM, Block, NotComputable, error
from kpi_xl.recalc.compile import Group, array_work, build_groups, sheets_in_use, split_rows
from kpi_xl.recalc.evaluate import Context, evaluate
from kpi_xl.recalc.functions_table import BUILTINS, SUPPORTED
from kpi_xl.recalc.graph import components, dependencies
from kpi_xl.recalc.registry import Registry
from kpi_xl.recalc.store import SheetStore
from kpi_xl.workbook.model import BookData, ValueColumns

CIRCULAR = "循环引用 (circular reference)"
PLAIN_ARRAY = ("普通公式 (非数组公式) 的结果有多个值, "
               "Excel 只显示按隐式交集选出的一个, 无法确定是哪一个; "
               "请在 Excel 中改为数组公式 (a plain, non-array formula returns several values; "
               "Excel shows the one implicit intersection picks, which cannot be determined "
               "here; enter it as an array formula in Excel)")
CHUNK_ELEMENTS = 2_000_000
"""Rows evaluated at once are limited so that per-row arrays stay below this many elements."""


@dataclass
class RecalcResult:
    values: dict[str, ValueColumns[object]] = field(default_factory=dict)
    """Per sheet, ``(row, column)`` → float, str, bool, or a :class:`KpiError` (its ``.code``
    is the error value to cache), filed by column."""
    problems: list[Problem] = field(default_factory=list)
    """Error cells where the error arises (listed once, at its origin)."""
    not_computable: list[Problem] = field(default_factory=list)
    """Formula cells that got no value."""


def recalculate(book: BookData, functions: Mapping[str, Callable] | None = None,
                rowwise: frozenset[str] | None = None) -> RecalcResult:
    """Compute every formula cell of ``book``; KPI_ functions come from ``functions``
    (default: ``kpi_xl.functions.FUNCTIONS`` / ``ROWWISE``).

    A plain (non-array) formula gives one value, in its own cell, by Excel's implicit
    intersection; one whose value stays an array is listed as not computable."""
    if functions is None:
        from kpi_xl import functions as registry_module

        functions = registry_module.FUNCTIONS
        if rowwise is None:
            rowwise = registry_module.ROWWISE
    if rowwise is None:
        try:
            from kpi_xl.functions import ROWWISE as default_rowwise
        except ImportError:
            default_rowwise = frozenset()
        rowwise = default_rowwise
    return Engine(book, functions, rowwise).run()


class Engine:
    """One recalculation. ``group_rows=False`` evaluates every cell on its own (the same
    evaluator with runs of one row), which tests use as the reference."""

    def __init__(self, book: BookData, functions: Mapping[str, Callable],
                 rowwise: frozenset[str], *, group_rows: bool = True,
                 chunk_elements: int = CHUNK_ELEMENTS) -> None:
        self.book = book
        self.registry = Registry(functions, rowwise)
        self.group_rows = group_rows
        self.chunk_elements = chunk_elements
        self.result = RecalcResult({name: ValueColumns() for name in book.sheets})
        self.stores: dict[str, SheetStore] = {}
        self.input_errors: dict[int, tuple[str, int, int]] = {}
        self.reported_inputs: set[int] = set()
        self.propagated: set[int] = set()
        self.group_count = 0
        self.work: dict[int, int] = {}

    def known(self, name: str) -> bool:
        return name in SUPPORTED or self.registry.resolve(name) is not None

    def run(self) -> RecalcResult:
        with gc_paused():  # millions of result keys, no cycles worth collecting
            return self._run()

    def _run(self) -> RecalcResult:
        groups = self._load_and_group()
        self.group_count = len(groups)
        edges = dependencies(groups)
        ok = [False] * len(groups)
        for component in components(edges):
            if len(component) > 1 or component[0] in edges[component[0]]:
                for gid in component:
                    self._not_computable(groups[gid], CIRCULAR)
                continue
            gid = component[0]
            group = groups[gid]
            if group.problem is not None:
                self._not_computable(group, group.problem)
                continue
            failed = next((d for d in edges[gid] if not ok[d]), None)
            if failed is not None:
                source = groups[failed]
                where = f"{source.sheet}!{coordinate(source.row0, source.col)}"
                self._not_computable(group, f"依赖无法计算的单元格 {where} "
                                            f"(depends on a cell that cannot be computed)")
                continue
            ok[gid] = self._evaluate(group)
        return self.result

    # --- loading and bookkeeping ----------------------------------------------------------

    def _load_and_group(self) -> list[Group]:
        """Formulas into groups, and the inputs of the sheets they use into the stores (each
        formula cell located once)."""
        built = build_groups(self.book, self.known, self.group_rows)
        self._load(sheets_in_use(built))
        groups: list[Group] = []
        for group in built:
            groups.extend(split_rows(group) if group.row_by_row else [group])
        return groups

    def _load(self, used: set[str]) -> None:
        """The input cells of the ``used`` sheets into their stores."""
        for sheet in self.book.sheets.values():
            if sheet.name not in used:
                continue
            store = self.stores[sheet.name] = SheetStore(sheet.name)
            for row, col in store.load(sheet.values, skip=sheet.formulas):
                self.input_errors[id(store.columns[col].obj[row])] = (sheet.name, row, col)
            store.max_row = max(store.max_row, sheet.formulas.last_row())

    def _not_computable(self, group: Group, message: str) -> None:
        for row, col in group.cells():
            self.result.not_computable.append(Problem(group.sheet, coordinate(row, col), message))

    def _note_error(self, sheet: str, row: int, col: int, err: object, fresh: set[int]) -> None:
        key = id(err)
        if key in self.propagated:
            return
        message = err.message if isinstance(err, KpiError) else str(err)
        origin = self.input_errors.get(key)
        if origin is not None:
            if key not in self.reported_inputs:
                self.reported_inputs.add(key)
                self.result.problems.append(Problem(origin[0], coordinate(origin[1], origin[2]),
                                                    message))
            return
        self.result.problems.append(Problem(sheet, coordinate(row, col), message))
        fresh.add(key)

    # --- evaluation -----------------------------------------------------------------------

    def _evaluate(self, group: Group) -> bool:
        assert group.ast is not None
        ctx = Context(group.sheet, group.col, np.empty(0, dtype=np.int64), self.stores,
                      BUILTINS, self.registry.call)
        work = self.work.get(id(group.ast))
        if work is None:
            work = self.work[id(group.ast)] = array_work(group.ast)
        chunk = group.count if work == 0 else max(1, self.chunk_elements // work)
        try:
            blocks = []
            for start in range(0, group.count, chunk):
                stop = min(group.count, start + chunk)
                ctx.rows = np.arange(group.row0 + start, group.row0 + stop, dtype=np.int64)
                blocks.append(evaluate(group.ast, ctx))
            if group.target is not None:
                self._place_array(group, blocks[0], group.target)
            elif blocks[0].is_array:
                raise NotComputable(PLAIN_ARRAY)
            else:
                errors: list[tuple[int, int, object]] = []
                for start, block in zip(range(0, group.count, chunk), blocks, strict=True):
                    count = min(chunk, group.count - start)
                    errors += self._write_run(group.sheet, group.col, group.row0 + start,
                                              block.broadcast((count, 1, 1)))
                self._note_errors(group.sheet, errors)
        except NotComputable as exc:
            self._not_computable(group, f"无法计算 (not computable): {exc}")
            return False
        except Exception as exc:  # never a wrong number: an engine fault leaves no value
            self._not_computable(group, f"内部错误 (internal error): {type(exc).__name__}: {exc}")
            return False
        return True

    def _write_run(self, sheet: str, col: int, row0: int, block: Block
                   ) -> list[tuple[int, int, object]]:
        """Rows ``row0 …`` of a column get a ``(count, 1, 1)`` block (a blank result is 0).
        Returns the error cells (row, column, error)."""
        kind = block.kind.reshape(-1).copy()
        num = block.num.reshape(-1).copy()
        blank = kind == BLANK
        if blank.any():
            kind[blank] = NUM
            num[blank] = 0.0
        obj = None if block.obj is None else block.obj.reshape(-1)
        final = Block(num[:, None, None], kind[:, None, None],
                      None if obj is None else obj[:, None, None])
        self.stores[sheet].write(row0, col, final)
        if obj is None and not (kind != NUM).any():
            python = num.tolist()
        else:
            python = final.python().reshape(-1).tolist()
        self.result.values[sheet].column(col).put_run(row0, python)
        if obj is None:
            return []
        return [(row0 + index, col, obj[index]) for index in np.flatnonzero(kind == ERR).tolist()]

    def _note_errors(self, sheet: str, errors: list[tuple[int, int, object]]) -> None:
        """List where the errors of newly computed cells arise."""
        fresh: set[int] = set()
        for row, col, err in errors:
            self._note_error(sheet, row, col, err, fresh)
        self.propagated |= fresh

    def _place_array(self, group: Group, block: Block,
                     target: tuple[int, int, int, int]) -> None:
        """An array formula's result into its range ``target``, each cell typed as its own
        value would be (a blank is 0)."""
        _, height, width = block.shape
        r1, c1, r2, c2 = target
        # a one-row or one-column result repeats across the range; beyond the result, #N/A
        rows = np.arange(r2 - r1 + 1) if height > 1 else np.zeros(r2 - r1 + 1, dtype=np.int64)
        cols = np.arange(c2 - c1 + 1) if width > 1 else np.zeros(c2 - c1 + 1, dtype=np.int64)
        cells = block.python()[0][np.minimum(rows, height - 1)[:, None],
                                  np.minimum(cols, width - 1)[None, :]]
        outside = (rows >= height)[:, None] | (cols >= width)[None, :]
        if outside.any():
            cells[outside] = error("#N/A", "数组结果小于填充区域",
                                   "the array result is smaller than its range")
        cells[~present(cells)] = 0.0
        typed = Block.from_values(cells)
        store = self.stores[group.sheet]
        values = self.result.values[group.sheet]
        for offset in range(c2 - c1 + 1):
            store.write(r1, c1 + offset, Block(typed.num[:, offset, None, None],
                                               typed.kind[:, offset, None, None],
                                               None if typed.obj is None else
                                               typed.obj[:, offset, None, None]))
            values.column(c1 + offset).put_run(r1, cells[:, offset].tolist())
        errors = [(r1 + int(i), c1 + int(j), cells[i, j])
                  for i, j in np.argwhere(typed.kind == ERR)
                  if isinstance(cells[i, j], KpiError)]
        self._note_errors(group.sheet, errors)
