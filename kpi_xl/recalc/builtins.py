"""Excel functions over blocks: logic, maths, aggregates, text.

Every function takes the evaluation context and its evaluated arguments (``None`` for an
omitted one) and returns a block; a per-row argument gives a per-row result. Lookups live in
:mod:`kpi_xl.recalc.lookup`, the ``…IF(S)`` family in :mod:`kpi_xl.recalc.criteria`.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal
from functools import lru_cache

import numpy as np

from kpi_xl.core.values import shown_decimal
from kpi_xl.recalc.block import (
    BLANK,
    BOOL,
    ERR,
    NUM,
    TEXT,
    Block,
    NotComputable,
    div0,
    first_error_per_row,
    merge_errors,
    number_to_text,
    numeric_result,
    select,
    texts_result,
    to_numbers,
    to_texts,
    value_error,
    with_errors,
)
from kpi_xl.recalc.evaluate import Builtin, binary, broadcast_shape, compare
from kpi_xl.recalc.evaluate import Context as EvalContext

Args = list[Block | None]


def arity(name: str, args: Args, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        raise NotComputable(f"{name}: wrong number of arguments")


def required(args: Args, index: int) -> Block:
    """An argument that may be written empty (``IF(A1,,1)``): empty means 0."""
    block = args[index] if index < len(args) else None
    return Block.of(0.0) if block is None else block


def error_mask(block: Block) -> tuple[np.ndarray | None, np.ndarray | None]:
    mask = block.kind == ERR
    return (mask, block.obj) if block.obj is not None and mask.any() else (None, None)


def to_bools(block: Block) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Conditions: numbers ≠ 0, booleans, blank = FALSE, text "TRUE"/"FALSE"; else #VALUE!."""
    flags = (block.num != 0) & ((block.kind == NUM) | (block.kind == BOOL))
    mask, obj = error_mask(block)
    texts = np.nonzero((block.kind == TEXT).reshape(-1))[0]
    if texts.size:
        flags = flags.copy()
        mask = np.zeros(block.shape, bool) if mask is None else mask.copy()
        obj = np.full(block.shape, None, object) if obj is None else obj.copy()
        flat_flags, flat_mask, flat_obj = flags.reshape(-1), mask.reshape(-1), obj.reshape(-1)
        source = block.obj.reshape(-1)  # type: ignore[union-attr]
        bad = value_error("条件应为真假值, 收到文本", "a condition must be TRUE/FALSE, got text")
        for index in texts.tolist():
            word = str(source[index]).strip().upper()
            if word in ("TRUE", "FALSE"):
                flat_flags[index] = word == "TRUE"
            else:
                flat_mask[index] = True
                flat_obj[index] = bad
    return flags, mask, obj


# --- logic ---------------------------------------------------------------------------------

def fn_if(ctx: EvalContext, args: Args) -> Block:
    arity("IF", args, 1, 3)
    condition = required(args, 0)
    flags, mask, obj = to_bools(condition)
    yes = required(args, 1)
    no = Block.bools(np.array([[[False]]])) if len(args) < 3 else required(args, 2)
    result = select(flags, yes, no)
    return with_errors(result, mask, obj) if mask is not None else result


def fn_iferror(ctx: EvalContext, args: Args) -> Block:
    arity("IFERROR", args, 2)
    value = required(args, 0)
    return select(value.kind == ERR, required(args, 1), value)


def fn_ifna(ctx: EvalContext, args: Args) -> Block:
    arity("IFNA", args, 2)
    value = required(args, 0)
    return select(_is_na(value), required(args, 1), value)


def _is_na(block: Block) -> np.ndarray:
    mask = block.kind == ERR
    if not mask.any():
        return mask
    flat = mask.reshape(-1).copy()
    objs = block.obj.reshape(-1)  # type: ignore[union-attr]
    for index in np.nonzero(flat)[0].tolist():
        flat[index] = getattr(objs[index], "code", None) == "#N/A"
    return flat.reshape(block.shape)


def _is_kind(*kinds: int) -> Builtin:
    def test(ctx: EvalContext, args: Args) -> Block:
        arity("IS…", args, 1)
        return Block.bools(np.isin(required(args, 0).kind, kinds))
    return test


