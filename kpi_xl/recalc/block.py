"""The value of an expression over a run of rows: a typed ``(n, h, w)`` block.

``n`` is the number of rows being evaluated (or 1 when the value is the same for every row);
``h × w`` is the shape of the value in one row (1 × 1 for a single value, the range's shape
for a range). ``num`` holds numbers (booleans as 0/1, blanks as 0, NaN for text/errors),
``kind`` says what each element is, ``obj`` holds the text or :class:`KpiError` of TEXT and
ERROR elements (``None`` when there are none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from kpi_xl.core.errors import EXCEL_ERROR_CODES, InputErrorValue, KpiError

NUM, TEXT, BOOL, BLANK, ERR = 0, 1, 2, 3, 4


class NotComputable(Exception):
    """A formula this engine cannot compute exactly (its cells get no value)."""


def error(code: str, zh: str, en: str) -> KpiError:
    return KpiError(zh, en, code=code)


def div0() -> KpiError:
    return error("#DIV/0!", "除数为零", "division by zero")


def value_error(zh: str = "参数类型不对", en: str = "wrong type of argument") -> KpiError:
    return error("#VALUE!", zh, en)


def na_error(zh: str = "查找值不存在", en: str = "value not found") -> KpiError:
    return error("#N/A", zh, en)


def num_error() -> KpiError:
    return error("#NUM!", "数值无效或溢出", "number is invalid or out of range")


def ref_error() -> KpiError:
    return error("#REF!", "引用超出范围", "reference out of range")


def literal_error(code: str) -> KpiError:
    return error(code, f"公式中的错误值 {code}", f"error value {code} in the formula")


@dataclass(slots=True)
class Block:
    num: np.ndarray
    kind: np.ndarray
    obj: np.ndarray | None = None
    is_ref: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.num.shape  # type: ignore[return-value]

    @property
    def n(self) -> int:
        return int(self.num.shape[0])

    @property
    def cells(self) -> int:
        """Elements per row (h × w)."""
        return int(self.num.shape[1] * self.num.shape[2])

    @property
    def is_array(self) -> bool:
        return self.cells > 1

    @classmethod
    def of(cls, value: object) -> Block:
        return cls.from_values(np.array([[[value]]], dtype=object))

    @classmethod
    def numbers(cls, num: np.ndarray) -> Block:
        """Numeric results; non-finite elements become #NUM!."""
        num = np.asarray(num, dtype=np.float64)
        kind = np.zeros(num.shape, dtype=np.int8)
        bad = ~np.isfinite(num)
        if bad.any():
            return with_errors(cls(num, kind), bad, num_error())
        return cls(num, kind)

    @classmethod
    def bools(cls, flags: np.ndarray) -> Block:
        flags = np.asarray(flags, dtype=bool)
        return cls(flags.astype(np.float64), np.full(flags.shape, BOOL, dtype=np.int8))

    @classmethod
    def from_values(cls, values: np.ndarray) -> Block:
        """From an object array of Python values (float, str, bool, None, KpiError)."""
        values = np.asarray(values, dtype=object)
        kind, num, obj = classify_all(values.reshape(-1))
        return cls(num.reshape(values.shape), kind.reshape(values.shape),
                   None if obj is None else obj.reshape(values.shape))

    def broadcast(self, shape: tuple[int, ...]) -> Block:
        if self.num.shape == shape:
            return self
        return Block(np.broadcast_to(self.num, shape), np.broadcast_to(self.kind, shape),
                     None if self.obj is None else np.broadcast_to(self.obj, shape))

    def objects(self) -> np.ndarray:
        """The object array, allocated on demand."""
        if self.obj is None:
            return np.full(self.num.shape, None, dtype=object)
        return self.obj

    def python(self) -> np.ndarray:
        """Object array of Python values: float, str, bool, None (blank), KpiError."""
        out = self.num.astype(object)
        kind = self.kind
        bools = kind == BOOL
        if bools.any():
            out[bools] = (self.num[bools] != 0).astype(object)
        out[kind == BLANK] = None
        held = (kind == TEXT) | (kind == ERR)
        if held.any():
            out[held] = None if self.obj is None else self.obj[held]
        return out

    def rows(self, start: int, stop: int) -> Block:
        """Rows ``start:stop`` of a per-row block (a fixed block is returned as is)."""
        if self.n == 1:
            return self
        return Block(self.num[start:stop], self.kind[start:stop],
                     None if self.obj is None else self.obj[start:stop], self.is_ref)


