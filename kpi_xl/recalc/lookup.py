"""RANK, INDEX, MATCH, VLOOKUP, HLOOKUP, LOOKUP over a fixed table and per-row keys.

The table is read once per call (a sort or a dict), then every row's key is looked up:
one evaluation for a whole column of ``=RANK(F5,$F$5:$F$200)``.
"""

from __future__ import annotations

import bisect

import numpy as np

from kpi_xl.recalc.block import (
    BOOL,
    ERR,
    NUM,
    TEXT,
    Block,
    NotComputable,
    na_error,
    ref_error,
    to_numbers,
    value_error,
    with_errors,
)
from kpi_xl.recalc.criteria import _stack, _wildcard_regex
from kpi_xl.recalc.evaluate import Builtin, Context

Args = list[Block | None]


def _arg(args: Args, index: int, default: object = None) -> Block | None:
    block = args[index] if index < len(args) else None
    if block is None and default is not None:
        return Block.of(default)
    return block


def _per_row(function: Builtin, ctx: Context, args: Args) -> Block:
    n = max(b.n for b in args if b is not None)
    return _stack([function(ctx, [None if b is None else b.rows(i, i + 1) for b in args])
                   for i in range(n)])


def _finish(values: np.ndarray, errors: np.ndarray) -> Block:
    block = Block.numbers(values[:, None, None])
    has = np.not_equal(errors, None)
    return with_errors(block, has[:, None, None], errors[:, None, None]) if has.any() else block


def fn_rank(ctx: Context, args: Args) -> Block:
    if len(args) not in (2, 3) or args[0] is None or args[1] is None:
        raise NotComputable("RANK: needs a number and a range")
    number, table = args[0], args[1]
    order = _arg(args, 2, 0.0)
    assert order is not None
    if table.n > 1 or order.n > 1:
        return _per_row(fn_rank, ctx, args)
    values = np.sort(table.num.reshape(-1)[table.kind.reshape(-1) == NUM])
    n = number.n
    x = number.num.reshape(n, -1)[:, 0]
    kind = number.kind.reshape(n, -1)[:, 0]
    left = np.searchsorted(values, x, "left")
    right = np.searchsorted(values, x, "right")
    ascending = bool(order.num.reshape(-1)[0] != 0)
    rank = (left + 1) if ascending else (values.shape[0] - right + 1)
    errors = np.full(n, None, object)
    missing = (kind == NUM) & (right == left)
    if missing.any():
        errors[missing] = na_error("RANK 的数值不在区域中", "RANK: the number is not in the range")
    wrong = (kind != NUM) & (kind != ERR)
    if wrong.any():
        errors[wrong] = value_error("RANK 需要数字", "RANK needs a number")
    is_err = kind == ERR
    if is_err.any():
        errors[is_err] = number.obj.reshape(n, -1)[is_err, 0]  # type: ignore[union-attr]
    return _finish(rank.astype(np.float64), errors)


def _key(kind: int, number: float, obj: object) -> tuple[str, object] | None:
    if kind == NUM:
        return ("n", number)
    if kind == TEXT:
        return ("t", str(obj).casefold())
    if kind == BOOL:
        return ("b", number)
    return None


class _Vector:
    """A 1-D lookup vector read once: exact-match dict and sorted views per type."""

    def __init__(self, kind: np.ndarray, num: np.ndarray, obj: np.ndarray) -> None:
        self.kind, self.num, self.obj = kind, num, obj
        self.first: dict[tuple[str, object], int] = {}
        for position, key in enumerate(map(_key, kind.tolist(), num.tolist(), obj.tolist())):
            if key is not None:
                self.first.setdefault(key, position)
        self.numeric_positions = np.nonzero(kind == NUM)[0]
        self.numeric_values = num[self.numeric_positions]
        self.text_positions = np.nonzero(kind == TEXT)[0]
        self.text_values = [str(obj[p]).casefold() for p in self.text_positions.tolist()]

    def find(self, kind: int, number: float, obj: object, mode: int) -> int:
        """0-based position, or -1 when not found."""
        if mode == 0:
            if kind == TEXT and any(c in str(obj) for c in "*?"):
                regex = _wildcard_regex(str(obj))
                for position, (k, o) in enumerate(zip(self.kind.tolist(), self.obj.tolist(),
                                                      strict=True)):
                    if k == TEXT and regex.fullmatch(str(o)):
                        return position
                return -1
            key = _key(kind, number, obj)
            return -1 if key is None else self.first.get(key, -1)
        if kind == NUM:
            values, positions = self.numeric_values, self.numeric_positions
            if mode > 0:
                index = int(np.searchsorted(values, number, "right")) - 1
                return int(positions[index]) if index >= 0 else -1
            reversed_values = values[::-1]
            index = int(np.searchsorted(reversed_values, number, "left"))
            return int(positions[::-1][index]) if index < len(values) else -1
        if kind == TEXT:
            text = str(obj).casefold()
            if mode > 0:
                index = bisect.bisect_right(self.text_values, text) - 1
                return int(self.text_positions[index]) if index >= 0 else -1
            reversed_texts = self.text_values[::-1]
            index = bisect.bisect_left(reversed_texts, text)
            return int(self.text_positions[::-1][index]) if index < len(reversed_texts) else -1
        return -1


