"""Evaluate an AST over a run of rows at once: one pass, numpy throughout.

The same evaluator computes a single cell: that is just a run of one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kpi_xl.core.errors import KpiError
from kpi_xl.recalc.block import (
    BLANK,
    BOOL,
    ERR,
    NUM,
    TEXT,
    Block,
    NotComputable,
    div0,
    error,
    literal_error,
    merge_errors,
    numeric_result,
    texts_result,
    to_numbers,
    to_texts,
    with_errors,
)
from kpi_xl.recalc.parser import (
    ArrayLiteral,
    Binary,
    Call,
    ErrorLiteral,
    Intersect,
    Literal,
    Missing,
    Name,
    Node,
    Percent,
    Ref,
    TopLeft,
    Unary,
)
from kpi_xl.recalc.store import SheetStore

Builtin = Callable[["Context", list["Block | None"]], Block]


@dataclass
class Context:
    """Where an evaluation happens: a sheet, a column, and the rows being computed."""

    sheet: str
    col: int
    rows: np.ndarray
    stores: dict[str, SheetStore]
    builtins: dict[str, Builtin]
    call_registry: Callable[[Context, str, list[Block | None]], Block] | None = None

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])


def evaluate(node: Node, ctx: Context) -> Block:
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise NotComputable(f"unsupported expression {type(node).__name__}")
    return handler(node, ctx)


def _literal(node: Literal, ctx: Context) -> Block:
    value = node.value
    if isinstance(value, ErrorLiteral):
        return Block.of(literal_error(value.code))
    return Block.of(value)


def _array(node: ArrayLiteral, ctx: Context) -> Block:
    values = np.array(
        [[literal_error(v.code) if isinstance(v, ErrorLiteral) else v for v in row]
         for row in node.rows], dtype=object)
    return Block.from_values(values[None, :, :])


def _missing(node: Missing, ctx: Context) -> Block:
    return Block.of(None)


def _name(node: Name, ctx: Context) -> Block:
    raise NotComputable(f"unknown name {node.name}")


def ref_rows(ref: Ref, ctx: Context) -> tuple[np.ndarray, int]:
    """Top row per evaluated row (or one top row) and the height of a reference."""
    store = ctx.stores[ref.sheet or ctx.sheet]
    if ref.whole_column:
        return np.array([1]), max(store.max_row, 1)
    if ref.rel1 and ref.rel2:
        return ctx.rows + ref.row1, ref.row2 - ref.row1 + 1
    if not ref.rel1 and not ref.rel2:
        return np.array([ref.row1]), ref.row2 - ref.row1 + 1
    if ctx.n != 1:
        raise NotComputable("a range with one moving end needs row-by-row evaluation")
    first = int(ctx.rows[0]) + ref.row1 if ref.rel1 else ref.row1
    second = int(ctx.rows[0]) + ref.row2 if ref.rel2 else ref.row2
    return np.array([min(first, second)]), abs(second - first) + 1


def _located(node: Ref, ctx: Context) -> tuple[SheetStore, np.ndarray, int] | None:
    """The store of a reference's sheet, its top row per evaluated row and its height;
    ``None`` where it starts above row 1 (a ``#REF!``)."""
    store = ctx.stores.get(node.sheet or ctx.sheet)
    if store is None:
        raise NotComputable(f"unknown sheet {node.sheet}")
    tops, height = ref_rows(node, ctx)
    return None if int(tops.min()) < 1 else (store, tops, height)


def _ref(node: Ref, ctx: Context) -> Block:
    located = _located(node, ctx)
    if located is None:
        return Block.of(literal_error("#REF!"))
    store, tops, height = located
    return store.gather(tops, height, node.col1, node.width)


def _intersect(node: Intersect, ctx: Context) -> Block:
    """The cell of a reference on each evaluated row (a one-row reference: on the formula's
    column); #VALUE! where the reference does not cross the row or column, as in Excel."""
    ref = node.ref
    located = _located(ref, ctx)
    if located is None:
        return Block.of(literal_error("#REF!"))
    store, tops, height = located
    width = ref.width
    if width > 1 and not ref.col1 <= ctx.col <= ref.col2:
        return Block.of(_no_intersection())
    col = ctx.col if width > 1 else ref.col1
    if height == 1:
        return store.gather(tops, 1, col, 1)
    rows = ctx.rows
    block = store.gather(rows, 1, col, 1)
    if ref.whole_column:
        return block
    outside = (rows < tops) | (rows >= tops + height)
    if outside.any():
        return with_errors(block, outside[:, None, None], _no_intersection())
    return block


def _no_intersection() -> KpiError:
    return error("#VALUE!", "区域与公式所在的行或列不相交 (隐式交集)",
                 "implicit intersection: the range is not on the formula's row or column")


def _top_left(node: TopLeft, ctx: Context) -> Block:
    block = evaluate(node.operand, ctx)
    if not block.is_array:
        return block
    return Block(block.num[:, :1, :1], block.kind[:, :1, :1],
                 None if block.obj is None else block.obj[:, :1, :1])


def _unary(node: Unary, ctx: Context) -> Block:
    num, mask, obj = to_numbers(evaluate(node.operand, ctx))
    return numeric_result(-num, mask, obj)


def _percent(node: Percent, ctx: Context) -> Block:
    num, mask, obj = to_numbers(evaluate(node.operand, ctx))
    return numeric_result(num / 100.0, mask, obj)


def _binary(node: Binary, ctx: Context) -> Block:
    left = evaluate(node.left, ctx)
    right = evaluate(node.right, ctx)
    return binary(node.op, left, right)


def broadcast_shape(*blocks: Block) -> tuple[int, int, int]:
    try:
        return np.broadcast_shapes(*(b.shape for b in blocks))  # type: ignore[return-value]
    except ValueError as exc:
        raise NotComputable("arrays of different sizes in one operation") from exc


def binary(op: str, left: Block, right: Block) -> Block:
    if op in _ARITHMETIC:
        return arithmetic(op, left, right)
    if op == "&":
        shape = broadcast_shape(left, right)
        lt, lm, lo = to_texts(left)
        rt, rm, ro = to_texts(right)
        mask, obj = merge_errors([(lm, lo), (rm, ro)], shape)
        return texts_result(np.broadcast_to(lt, shape) + np.broadcast_to(rt, shape), mask, obj)
    return compare(op, left, right)


_ARITHMETIC = frozenset("+-*/^")


def arithmetic(op: str, left: Block, right: Block) -> Block:
    shape = broadcast_shape(left, right)
    ln, lm, lo = to_numbers(left)
    rn, rm, ro = to_numbers(right)
    with np.errstate(all="ignore"):
        if op == "+":
            result = ln + rn
        elif op == "-":
            result = ln - rn
        elif op == "*":
            result = ln * rn
        elif op == "/":
            result = ln / rn
        else:
            result = np.power(ln, rn)
            result = np.where((ln == 0) & (rn == 0), np.nan, result)  # 0^0 is #NUM!
    result = np.broadcast_to(result, shape)
    mask, obj = merge_errors([(lm, lo), (rm, ro)], shape)
    if op == "/" or op == "^":
        zero = np.broadcast_to((rn == 0) if op == "/" else ((ln == 0) & (rn < 0)), shape)
        if mask is not None:
            zero = zero & ~mask
        if zero.any():
            error = div0()
            if mask is None:
                mask, obj = zero.copy(), np.full(shape, None, dtype=object)
            else:
                mask = mask | zero
            obj[zero] = error
    return numeric_result(result, mask, obj)


_RANK = np.array([0, 1, 2, -1, -2], dtype=np.int8)  # NUM TEXT BOOL BLANK ERR


def compare(op: str, left: Block, right: Block) -> Block:
    """Excel comparison: numbers < text < booleans; blanks take the other side's type;
    text compares case-insensitively; numbers equal within 15 significant digits."""
    shape = broadcast_shape(left, right)
    ra, rb = _RANK[left.kind], _RANK[right.kind]
    ra, rb = np.where(ra == -1, np.where(rb == -1, 0, rb), ra), np.where(rb == -1, np.where(
        ra == -1, 0, ra), rb)
    order = np.sign(ra.astype(np.int64) - rb).astype(np.int64)
    numeric = (ra == rb) & ((ra == 0) | (ra == 2))
    if numeric.any():
        with np.errstate(all="ignore"):
            close = np.abs(left.num - right.num) <= 1e-15 * np.maximum(np.abs(left.num),
                                                                       np.abs(right.num))
            numeric_order = np.where(close, 0, np.sign(left.num - right.num)).astype(np.int64)
        order = np.where(numeric, numeric_order, order)
    texts = (ra == 1) & (rb == 1)
    if texts.any():
        order[texts] = _text_order(_texts_at(left, shape, texts), _texts_at(right, shape, texts))
    result = Block.bools(_ORDER_TESTS[op](order))
    errors = [(left.kind == ERR, left.obj), (right.kind == ERR, right.obj)]
    mask, obj = merge_errors([(m, o) for m, o in errors if o is not None and m.any()], shape)
    if mask is not None:
        result = with_errors(result, mask, obj)  # type: ignore[arg-type]
    return result


def _texts_at(block: Block, shape: tuple[int, int, int], where: np.ndarray) -> np.ndarray | str:
    """The texts of ``block`` (broadcast to ``shape``) where ``where`` holds; the text itself
    when the block is a single value."""
    if block.shape == (1, 1, 1) and shape != (1, 1, 1):
        return block.objects()[0, 0, 0] or ""
    return np.broadcast_to(block.objects(), shape)[where]


def _text_order(x: np.ndarray | str, y: np.ndarray | str) -> np.ndarray:
    """−1, 0 or 1 per pair of texts (at most one of them a single text), compared
    case-insensitively; ``None`` is empty text."""
    if isinstance(y, str) and not y:  # against empty text, as in the usual $A5="" guard
        return _nonempty(x)
    if isinstance(x, str) and not x:
        return -_nonempty(y)
    folded_x, folded_y = _folded(x), _folded(y)
    greater = np.asarray(folded_x > folded_y, dtype=np.int64)
    return greater - np.asarray(folded_x < folded_y, dtype=np.int64)


def _nonempty(texts: np.ndarray | str) -> np.ndarray:
    """1 where a text is not empty (nor ``None``), else 0."""
    return np.asarray(texts).astype(bool).astype(np.int64)


def _folded(texts: np.ndarray | str) -> np.ndarray | str:
    """Case-folded texts (``None`` as empty text), as an object array (or one text)."""
    if isinstance(texts, str):
        return texts.casefold()
    folded = np.empty(texts.shape[0], dtype=object)
    folded[:] = [(text or "").casefold() for text in texts.tolist()]
    return folded


_ORDER_TESTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "=": lambda o: o == 0,
    "<>": lambda o: o != 0,
    "<": lambda o: o < 0,
    ">": lambda o: o > 0,
    "<=": lambda o: o <= 0,
    ">=": lambda o: o >= 0,
}