def classify(value: object) -> tuple[int, float, object]:
    """(kind, number, text-or-error) of one Python cell value."""
    if value is None:
        return BLANK, 0.0, None
    if isinstance(value, bool | np.bool_):
        return BOOL, float(value), None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if math.isfinite(number):
            return NUM, number, None
        return ERR, math.nan, num_error()
    if isinstance(value, KpiError):
        return ERR, math.nan, value
    if isinstance(value, str):
        if value in EXCEL_ERROR_CODES:
            return ERR, math.nan, InputErrorValue(value)
        return TEXT, math.nan, value
    return TEXT, math.nan, str(value)


_OTHER = -1
_TYPE_KIND: dict[type, int] = {float: NUM, str: TEXT, bool: BOOL, type(None): BLANK}
"""Kinds of the value types :func:`classify_all` handles in bulk."""


def classify_all(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`classify` of each element of a flat object array: (kinds, numbers, objects or
    None when no element is text or an error). Floats, text, booleans and blanks are typed in
    bulk; other values, non-finite floats and error codes go through :func:`classify`."""
    count = values.shape[0]
    kind = np.fromiter(map(_TYPE_KIND.get, map(type, values), repeat(_OTHER)),
                       dtype=np.int8, count=count)
    num = np.zeros(count)
    floats = kind == NUM
    num[floats] = values[floats].astype(np.float64)
    bools = kind == BOOL
    num[bools] = values[bools].astype(np.float64)
    kind[floats & ~np.isfinite(num)] = _OTHER
    texts = np.flatnonzero(kind == TEXT)
    codes = np.fromiter(map(EXCEL_ERROR_CODES.__contains__, values[texts]), dtype=bool,
                        count=texts.shape[0])
    kind[texts[codes]] = _OTHER
    others = np.flatnonzero(kind == _OTHER)
    if texts.shape[0] == 0 and others.shape[0] == 0:
        return kind, num, None
    text = kind == TEXT
    num[text] = math.nan
    obj = np.where(text, values, None)
    for index in others.tolist():
        kind[index], num[index], obj[index] = classify(values[index])
    return kind, num, obj if ((kind == TEXT) | (kind == ERR)).any() else None


def with_errors(block: Block, mask: np.ndarray, err: KpiError | np.ndarray) -> Block:
    """``block`` with the elements under ``mask`` replaced by an error (or per-element errors)."""
    shape = np.broadcast_shapes(block.shape, mask.shape)
    block = block.broadcast(shape)
    mask = np.broadcast_to(mask, shape)
    num = np.where(mask, np.nan, block.num)
    kind = np.where(mask, np.int8(ERR), block.kind).astype(np.int8)
    obj = block.objects().copy() if block.obj is not None else np.full(shape, None, object)
    if isinstance(err, KpiError):
        obj[mask] = err
    else:
        obj[mask] = np.broadcast_to(err, shape)[mask]
    return Block(num, kind, obj)


def select(mask: np.ndarray, yes: Block, no: Block) -> Block:
    """Elementwise ``yes`` where ``mask`` else ``no`` (all broadcast together)."""
    shape = np.broadcast_shapes(mask.shape, yes.shape, no.shape)
    num = np.where(mask, yes.num, no.num)
    kind = np.where(mask, yes.kind, no.kind).astype(np.int8)
    obj = None
    if yes.obj is not None or no.obj is not None:
        obj = np.where(mask, yes.objects(), no.objects())
    return Block(np.broadcast_to(num, shape), np.broadcast_to(kind, shape),
                 None if obj is None else np.broadcast_to(obj, shape))


_TEXT_NUMBER = re.compile(r"^\s*([+-]?)\s*((?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?)"
                          r"\s*(%?)\s*$")


def text_to_number(text: str) -> float | None:
    """Excel's coercion of text in arithmetic: ``"3"`` → 3, ``"47%"`` → 0.47, ``"1,280"``."""
    match = _TEXT_NUMBER.match(text)
    if not match or not any(c.isdigit() for c in match.group(2)):
        return None
    try:
        number = float(match.group(2).replace(",", ""))
    except ValueError:
        return None
    if match.group(3):
        number /= 100
    return -number if match.group(1) == "-" else number


def number_to_text(number: float) -> str:
    """Excel's General rendering of a number in text context (15 significant digits)."""
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        exp = int(exponent)
        if -20 < exp < 0:
            text = f"{number:.{15 - exp}f}".rstrip("0").rstrip(".")
            return text
        return f"{mantissa}E{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    return text


def to_numbers(block: Block) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Numbers for arithmetic: (values, error mask, error objects). Text that is not a number
    becomes #VALUE!; existing errors pass through."""
    if block.obj is None:
        return block.num, None, None
    num = block.num.copy()
    errmask = block.kind == ERR
    errobj = block.obj.copy()
    texts = np.nonzero(block.kind.reshape(-1) == TEXT)[0]
    if texts.size:
        flat_num, flat_mask, flat_obj = num.reshape(-1), errmask.reshape(-1), errobj.reshape(-1)
        bad = None
        for index in texts.tolist():
            number = text_to_number(flat_obj[index])
            if number is None:
                bad = bad or value_error("文本不能作为数字计算", "text cannot be used as a number")
                flat_mask[index] = True
                flat_obj[index] = bad
            else:
                flat_num[index] = number
                flat_obj[index] = None
    if not errmask.any():
        return num, None, None
    return num, errmask, errobj


def merge_errors(
    parts: Iterable[tuple[np.ndarray | None, np.ndarray | None]], shape: tuple[int, ...]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """First error (left to right) per element among several (mask, objects) pairs."""
    mask_out: np.ndarray | None = None
    obj_out: np.ndarray | None = None
    for mask, obj in parts:
        if mask is None:
            continue
        if mask_out is None:
            mask_out = np.broadcast_to(mask, shape).copy()
            obj_out = np.broadcast_to(obj, shape).copy()
            continue
        assert obj_out is not None
        fresh = np.broadcast_to(mask, shape) & ~mask_out
        obj_out[fresh] = np.broadcast_to(obj, shape)[fresh]
        mask_out |= fresh
    return mask_out, obj_out


def numeric_result(num: np.ndarray, mask: np.ndarray | None, obj: np.ndarray | None) -> Block:
    """A numeric result with inherited errors; other non-finite values become #NUM!."""
    result = Block.numbers(np.where(mask, 0.0, num) if mask is not None else num)
    if mask is not None and mask.any():
        result = with_errors(result, mask, obj)  # type: ignore[arg-type]
    return result


def to_texts(block: Block) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Texts for ``&`` and text functions: (object array of str, error mask, error objects)."""
    out = np.empty(block.shape, dtype=object)
    flat = out.reshape(-1)
    kinds = block.kind.reshape(-1).tolist()
    nums = block.num.reshape(-1).tolist()
    objs = None if block.obj is None else block.obj.reshape(-1)
    for index, (k, x) in enumerate(zip(kinds, nums, strict=True)):
        if k == NUM:
            flat[index] = number_to_text(x)
        elif k == BOOL:
            flat[index] = "TRUE" if x else "FALSE"
        elif k == TEXT:
            flat[index] = objs[index]  # type: ignore[index]
        else:
            flat[index] = ""
    if block.obj is None or not (block.kind == ERR).any():
        return out, None, None
    return out, block.kind == ERR, block.obj


def texts_result(texts: np.ndarray, mask: np.ndarray | None, obj: np.ndarray | None) -> Block:
    shape = texts.shape
    kind = np.full(shape, TEXT, dtype=np.int8)
    result = Block(np.full(shape, np.nan), kind, texts.astype(object))
    if mask is not None and mask.any():
        result = with_errors(result, mask, obj)  # type: ignore[arg-type]
    return result


def first_error_per_row(block: Block) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a block: (has error, first error in row-major order or None)."""
    n = block.n
    flat_kind = block.kind.reshape(n, -1)
    errs = flat_kind == ERR
    has = errs.any(axis=1)
    first = np.full(n, None, dtype=object)
    if has.any():
        assert block.obj is not None
        position = errs.argmax(axis=1)
        rows = np.nonzero(has)[0]
        first[rows] = block.obj.reshape(n, -1)[rows, position[rows]]
    return has, first