def _vector(block: Block, what: str) -> _Vector:
    if block.shape[1] != 1 and block.shape[2] != 1:
        raise NotComputable(f"{what}: the lookup range must be one row or one column")
    return _Vector(block.kind.reshape(-1), block.num.reshape(-1), block.objects().reshape(-1))


def _positions(keys: Block, vector: _Vector, mode: int, what: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per row: 0-based position (−1 when missing) and the error to show (or None)."""
    n = keys.n
    if keys.is_array:
        raise NotComputable(f"{what} with an array of lookup values")
    kinds = keys.kind.reshape(-1).tolist()
    nums = keys.num.reshape(-1).tolist()
    objs = keys.objects().reshape(-1).tolist()
    positions = np.full(n, -1, dtype=np.int64)
    errors = np.full(n, None, object)
    missing = None
    cache: dict[tuple[int, float, object], int] = {}
    for row, (k, x, o) in enumerate(zip(kinds, nums, objs, strict=True)):
        if k == ERR:
            errors[row] = o
            continue
        key = (k, x, o)
        found = cache.get(key)
        if found is None:
            found = cache[key] = vector.find(k, x, o, mode)
        if found < 0:
            missing = missing or na_error(f"{what} 找不到查找值", f"{what}: lookup value not found")
            errors[row] = missing
        positions[row] = found
    return positions, errors


def _mode(block: Block | None, default: int, what: str) -> int:
    if block is None:
        return default
    if block.n > 1 or block.is_array:
        raise NotComputable(f"{what}: the match type must be the same for every row")
    number, mask, _ = to_numbers(block)
    if mask is not None:
        raise NotComputable(f"{what}: invalid match type")
    value = float(number.reshape(-1)[0])
    return 0 if value == 0 else (1 if value > 0 else -1)


def fn_match(ctx: Context, args: Args) -> Block:
    if len(args) not in (2, 3) or args[0] is None or args[1] is None:
        raise NotComputable("MATCH: needs a value and a range")
    if args[1].n > 1:
        return _per_row(fn_match, ctx, args)
    mode = _mode(_arg(args, 2), 1, "MATCH")
    positions, errors = _positions(args[0], _vector(args[1], "MATCH"), mode, "MATCH")
    return _finish((positions + 1).astype(np.float64), errors)


def _pick(table: Block, rows: np.ndarray, cols: np.ndarray, errors: np.ndarray) -> Block:
    """Elements ``table[row, col]`` per evaluated row, with errors where given."""
    n = rows.shape[0]
    which = np.arange(n) if table.n > 1 else np.zeros(n, dtype=np.int64)
    ok = np.equal(errors, None)
    r = np.where(ok, rows, 0)
    c = np.where(ok, cols, 0)
    num = table.num[which, r, c]
    kind = table.kind[which, r, c]
    obj = None if table.obj is None else table.obj[which, r, c]
    block = Block(num[:, None, None], kind[:, None, None],
                  None if obj is None else obj[:, None, None])
    has = ~ok
    return with_errors(block, has[:, None, None], errors[:, None, None]) if has.any() else block


def _indices(block: Block | None, n: int, limit: int, errors: np.ndarray,
             what: str) -> np.ndarray:
    """1-based index argument → 0-based ints; bad ones set an error in ``errors``."""
    if block is None:
        return np.zeros(n, dtype=np.int64)
    if block.is_array:
        raise NotComputable(f"{what} with an array of indices")
    number, mask, obj = to_numbers(block)
    number = np.broadcast_to(number.reshape(-1), n)
    index = np.trunc(np.nan_to_num(number)).astype(np.int64)
    if mask is not None:
        bad = np.broadcast_to(mask.reshape(-1), n) & np.equal(errors, None)
        errors[bad] = np.broadcast_to(obj.reshape(-1), n)[bad]  # type: ignore[union-attr]
    out_of_range = ((index < 1) | (index > limit)) & np.equal(errors, None)
    if out_of_range.any():
        errors[out_of_range] = ref_error()
    return index - 1


def fn_index(ctx: Context, args: Args) -> Block:
    if len(args) not in (2, 3) or args[0] is None:
        raise NotComputable("INDEX: needs an array and an index")
    table = args[0]
    row_arg, col_arg = args[1], _arg(args, 2)
    _, height, width = table.shape
    if col_arg is None and height == 1:
        row_arg, col_arg = None, row_arg
    for block in (row_arg, col_arg):
        if block is not None and block.n == 1 and not block.is_array and \
                block.kind.reshape(-1)[0] == NUM and block.num.reshape(-1)[0] == 0:
            raise NotComputable("INDEX with row or column 0 (a whole row/column)")
    n = max(b.n for b in (table, row_arg, col_arg) if b is not None)
    errors = np.full(n, None, object)
    rows = _indices(row_arg, n, height, errors, "INDEX") if row_arg is not None else \
        np.zeros(n, dtype=np.int64)
    cols = _indices(col_arg, n, width, errors, "INDEX") if col_arg is not None else \
        np.zeros(n, dtype=np.int64)
    if (row_arg is None and height > 1) or (col_arg is None and width > 1):
        raise NotComputable("INDEX of a 2-D range needs a row and a column")
    return _pick(table, rows, cols, errors)


def _table_lookup(name: str, vertical: bool) -> Builtin:
    def lookup(ctx: Context, args: Args) -> Block:
        if len(args) not in (3, 4) or any(a is None for a in args[:3]):
            raise NotComputable(f"{name}: needs a value, a table and an index")
        keys, table, which = args[0], args[1], args[2]
        assert keys is not None and table is not None and which is not None
        if table.n > 1:
            return _per_row(lookup, ctx, args)
        approximate = _arg(args, 3)
        mode = 1
        if approximate is not None:
            number, mask, _ = to_numbers(approximate)
            if approximate.n > 1 or mask is not None:
                raise NotComputable(f"{name}: the match type must be the same for every row")
            mode = 1 if number.reshape(-1)[0] != 0 else 0
        first = table.rows(0, 1)
        head = Block(first.num[:, :, :1], first.kind[:, :, :1],
                     None if first.obj is None else first.obj[:, :, :1]) if vertical else \
            Block(first.num[:, :1, :], first.kind[:, :1, :],
                  None if first.obj is None else first.obj[:, :1, :])
        positions, errors = _positions(keys, _vector(head, name), mode, name)
        n = positions.shape[0]
        limit = table.shape[2] if vertical else table.shape[1]
        n_all = max(n, which.n)
        if n_all != n:
            positions = np.broadcast_to(positions, n_all).copy()
            errors = np.broadcast_to(errors, n_all).copy()
        picks = _indices(which, n_all, limit, errors, name)
        if vertical:
            return _pick(table, positions, picks, errors)
        return _pick(table, picks, positions, errors)
    return lookup


def fn_lookup(ctx: Context, args: Args) -> Block:
    if len(args) not in (2, 3) or args[0] is None or args[1] is None:
        raise NotComputable("LOOKUP: needs a value and a vector")
    keys, vector = args[0], args[1]
    result = _arg(args, 2)
    if vector.n > 1 or (result is not None and result.n > 1):
        return _per_row(fn_lookup, ctx, args)
    _, height, width = vector.shape
    if result is None:
        if height > 1 and width > 1:
            wide = width > height
            search = Block(vector.num[:, :1, :], vector.kind[:, :1, :],
                           None if vector.obj is None else vector.obj[:, :1, :]) if wide else \
                Block(vector.num[:, :, :1], vector.kind[:, :, :1],
                      None if vector.obj is None else vector.obj[:, :, :1])
            result = Block(vector.num[:, -1:, :], vector.kind[:, -1:, :],
                           None if vector.obj is None else vector.obj[:, -1:, :]) if wide else \
                Block(vector.num[:, :, -1:], vector.kind[:, :, -1:],
                      None if vector.obj is None else vector.obj[:, :, -1:])
            vector = search
        else:
            result = vector
    positions, errors = _positions(keys, _vector(vector, "LOOKUP"), 1, "LOOKUP")
    flat = Block(result.num.reshape(1, -1, 1), result.kind.reshape(1, -1, 1),
                 None if result.obj is None else result.obj.reshape(1, -1, 1))
    too_far = (positions >= flat.shape[1]) & np.equal(errors, None)
    if too_far.any():
        errors[too_far] = na_error("LOOKUP 的结果区域太短", "LOOKUP: result vector too short")
    return _pick(flat, np.where(positions < flat.shape[1], positions, 0),
                 np.zeros_like(positions), errors)


LOOKUP_BUILTINS: dict[str, Builtin] = {
    "RANK": fn_rank,
    "RANK.EQ": fn_rank,
    "MATCH": fn_match,
    "INDEX": fn_index,
    "VLOOKUP": _table_lookup("VLOOKUP", vertical=True),
    "HLOOKUP": _table_lookup("HLOOKUP", vertical=False),
    "LOOKUP": fn_lookup,
}

_ = ERR
