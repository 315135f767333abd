"""COUNTIF(S), SUMIF(S), AVERAGEIF(S) with Excel's criteria: ``5``, ``">=60"``, ``"<>"``,
``"张*"`` (wildcards), ``""`` (blank).

Ranges are fixed in the usual case (``$B$5:$B$200``) while the criterion changes per row
(``">="&B5``, ``C5``); numeric criteria then take a sorted path (one sort, one
``searchsorted``) and equality criteria (a team name per row) a group-by (each range
factorised once, cells counted and summed per distinct key) instead of comparing every row's
criterion against every cell.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

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
    text_to_number,
    value_error,
    with_errors,
)
from kpi_xl.recalc.evaluate import Builtin, Context

Args = list[Block | None]

_OPS: dict[str, Callable[[object, object], object]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, ">": operator.gt,
    "<=": operator.le, ">=": operator.ge,
}
_PREFIX = re.compile(r"^(<=|>=|<>|=|<|>)?(.*)$", re.S)


@dataclass(frozen=True)
class Criterion:
    op: str
    kind: str
    """num, bool, text, blank (``"="``/``"<>"``), empty (``""``: blank or empty text)."""
    number: float = 0.0
    text: str = ""
    wildcard: bool = False


def parse_criterion(kind: int, number: float, obj: object) -> Criterion | KpiError:
    if kind == ERR:
        return obj  # type: ignore[return-value]
    if kind == BLANK:
        return Criterion("=", "num", 0.0)
    if kind == NUM:
        return Criterion("=", "num", number)
    if kind == BOOL:
        return Criterion("=", "bool", number)
    return _parse_text(str(obj))


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Criterion:
    """A criterion written as text: ``">=60"``, ``"张*"``, ``"Team A"``, ``""``."""
    match = _PREFIX.match(text)
    assert match is not None
    op, rest = match.group(1) or "=", match.group(2)
    if rest == "":
        if match.group(1) is None:
            return Criterion("=", "empty")
        if op in ("=", "<>"):
            return Criterion(op, "blank")
    parsed = text_to_number(rest)
    if parsed is not None:
        return Criterion(op, "num", parsed)
    if rest.upper() in ("TRUE", "FALSE"):
        return Criterion(op, "bool", float(rest.upper() == "TRUE"))
    wildcard = op in ("=", "<>") and re.search(r"(?<!~)[*?]", rest) is not None
    return Criterion(op, "text", text=rest.casefold() if not wildcard else rest,
                     wildcard=wildcard)


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "~" and index + 1 < len(pattern) and pattern[index + 1] in "*?~":
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.S | re.IGNORECASE)


@dataclass
class Cells:
    """A fixed criteria range, flattened; folded text is computed once, when first needed."""

    kind: np.ndarray
    num: np.ndarray
    raw: np.ndarray
    _folded: np.ndarray | None = None

    @classmethod
    def of(cls, block: Block) -> Cells:
        return cls(block.kind.reshape(-1), block.num.reshape(-1), block.objects().reshape(-1))

    @property
    def folded(self) -> np.ndarray:
        if self._folded is None:
            folded = np.full(self.raw.shape, None, dtype=object)
            texts = np.nonzero(self.kind == TEXT)[0]
            folded[texts] = [str(text).casefold() for text in self.raw[texts].tolist()]
            self._folded = folded
        return self._folded


def matches(criterion: Criterion, cells: Cells) -> np.ndarray:
    kind, num = cells.kind, cells.num
    op = criterion.op
    if criterion.kind == "num":
        if op == "<>":
            return ~((kind == NUM) & (num == criterion.number))
        return (kind == NUM) & _OPS[op](num, criterion.number)  # type: ignore[return-value]
    if criterion.kind == "bool":
        if op == "<>":
            return ~((kind == BOOL) & (num == criterion.number))
        return (kind == BOOL) & _OPS[op](num, criterion.number)  # type: ignore[return-value]
    if criterion.kind == "blank":
        return kind == BLANK if op == "=" else kind != BLANK
    if criterion.kind == "empty":
        return (kind == BLANK) | ((kind == TEXT) & (cells.folded == ""))
    is_text = kind == TEXT
    if criterion.wildcard:
        regex = _wildcard_regex(criterion.text)
        hit = np.array([isinstance(v, str) and regex.fullmatch(v) is not None
                        for v in cells.raw.tolist()], dtype=bool)
        return hit if op == "=" else ~hit
    if op in ("=", "<>"):
        target = criterion.text.replace("~*", "*").replace("~?", "?").replace("~~", "~")
        hit = is_text & (cells.folded == target)
        return hit if op == "=" else ~hit
    compare = _OPS[op]
    return np.array([k == TEXT and bool(compare(f, criterion.text))
                     for k, f in zip(kind.tolist(), cells.folded.tolist(), strict=True)],
                    dtype=bool)


def _aggregate(name: str, ctx: Context, ranges: list[Block], crits: list[Block],
               values: Block | None, mode: str) -> Block:
    if len({r.shape[1:] for r in ranges}) != 1 or (
            values is not None and values.shape[1:] != ranges[0].shape[1:]):
        return Block.of(value_error(f"{name} 的区域大小不一致", f"{name} ranges differ in size"))
    if any(c.is_array for c in crits):
        raise NotComputable(f"{name} with an array of criteria")
    blocks = [*ranges, *crits, *([values] if values is not None else [])]
    n = max(b.n for b in blocks)
    if any(r.n > 1 for r in ranges) or (values is not None and values.n > 1):
        rows = [_aggregate(name, ctx, [r.rows(i, i + 1) for r in ranges],
                           [c.rows(i, i + 1) for c in crits],
                           None if values is None else values.rows(i, i + 1), mode)
                for i in range(n)]
        return _stack(rows)
    cells = [Cells.of(r) for r in ranges]
    if values is not None:
        sum_num = np.where(values.kind.reshape(-1) == NUM, values.num.reshape(-1), 0.0)
        sum_err = values.kind.reshape(-1) == ERR
        sum_obj = values.objects().reshape(-1)
    result_num = np.zeros(n)
    result_err = np.full(n, None, object)
    rows_by_key = _rows_by_criteria(crits, n, result_err)
    fast = _sorted_path(cells[0], rows_by_key, values, n) if len(cells) == 1 else None
    if fast is None and values is not None:
        grouped = _grouped_path(cells, rows_by_key, sum_num, sum_err, sum_obj,
                                values.kind.reshape(-1) == NUM, n)
        if grouped is not None:
            fast, errors = grouped
            for rows, error_value in errors:
                result_err[rows] = error_value
    elif fast is None:
        grouped = _grouped_path(cells, rows_by_key, None, None, None, None, n)
        if grouped is not None:
            fast = grouped[0]
    if fast is not None:
        counts, sums, value_counts = fast
    else:
        counts = np.zeros(n)
        sums = np.zeros(n)
        value_counts = np.zeros(n)
        for key, rows in rows_by_key.items():
            mask = np.ones(cells[0].kind.shape[0], bool)
            for criterion, cell in zip(key, cells, strict=True):
                mask &= matches(criterion, cell)  # type: ignore[arg-type]
            counts[rows] = mask.sum()
            if values is not None:
                bad = mask & sum_err
                if bad.any():
                    result_err[rows] = sum_obj[int(np.argmax(bad))]
                sums[rows] = sum_num[mask].sum()
                value_counts[rows] = (mask & (values.kind.reshape(-1) == NUM)).sum()
    if mode == "count":
        result_num = counts
    elif mode == "sum":
        result_num = sums
    else:
        empty = (value_counts == 0) & np.equal(result_err, None)
        result_num = np.where(value_counts > 0, sums / np.maximum(value_counts, 1), 0.0)
        if empty.any():
            result_err[empty] = div0()
    block = Block.numbers(result_num[:, None, None])
    has = np.not_equal(result_err, None)
    return with_errors(block, has[:, None, None], result_err[:, None, None]) if has.any() \
        else block


def _criterion_codes(crit: Block, n: int) -> tuple[np.ndarray, dict[int, Criterion | KpiError]]:
    """Per row, a code for its criterion (the first row with the same criterion value) and
    each code's parsed criterion: a criterion is parsed once per distinct value, and an error
    value keeps its own object."""
    kinds = crit.kind.reshape(-1)
    tokens = crit.num.reshape(-1).astype(object)
    if crit.obj is not None:
        objs = crit.obj.reshape(-1)
        texts = kinds == TEXT
        tokens[texts] = objs[texts]
        errors = np.flatnonzero(kinds == ERR)
        tokens[errors] = np.fromiter(map(id, objs[errors]), dtype=np.int64, count=errors.size)
    first: dict[tuple[int, object], int] = {}
    codes = np.fromiter(map(first.setdefault, zip(kinds.tolist(), tokens.tolist(), strict=True),
                            range(crit.n)), dtype=np.int64, count=crit.n)
    parsed = {code: parse_criterion(int(kinds[code]), float(crit.num.flat[code]),
                                    None if crit.obj is None else crit.obj.flat[code])
              for code in first.values()}
    return np.broadcast_to(codes, n), parsed


def _rows_by_criteria(crits: list[Block], n: int, result_err: np.ndarray
                      ) -> dict[tuple[Criterion, ...], np.ndarray]:
    """The rows of each distinct combination of criteria, in order of first appearance. A row
    whose criteria hold an error gets the first of them in ``result_err`` instead."""
    coded = [_criterion_codes(crit, n) for crit in crits]
    combined = coded[0][0]
    if len(coded) > 1:
        first: dict[tuple[int, ...], int] = {}
        combined = np.fromiter(
            map(first.setdefault, zip(*(codes.tolist() for codes, _ in coded), strict=True),
                range(n)),
            dtype=np.int64, count=n)
    order = np.argsort(combined, kind="stable")
    starts = np.flatnonzero(np.diff(combined[order], prepend=-1))
    groups = np.split(order, starts[1:])
    groups.sort(key=lambda rows: rows[0])
    rows_by_key: dict[tuple[Criterion, ...], np.ndarray] = {}
    for rows in groups:
        key = tuple(parsed[int(codes[rows[0]])] for codes, parsed in coded)
        error = next((c for c in key if isinstance(c, KpiError)), None)
        if error is not None:
            result_err[rows] = error  # each row keeps its own error object
        elif key in rows_by_key:  # e.g. "A" and "a", 5 and "5"
            rows_by_key[key] = np.concatenate([rows_by_key[key], rows])  # type: ignore[index]
        else:
            rows_by_key[key] = rows  # type: ignore[index]
    return rows_by_key


def _sorted_path(cells: Cells, rows_by_key: dict, values: Block | None,
                 n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Numeric criteria against one range: sort once, count by ``searchsorted``."""
    keys = [k[0] for k in rows_by_key]
    if len(keys) < 4 or not all(isinstance(c, Criterion) and c.kind == "num" for c in keys):
        return None
    numeric = cells.kind == NUM
    if values is not None:
        if (values.kind.reshape(-1) == ERR).any():
            return None
        value_numeric = values.kind.reshape(-1) == NUM
        weights = np.where(value_numeric, values.num.reshape(-1), 0.0)[numeric]
        value_flags = value_numeric[numeric].astype(np.float64)
    else:
        weights = value_flags = np.zeros(int(numeric.sum()))
    order = np.argsort(cells.num[numeric], kind="stable")
    sorted_keys = cells.num[numeric][order]
    cumulative = np.concatenate([[0.0], np.cumsum(weights[order])])
    cumulative_flags = np.concatenate([[0.0], np.cumsum(value_flags[order])])
    total_cells = cells.kind.shape[0]
    total_sum = float(np.where(values.kind.reshape(-1) == NUM, values.num.reshape(-1), 0.0).sum()
                      ) if values is not None else 0.0
    size = sorted_keys.shape[0]
    counts = np.zeros(n)
    sums = np.zeros(n)
    value_counts = np.zeros(n)
    total_flags = float(value_flags.sum()) if values is not None else 0.0
    if values is not None:
        total_flags = float((values.kind.reshape(-1) == NUM).sum())
    for (criterion,), rows in rows_by_key.items():
        left = int(np.searchsorted(sorted_keys, criterion.number, "left"))
        right = int(np.searchsorted(sorted_keys, criterion.number, "right"))
        span = {"=": (left, right), "<": (0, left), "<=": (0, right), ">": (right, size),
                ">=": (left, size), "<>": (left, right)}[criterion.op]
        count = span[1] - span[0]
        total = cumulative[span[1]] - cumulative[span[0]]
        flags = cumulative_flags[span[1]] - cumulative_flags[span[0]]
        if criterion.op == "<>":
            count, total = total_cells - count, total_sum - total
            flags = total_flags - flags
        counts[rows] = count
        sums[rows] = total
        value_counts[rows] = flags
    return counts, sums, value_counts