def fn_isna(ctx: EvalContext, args: Args) -> Block:
    arity("ISNA", args, 1)
    return Block.bools(_is_na(required(args, 0)))


def fn_not(ctx: EvalContext, args: Args) -> Block:
    arity("NOT", args, 1)
    flags, mask, obj = to_bools(required(args, 0))
    result = Block.bools(~flags)
    return with_errors(result, mask, obj) if mask is not None else result


def _logical(name: str) -> Builtin:
    def reduce(ctx: EvalContext, args: Args) -> Block:
        if not args:
            raise NotComputable(f"{name}: needs arguments")
        n = max(b.n for b in args if b is not None)
        any_true = np.zeros(n, bool)
        all_true = np.ones(n, bool)
        seen = np.zeros(n, bool)
        has_err = np.zeros(n, bool)
        first = np.full(n, None, object)
        for block in args:
            if block is None:
                continue
            if block.is_ref or block.is_array:
                valid = (block.kind == NUM) | (block.kind == BOOL)
                flags = block.num != 0
                has, errs = first_error_per_row(block)
            else:
                flags, mask, obj = to_bools(block)
                valid = block.kind != BLANK
                has, errs = first_error_per_row(with_errors(block, mask, obj)) if mask is not \
                    None else (np.zeros(block.n, bool), np.full(block.n, None, object))
            valid2 = np.broadcast_to(valid.reshape(block.n, -1), (n, block.cells))
            flags2 = np.broadcast_to(flags.reshape(block.n, -1), (n, block.cells))
            any_true |= (valid2 & flags2).any(axis=1)
            all_true &= (~valid2 | flags2).all(axis=1)
            seen |= valid2.any(axis=1)
            has = np.broadcast_to(has, n)
            fresh = has & ~has_err
            first[fresh] = np.broadcast_to(errs, n)[fresh]
            has_err |= has
        result = Block.bools((any_true if name == "OR" else all_true)[:, None, None])
        none = ~seen & ~has_err
        if none.any():
            fresh_err = value_error(f"{name} 没有真假值", f"{name} has no logical values")
            first[none] = fresh_err
            has_err = has_err | none
        if has_err.any():
            result = with_errors(result, has_err[:, None, None], first[:, None, None])
        return result
    return reduce


def fn_ifs(ctx: EvalContext, args: Args) -> Block:
    if len(args) < 2 or len(args) % 2:
        raise NotComputable("IFS: needs condition/value pairs")
    shape = broadcast_shape(*(required(args, i) for i in range(len(args))))
    from kpi_xl.recalc.block import na_error
    result = Block.of(na_error("IFS 没有满足的条件", "no IFS condition is true")).broadcast(shape)
    for index in range(len(args) - 2, -1, -2):  # last pair first, so earlier pairs win
        flags, mask, obj = to_bools(required(args, index))
        result = select(flags, required(args, index + 1), result)
        if mask is not None:
            result = with_errors(result, mask, obj)
    return result


def fn_switch(ctx: EvalContext, args: Args) -> Block:
    if len(args) < 3:
        raise NotComputable("SWITCH: needs a value and at least one case")
    from kpi_xl.recalc.block import na_error
    subject = required(args, 0)
    cases = args[1:]
    default = cases.pop() if len(cases) % 2 else None
    result = default if default is not None else Block.of(
        na_error("SWITCH 没有匹配的值", "no SWITCH case matches"))
    for index in range(len(cases) - 2, -1, -2):
        test = compare("=", subject, required(cases, index))
        result = select(test.num != 0, required(cases, index + 1), result)
    mask, obj = error_mask(subject)
    return with_errors(result, mask, obj) if mask is not None else result


# --- maths ---------------------------------------------------------------------------------

_DECIMAL = Context(prec=400)


@lru_cache(maxsize=64)
def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def excel_round(value: float, digits: int, mode: str = ROUND_HALF_UP) -> float:
    """Round as Excel does: on its 15-digit decimal value, half away from zero."""
    if value == 0 or not np.isfinite(value):
        return value
    exact = shown_decimal(value)
    rounded = exact.quantize(_quantum(digits), rounding=mode, context=_DECIMAL)
    return float(rounded)