def _call(node: Call, ctx: Context) -> Block:
    name = node.name
    if name in ("ROW", "COLUMN"):
        return _row_column(node, ctx)
    args = [None if isinstance(arg, Missing) else evaluate(arg, ctx) for arg in node.args]
    builtin = ctx.builtins.get(name)
    if builtin is not None:
        return builtin(ctx, args)
    if ctx.call_registry is not None:
        return ctx.call_registry(ctx, name, args)
    raise NotComputable(f"unsupported function {name}")


def _row_column(node: Call, ctx: Context) -> Block:
    if len(node.args) > 1:
        raise NotComputable(f"{node.name} takes at most one argument")
    if not node.args:
        if node.name == "ROW":
            return Block.numbers(ctx.rows.astype(np.float64)[:, None, None])
        return Block.numbers(np.array([[[float(ctx.col)]]]))
    ref = node.args[0]
    if not isinstance(ref, Ref):
        raise NotComputable(f"{node.name} of something other than a reference")
    if node.name == "COLUMN":
        cols = np.arange(ref.col1, ref.col2 + 1, dtype=np.float64)
        return Block.numbers(cols[None, None, :])
    tops, height = ref_rows(ref, ctx)
    rows = tops[:, None].astype(np.float64) + np.arange(height)[None, :]
    return Block.numbers(rows[:, :, None])


_HANDLERS: dict[type, Callable[[Node, Context], Block]] = {
    Literal: _literal,  # type: ignore[dict-item]
    ArrayLiteral: _array,  # type: ignore[dict-item]
    Missing: _missing,  # type: ignore[dict-item]
    Name: _name,  # type: ignore[dict-item]
    Ref: _ref,  # type: ignore[dict-item]
    Intersect: _intersect,  # type: ignore[dict-item]
    TopLeft: _top_left,  # type: ignore[dict-item]
    Unary: _unary,  # type: ignore[dict-item]
    Percent: _percent,  # type: ignore[dict-item]
    Binary: _binary,  # type: ignore[dict-item]
    Call: _call,  # type: ignore[dict-item]
}

__all__ = ["BLANK", "BOOL", "NUM", "TEXT", "Context", "binary", "compare", "evaluate"]