GROUP_BY_MIN_KEYS = 4
"""Below this many distinct criteria a mask per criterion is as quick as a group-by."""


def _equality_key(criterion: object) -> tuple[str, object] | None:
    """What a cell must equal to match an ``=`` criterion, as a factorisation key."""
    if not isinstance(criterion, Criterion) or criterion.op != "=":
        return None
    if criterion.kind == "num":
        return ("n", criterion.number)
    if criterion.kind == "bool":
        return ("b", criterion.number)
    if criterion.kind == "text" and not criterion.wildcard:
        return ("t", criterion.text.replace("~*", "*").replace("~?", "?").replace("~~", "~"))
    if criterion.kind == "empty":
        return ("e", "")
    return None


def _factorise(cells: Cells) -> tuple[np.ndarray, dict[tuple[str, object], int]]:
    """A code per cell (−1: matches no equality criterion) and the key → code table, where
    a cell's key is what :func:`matches` compares for ``=``: its number, its bool, its
    case-folded text; blank cells and empty text share the key of the ``""`` criterion."""
    codes = np.full(cells.kind.shape[0], -1, dtype=np.int64)
    table: dict[tuple[str, object], int] = {}
    for kind, tag in ((NUM, "n"), (BOOL, "b")):
        where = np.nonzero(cells.kind == kind)[0]
        if where.size:
            distinct, inverse = np.unique(cells.num[where], return_inverse=True)
            base = len(table)
            codes[where] = inverse.reshape(-1) + base
            for offset, number in enumerate(distinct.tolist()):
                table[(tag, number)] = base + offset
    texts = np.nonzero(cells.kind == TEXT)[0]
    if texts.size:
        first: dict[str, int] = {}  # each distinct text → where it first appears
        appears = np.fromiter(map(first.setdefault, cells.folded[texts].tolist(),
                                  range(texts.size)), dtype=np.int64, count=texts.size)
        text_codes = np.zeros(texts.size, dtype=np.int64)
        for text, position in first.items():
            text_codes[position] = table.setdefault(("t", text) if text else ("e", ""),
                                                    len(table))
        codes[texts] = text_codes[appears]
    blanks = np.nonzero(cells.kind == BLANK)[0]
    if blanks.size:
        code = table.get(("e", ""))
        if code is None:
            code = table[("e", "")] = len(table)
        codes[blanks] = code
    return codes, table