def _rounder(name: str, mode: str) -> Builtin:
    def rounding(ctx: EvalContext, args: Args) -> Block:
        arity(name, args, 1, 2)
        value = required(args, 0)
        digits = required(args, 1)
        shape = broadcast_shape(value, digits)
        vn, vm, vo = to_numbers(value)
        dn, dm, do = to_numbers(digits)
        mask, obj = merge_errors([(vm, vo), (dm, do)], shape)
        values = np.ascontiguousarray(np.broadcast_to(vn, shape), dtype=np.float64).reshape(-1)
        digits = np.broadcast_to(np.trunc(np.nan_to_num(dn)), shape).reshape(-1)
        return numeric_result(_rounded(values, digits, mode).reshape(shape), mask, obj)
    return rounding


def _rounded(values: np.ndarray, digits: np.ndarray, mode: str) -> np.ndarray:
    """:func:`excel_round` of each value, computed once per distinct value (to the bit) and
    number of digits."""
    first: dict[tuple[int, float], int] = {}  # each distinct pair → where it first appears
    pairs = zip(values.view(np.int64).tolist(), digits.tolist(), strict=True)
    appears = np.fromiter(map(first.setdefault, pairs, range(values.shape[0])),
                          dtype=np.int64, count=values.shape[0])
    out = np.zeros(values.shape[0])
    for position in first.values():
        out[position] = excel_round(float(values[position]), int(digits[position]), mode)
    return out[appears]


def _elementwise(name: str, function) -> Builtin:  # type: ignore[no-untyped-def]
    def apply(ctx: EvalContext, args: Args) -> Block:
        arity(name, args, 1)
        num, mask, obj = to_numbers(required(args, 0))
        with np.errstate(all="ignore"):
            return numeric_result(function(num), mask, obj)
    return apply


def fn_mod(ctx: EvalContext, args: Args) -> Block:
    arity("MOD", args, 2)
    left, right = required(args, 0), required(args, 1)
    shape = broadcast_shape(left, right)
    ln, lm, lo = to_numbers(left)
    rn, rm, ro = to_numbers(right)
    mask, obj = merge_errors([(lm, lo), (rm, ro)], shape)
    with np.errstate(all="ignore"):
        result = np.broadcast_to(ln - rn * np.floor(ln / rn), shape)
    zero = np.broadcast_to(rn == 0, shape)
    if mask is not None:
        zero = zero & ~mask
    block = numeric_result(np.where(zero, 0.0, result), mask, obj)
    return with_errors(block, zero, div0()) if zero.any() else block


def fn_value(ctx: EvalContext, args: Args) -> Block:
    arity("VALUE", args, 1)
    num, mask, obj = to_numbers(required(args, 0))
    return numeric_result(num, mask, obj)


# --- aggregates ----------------------------------------------------------------------------

def collect(args: Args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All numbers of aggregate arguments per row: (values (n,k), valid (n,k), nonblank (n,k),
    has error (n,), first error (n,)). Ranges and arrays keep only numbers; single values are
    coerced (text → number or #VALUE!, TRUE → 1)."""
    blocks = [b for b in args if b is not None]
    n = max((b.n for b in blocks), default=1)
    values, valid, nonblank = [], [], []
    has_err = np.zeros(n, bool)
    first = np.full(n, None, object)
    for block in blocks:
        if block.is_ref or block.is_array:
            num = block.num
            ok = block.kind == NUM
            has, errs = first_error_per_row(block)
        else:
            num, mask, obj = to_numbers(block)
            ok = np.ones(block.shape, bool) if mask is None else ~mask
            if mask is None:
                has, errs = np.zeros(block.n, bool), np.full(block.n, None, object)
            else:
                has, errs = mask.reshape(block.n, -1).any(axis=1), obj.reshape(block.n, -1)[:, 0]
        size = block.cells
        values.append(np.broadcast_to(num.reshape(block.n, size), (n, size)))
        valid.append(np.broadcast_to(ok.reshape(block.n, size), (n, size)))
        nonblank.append(np.broadcast_to((block.kind != BLANK).reshape(block.n, size), (n, size)))
        has = np.broadcast_to(has, n)
        fresh = has & ~has_err
        first[fresh] = np.broadcast_to(errs, n)[fresh]
        has_err |= has
    if not values:
        empty = np.zeros((n, 0))
        return empty, empty.astype(bool), empty.astype(bool), has_err, first
    return (np.concatenate(values, axis=1), np.concatenate(valid, axis=1),
            np.concatenate(nonblank, axis=1), has_err, first)


def _with_row_errors(result: Block, has: np.ndarray, first: np.ndarray) -> Block:
    if not has.any():
        return result
    return with_errors(result, has[:, None, None], first[:, None, None])


def fn_sum(ctx: EvalContext, args: Args) -> Block:
    values, valid, _, has, first = collect(args)
    total = np.where(valid, values, 0.0).sum(axis=1)
    return _with_row_errors(Block.numbers(total[:, None, None]), has, first)


def _extreme(name: str) -> Builtin:
    def extreme(ctx: EvalContext, args: Args) -> Block:
        values, valid, _, has, first = collect(args)
        fill = np.inf if name == "MIN" else -np.inf
        masked = np.where(valid, values, fill)
        result = masked.min(axis=1) if name == "MIN" else masked.max(axis=1)
        result = np.where(valid.any(axis=1), result, 0.0)
        return _with_row_errors(Block.numbers(result[:, None, None]), has, first)
    return extreme


def fn_average(ctx: EvalContext, args: Args) -> Block:
    values, valid, _, has, first = collect(args)
    count = valid.sum(axis=1)
    total = np.where(valid, values, 0.0).sum(axis=1)
    empty = count == 0
    result = Block.numbers(np.where(empty, 0.0, total / np.maximum(count, 1))[:, None, None])
    if empty.any():
        fresh = empty & ~has
        first = first.copy()
        first[fresh] = div0()
        has = has | empty
    return _with_row_errors(result, has, first)


def fn_count(ctx: EvalContext, args: Args) -> Block:
    _, valid, _, _, _ = collect(args)
    return Block.numbers(valid.sum(axis=1).astype(np.float64)[:, None, None])


def fn_counta(ctx: EvalContext, args: Args) -> Block:
    _, _, nonblank, _, _ = collect(args)
    return Block.numbers(nonblank.sum(axis=1).astype(np.float64)[:, None, None])


def fn_sumproduct(ctx: EvalContext, args: Args) -> Block:
    blocks = [required(args, i) for i in range(len(args))]
    if not blocks:
        raise NotComputable("SUMPRODUCT: needs arguments")
    if len({b.shape[1:] for b in blocks}) != 1:
        return Block.of(value_error("SUMPRODUCT 的区域大小不一致",
                                    "SUMPRODUCT ranges differ in size"))
    n = max(b.n for b in blocks)
    product = np.ones((n, *blocks[0].shape[1:]))
    has_err = np.zeros(n, bool)
    first = np.full(n, None, object)
    for block in blocks:
        product = product * np.where(block.kind == NUM, block.num, 0.0)
        has, errs = first_error_per_row(block)
        has = np.broadcast_to(has, n)
        fresh = has & ~has_err
        first[fresh] = np.broadcast_to(errs, n)[fresh]
        has_err |= has
    total = product.reshape(n, -1).sum(axis=1)
    return _with_row_errors(Block.numbers(total[:, None, None]), has_err, first)


# --- text ----------------------------------------------------------------------------------

def _text_map(name: str, function, numeric: bool = False) -> Builtin:  # type: ignore[no-untyped-def]
    def apply(ctx: EvalContext, args: Args) -> Block:
        arity(name, args, 1)
        texts, mask, obj = to_texts(required(args, 0))
        mapped = np.frompyfunc(function, 1, 1)(texts)
        if numeric:
            return numeric_result(np.asarray(mapped, dtype=np.float64), mask, obj)
        return texts_result(np.asarray(mapped, dtype=object), mask, obj)
    return apply


def _trim(text: str) -> str:
    return re.sub(" +", " ", text).strip(" ")


def fn_concatenate(ctx: EvalContext, args: Args) -> Block:
    result = Block.of("")
    for index in range(len(args)):
        result = binary("&", result, required(args, index))
    return result


def fn_concat(ctx: EvalContext, args: Args) -> Block:
    blocks = [b for b in args if b is not None]
    n = max((b.n for b in blocks), default=1)
    parts = []
    has_err = np.zeros(n, bool)
    first = np.full(n, None, object)
    for block in blocks:
        texts, _, _ = to_texts(block)
        parts.append(np.broadcast_to(texts.reshape(block.n, -1), (n, block.cells)))
        has, errs = first_error_per_row(block)
        has = np.broadcast_to(has, n)
        fresh = has & ~has_err
        first[fresh] = np.broadcast_to(errs, n)[fresh]
        has_err |= has
    joined = np.array(["".join(row) for row in np.concatenate(parts, axis=1).tolist()]
                      if parts else [""] * n, dtype=object)
    return _with_row_errors(texts_result(joined[:, None, None], None, None), has_err, first)


_NUMBER_FORMAT = re.compile(r"^(#,##)?0(?:\.(0+))?(%?)$")
_GENERAL = frozenset({"GENERAL", "G/通用格式", "@", ""})


def format_number(value: float, pattern: str) -> str:
    """TEXT for the plain formats (``0``, ``0.00``, ``#,##0.00``, ``0.0%``, General)."""
    if pattern.strip().upper() in _GENERAL:
        return number_to_text(value)
    match = _NUMBER_FORMAT.match(pattern.strip())
    if match is None:
        raise NotComputable(f"TEXT format {pattern!r} is not supported")
    grouping, decimals, percent = match.groups()
    places = len(decimals or "")
    if percent:
        value = float(shown_decimal(value) * 100)
    rounded = excel_round(value, places)
    text = f"{abs(rounded):,.{places}f}" if grouping else f"{abs(rounded):.{places}f}"
    sign = "-" if rounded < 0 else ""
    return f"{sign}{text}{'%' if percent else ''}"


def fn_text(ctx: EvalContext, args: Args) -> Block:
    arity("TEXT", args, 2)
    value, pattern = required(args, 0), required(args, 1)
    shape = broadcast_shape(value, pattern)
    v = value.broadcast(shape)
    patterns, pm, po = to_texts(pattern)
    patterns = np.broadcast_to(patterns, shape).reshape(-1)
    texts, _, _ = to_texts(v)
    out = np.empty(shape, dtype=object)
    flat_out = out.reshape(-1)
    kinds = v.kind.reshape(-1).tolist()
    nums = v.num.reshape(-1).tolist()
    flat_texts = texts.reshape(-1)
    for index, (kind, number) in enumerate(zip(kinds, nums, strict=True)):
        if kind in (NUM, BLANK):
            flat_out[index] = format_number(number, str(patterns[index]))
        else:
            flat_out[index] = flat_texts[index]
    vm, vo = error_mask(v)
    mask, obj = merge_errors([(vm, vo), (pm, po)], shape)
    return texts_result(out, mask, obj)


def fn_round_int(ctx: EvalContext, args: Args) -> Block:
    return _elementwise("INT", np.floor)(ctx, args)


BUILTINS: dict[str, Builtin] = {
    "IF": fn_if,
    "IFERROR": fn_iferror,
    "IFNA": fn_ifna,
    "IFS": fn_ifs,
    "SWITCH": fn_switch,
    "ISBLANK": _is_kind(BLANK),
    "ISNUMBER": _is_kind(NUM),
    "ISTEXT": _is_kind(TEXT),
    "ISLOGICAL": _is_kind(BOOL),
    "ISERROR": _is_kind(ERR),
    "ISNA": fn_isna,
    "AND": _logical("AND"),
    "OR": _logical("OR"),
    "NOT": fn_not,
    "ROUND": _rounder("ROUND", ROUND_HALF_UP),
    "ROUNDUP": _rounder("ROUNDUP", ROUND_UP),
    "ROUNDDOWN": _rounder("ROUNDDOWN", ROUND_DOWN),
    "INT": fn_round_int,
    "ABS": _elementwise("ABS", np.abs),
    "MOD": fn_mod,
    "VALUE": fn_value,
    "SUM": fn_sum,
    "MIN": _extreme("MIN"),
    "MAX": _extreme("MAX"),
    "AVERAGE": fn_average,
    "COUNT": fn_count,
    "COUNTA": fn_counta,
    "SUMPRODUCT": fn_sumproduct,
    "LEN": _text_map("LEN", len, numeric=True),
    "TRIM": _text_map("TRIM", _trim),
    "CONCAT": fn_concat,
    "CONCATENATE": fn_concatenate,
    "TEXT": fn_text,
}