def _grouped_path(cells: list[Cells], rows_by_key: dict, sum_num: np.ndarray | None,
                  sum_err: np.ndarray | None, sum_obj: np.ndarray | None,
                  value_numeric: np.ndarray | None, n: int
                  ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                             list[tuple[np.ndarray, object]]] | None:
    """Equality criteria (``=`` a number, a bool or text without wildcards): one pass.

    Each criteria range is factorised once; matching cells are grouped by their combined
    code, and each distinct criterion looks its group up. Sums add the same cells in the same
    order as the mask path (a stable sort, then each group's slice), so the results are the
    same to the last bit. Returns None when some criterion is not an equality.
    """
    if len(rows_by_key) < GROUP_BY_MIN_KEYS:
        return None
    wanted = []
    for key in rows_by_key:
        equal = [_equality_key(criterion) for criterion in key]
        if any(e is None for e in equal):
            return None
        wanted.append(equal)
    combined = np.zeros(cells[0].kind.shape[0], dtype=np.int64)
    valid = np.ones(cells[0].kind.shape[0], dtype=bool)
    tables = []
    radix = 1
    for cell in cells:
        codes, table = _factorise(cell)
        size = max(len(table), 1)
        if radix * size >= 2**62:
            return None
        valid &= codes >= 0
        combined += np.where(codes >= 0, codes, 0) * radix
        tables.append((table, radix))
        radix *= size
    where = np.nonzero(valid)[0]
    distinct, group = np.unique(combined[where], return_inverse=True)
    group = group.reshape(-1)
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=distinct.shape[0])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    position = {code: index for index, code in enumerate(distinct.tolist())}
    if sum_num is not None:
        sorted_sums = sum_num[where][order]
        numeric_counts = np.bincount(group, weights=value_numeric[where],
                                     minlength=distinct.shape[0])
        bad = sum_err[where]
        first_error = {}
        if bad.any():
            bad_groups = group[bad]
            bad_cells = where[bad]
            seen, first = np.unique(bad_groups, return_index=True)
            first_error = dict(zip(seen.tolist(), bad_cells[first].tolist(), strict=True))
    counts = np.zeros(n)
    sums = np.zeros(n)
    value_counts = np.zeros(n)
    errors: list[tuple[np.ndarray, object]] = []
    for rows, equal in zip(rows_by_key.values(), wanted, strict=True):
        code = 0
        for value, (table, weight) in zip(equal, tables, strict=True):
            found = table.get(value)
            if found is None:
                code = -1
                break
            code += found * weight
        index = position.get(code) if code >= 0 else None
        if index is None:
            continue  # no cell matches: zero count, zero sum
        counts[rows] = sizes[index]
        if sum_num is not None:
            sums[rows] = _slice_sum(sorted_sums, starts, index)
            value_counts[rows] = numeric_counts[index]
            if index in first_error:
                errors.append((rows, sum_obj[first_error[index]]))
    return (counts, sums, value_counts), errors


def _slice_sum(sorted_values: np.ndarray, starts: np.ndarray, index: int) -> float:
    return float(sorted_values[starts[index]:starts[index + 1]].sum())


def _stack(blocks: list[Block]) -> Block:
    num = np.concatenate([b.num for b in blocks])
    kind = np.concatenate([b.kind for b in blocks])
    obj = None
    if any(b.obj is not None for b in blocks):
        obj = np.concatenate([b.objects() for b in blocks])
    return Block(num, kind, obj)


def _pairs(name: str, args: Args, start: int) -> tuple[list[Block], list[Block]]:
    rest = args[start:]
    if not rest or len(rest) % 2 or any(a is None for a in rest):
        raise NotComputable(f"{name}: needs range/criteria pairs")
    return [rest[i] for i in range(0, len(rest), 2)], [rest[i] for i in range(1, len(rest), 2)]  # type: ignore[misc]


def fn_countif(ctx: Context, args: Args) -> Block:
    if len(args) != 2:
        raise NotComputable("COUNTIF: needs a range and a criterion")
    ranges, crits = _pairs("COUNTIF", args, 0)
    return _aggregate("COUNTIF", ctx, ranges, crits, None, "count")


def fn_countifs(ctx: Context, args: Args) -> Block:
    ranges, crits = _pairs("COUNTIFS", args, 0)
    return _aggregate("COUNTIFS", ctx, ranges, crits, None, "count")


def _if_family(name: str, mode: str) -> Builtin:
    def function(ctx: Context, args: Args) -> Block:
        if len(args) not in (2, 3) or args[0] is None or args[1] is None:
            raise NotComputable(f"{name}: needs a range, a criterion and maybe a sum range")
        values = args[2] if len(args) == 3 and args[2] is not None else args[0]
        return _aggregate(name, ctx, [args[0]], [args[1]], values, mode)
    return function


def _ifs_family(name: str, mode: str) -> Builtin:
    def function(ctx: Context, args: Args) -> Block:
        if not args or args[0] is None:
            raise NotComputable(f"{name}: needs a sum range")
        ranges, crits = _pairs(name, args, 1)
        return _aggregate(name, ctx, ranges, crits, args[0], mode)
    return function


CRITERIA_BUILTINS: dict[str, Builtin] = {
    "COUNTIF": fn_countif,
    "COUNTIFS": fn_countifs,
    "SUMIF": _if_family("SUMIF", "sum"),
    "AVERAGEIF": _if_family("AVERAGEIF", "average"),
    "SUMIFS": _ifs_family("SUMIFS", "sum"),
    "AVERAGEIFS": _ifs_family("AVERAGEIFS", "average"),
}
