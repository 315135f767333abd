"""Reading numbers and cell values the way HR writes them.

``47%`` = 0.47, ``6‰`` = 0.006, ``4W``/``4万`` = 40000, ``1,280`` = 1280; units (s 秒 元 分 人 单
次) are read and ignored; full-width forms are folded. Cell values arrive as Excel sends them
(float, int, bool, str, None for blanks, error text such as ``#DIV/0!``) and become a
:class:`ValueColumn`: numbers in a float array, labels in an object array, a kind per cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from functools import lru_cache
from itertools import repeat
from typing import TypeVar

import numpy as np

from kpi_xl.core.errors import EXCEL_ERROR_CODES, InputErrorValue, KpiError, ValueProblem

_SYMBOL_FOLDS = str.maketrans(
    {
        "≦": "≤",
        "≧": "≥",
        "﹤": "<",
        "﹥": ">",
        "〔": "[",
        "〕": "]",
        "【": "[",
        "】": "]",
        "－": "-",
        "−": "-",
        "–": "-",
        "—": "-",
        "﹣": "-",
        "＋": "+",
        "〜": "~",
        "～": "~",
        "、": ",",
        "﹪": "%",
        "٪": "%",
        "﹔": ";",
        "﹕": ":",
    }
)
_SCALES = {"%": 0.01, "‰": 0.001, "w": 1e4, "W": 1e4, "万": 1e4, "k": 1e3, "K": 1e3, "千": 1e3}
_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<digits>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?:[eE](?P<exp>[+-]?\d+))?\s*(?P<scale>[%‰wW万kK千]?)\s*(?P<unit>(?:秒|元|分|人|单|次|s|S|个|件|天)?)$"
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Full-width to half-width, ``>=`` to ``≥``, trimmed: the form every comparison uses."""
    folded = unicodedata.normalize("NFKC", text).translate(_SYMBOL_FOLDS)
    folded = folded.replace(">=", "≥").replace("<=", "≤").replace("=>", "≥").replace("=<", "≤")
    return folded.strip()


class Scale(IntEnum):
    """How a number was written: plain, or with a percent / per-mille sign, or in 万."""

    PLAIN = 0
    PERCENT = 1
    PERMILLE = 2
    MYRIAD = 3
    THOUSAND = 4


_SCALE_KIND = {
    "": Scale.PLAIN,
    "%": Scale.PERCENT,
    "‰": Scale.PERMILLE,
    "w": Scale.MYRIAD,
    "W": Scale.MYRIAD,
    "万": Scale.MYRIAD,
    "k": Scale.THOUSAND,
    "K": Scale.THOUSAND,
    "千": Scale.THOUSAND,
}


@dataclass(frozen=True)
class Number:
    """A number read from text, with the way it was written (for unit-slip checks)."""

    value: float
    scale: Scale
    text: str


@lru_cache(maxsize=65536)
def read_number(text: str) -> Number | None:
    """Read ``47%``, ``4W``, ``1,280元``, ``３０秒`` as a number; ``None`` when it is not one."""
    folded = fold(text).replace(" ", "")
    match = _NUMBER.match(folded)
    if match is None:
        return None
    magnitude = float(match["digits"].replace(",", ""))
    if match["exp"]:
        try:
            magnitude *= 10.0 ** int(match["exp"])
        except OverflowError:  # "2e400": beyond any float, so not a number a cell can hold
            return None
    scale = match["scale"]
    value = magnitude * _SCALES.get(scale, 1.0)
    if scale in ("%", "‰"):
        value = float(repr_round(value))
    if match["sign"] == "-":
        value = -value
    if not math.isfinite(value):
        return None
    return Number(value, _SCALE_KIND[scale], folded)


def repr_round(value: float) -> float:
    """Undo binary noise from scaling (47 × 0.01 = 0.47000000000000003 → 0.47)."""
    return float(f"{value:.12g}")


def shown_decimal(value: float) -> Decimal:
    """The decimal Excel works with for a float: 15 significant digits, its precision.

    ``1.15*3`` is 3.4499999999999997 in binary but 3.45 in Excel, so ``ROUND(1.15*3,1)`` is
    3.5 there (and in LibreOffice); ``repr`` would give 3.4.
    """
    return Decimal(f"{value:.15g}")


_DIGITS_SHOWN = 1e15
"""Whole numbers below this are written out in full (Excel's 15 digits); beyond, compactly."""


def format_number(value: float, scale: Scale = Scale.PLAIN, *, grouped: bool = False) -> str:
    """Write a number back the way HR would: ``0.47`` as ``47%`` when the rule used %.

    Huge and tiny magnitudes stay compact (``1e+300``, ``1e-300``, never 300 digits); a
    negative zero is ``0``. ``grouped``: a plain number of a million or more, below 1e15, with
    thousands separators (``5,700,000``), for messages about implausibly large inputs.
    """
    value = float(value) + 0.0  # -0.0 + 0.0 is 0.0: "-0%" would read as a sign slip
    if grouped and scale is Scale.PLAIN and 1e6 <= abs(value) < _DIGITS_SHOWN:
        return f"{value:,.0f}"
    if scale is not Scale.PLAIN:  # checked first: most numbers are plain
        if scale is Scale.PERCENT:
            return f"{repr_round(value * 100):g}%"
        if scale is Scale.PERMILLE:
            return f"{repr_round(value * 1000):g}‰"
        if scale is Scale.MYRIAD:
            return f"{repr_round(value / 1e4):g}W"
        if scale is Scale.THOUSAND:
            return f"{repr_round(value / 1e3):g}K"
    if value.is_integer() and abs(value) < _DIGITS_SHOWN:
        return str(int(value))
    return f"{repr_round(value):g}"


_T = TypeVar("_T")


def _each_distinct(values: np.ndarray, convert: Callable[[float], _T]) -> np.ndarray:
    """``convert`` of each float of ``values`` as an object array, called once per distinct
    value: a column of thousands of rows holds a few hundred scores or amounts.

    Values are told apart bit for bit (-0.0 and 0.0 are two values, both written ``0``).
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).ravel().view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    converted = np.empty(distinct.shape[0], dtype=object)
    converted[:] = list(map(convert, distinct.view(np.float64).tolist()))
    return converted[inverse.ravel()]


def format_numbers(values: np.ndarray, scale: Scale = Scale.PLAIN) -> np.ndarray:
    """:func:`format_number` of each value (object array of text), each distinct value once."""
    return _each_distinct(values, lambda value: format_number(value, scale))


def shown_decimals(values: np.ndarray) -> np.ndarray:
    """:func:`shown_decimal` of each value (object array of Decimal), each distinct value once."""
    return _each_distinct(values, shown_decimal)


class Kind:
    """What a cell holds: small ints stored in an int8 array per column.

    Plain class attributes, not an Enum: the per-cell loops read them hundreds of thousands of
    times, and an Enum member lookup costs a Python call each time.
    """

    NUMBER = 0
    TEXT = 1
    BLANK = 2
    ERROR = 3


@dataclass(frozen=True)
class ValueColumn:
    """Cells as the core sees them; every array has the input's length.

    ``numbers`` is NaN where the cell is not a number; ``labels`` holds the folded text of
    text cells (numeric text is a number, not a label); ``errors`` holds the
    :class:`KpiError` of error cells (Excel error values, NaN/inf).
    """

    numbers: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray
    errors: np.ndarray
    raw: np.ndarray

    def __len__(self) -> int:
        return len(self.kinds)


def _is_excel_error(text: str) -> bool:
    return text.strip().upper() in EXCEL_ERROR_CODES


def cell_error(value: object) -> KpiError | None:
    """The Excel error a single cell holds, else ``None``: the :class:`KpiError` the headless
    recalc passes, or the code as text (``"#REF!"``) that classic xlwings sends
    (``err_to_str``) — the one place both forms are told apart from ordinary text."""
    if isinstance(value, KpiError):
        return value
    if isinstance(value, str) and _is_excel_error(value):
        return InputErrorValue(value.strip().upper())
    return None


_EXCEL_EPOCH_DAYS = (dt.date(1899, 12, 30), dt.date(1899, 12, 31))
"""Dates xlwings gives a cell that holds only a time of day (serial 0–1, e.g. 00:00:30)."""


def date_problem(value: dt.date | dt.time) -> KpiError:
    """The error for a date (or time) cell where a number belongs: classic xlwings sends a
    date-formatted cell as a ``datetime``, and reading it as its serial number (46327) would
    be a plausible wrong number."""
    if isinstance(value, dt.datetime) and value.date() in _EXCEL_EPOCH_DAYS:
        value = value.time()
    if isinstance(value, dt.time):
        shown = value.isoformat(timespec="seconds")
        return ValueProblem(
            f"时间不是数字: 单元格是时间 {shown}, 请输入数字 (如 30 秒写 30) 或把格式改为常规",
            f"a time is not a number: the cell holds the time {shown}; enter a number",
        )
    shown = value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    return ValueProblem(
        f"日期不是数字: 单元格是日期 {shown}, 此处应为数字; 请检查引用的单元格或把格式改为常规",
        f"a date is not a number: the cell holds the date {shown}; a number is expected here",
    )


def read_cell(value: object) -> tuple[int, float, str | None, KpiError | None]:
    """Classify one cell value as Excel (or openpyxl, or the JSON CLI) delivers it."""
    if value is None:
        return Kind.BLANK, math.nan, None, None
    if isinstance(value, KpiError):
        return Kind.ERROR, math.nan, None, value
    if isinstance(value, bool | np.bool_):
        return Kind.TEXT, math.nan, "TRUE" if value else "FALSE", None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if math.isfinite(number):
            return Kind.NUMBER, number, None, None
        return Kind.ERROR, math.nan, None, InputErrorValue("#NUM!")
    if isinstance(value, str):
        if not value.strip():
            return Kind.BLANK, math.nan, None, None
        if _is_excel_error(value):
            return Kind.ERROR, math.nan, None, InputErrorValue(value.strip().upper())
        number = read_number(value)
        if number is not None:
            return Kind.NUMBER, number.value, None, None
        return Kind.TEXT, math.nan, fold(value), None
    return Kind.TEXT, math.nan, fold(str(value)), None


def read_column(values: Iterable[object] | np.ndarray) -> ValueColumn:
    """Classify a column of cells. Float arrays take a fast path (one numpy pass); otherwise
    floats and blanks are typed in bulk and each distinct text is read once."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        numbers = values.astype(np.float64, copy=False).ravel()
        finite = np.isfinite(numbers)
        kinds = np.where(finite, Kind.NUMBER, Kind.BLANK).astype(np.int8)
        nothing = np.full(numbers.shape, None, dtype=object)  # read-only: shared
        return ValueColumn(numbers, nothing, kinds, nothing, numbers)
    raw = np.asarray(
        list(values) if not isinstance(values, np.ndarray) else values.ravel(), dtype=object
    ).ravel()
    size = raw.shape[0]
    numbers = np.full(size, np.nan)
    labels = np.full(size, None, dtype=object)
    kinds = np.full(size, Kind.BLANK, dtype=np.int8)
    errors = np.full(size, None, dtype=object)
    types = np.fromiter(map(_BULK_TYPES.get, map(type, raw), repeat(_ONE_BY_ONE)),
                        dtype=np.int8, count=size)
    floats = np.flatnonzero(types == _FLOAT)
    numbers[floats] = raw[floats].astype(np.float64)
    kinds[floats] = Kind.NUMBER
    types[floats[~np.isfinite(numbers[floats])]] = _ONE_BY_ONE
    texts = np.flatnonzero(types == _TEXT)
    if texts.size:
        first: dict[str, int] = {}  # each distinct text → where it first appears
        appears = np.fromiter(map(first.setdefault, raw[texts].tolist(), range(texts.size)),
                              dtype=np.int64, count=texts.size)
        kind_of = np.zeros(texts.size, dtype=np.int8)
        number_of = np.zeros(texts.size)
        label_of = np.full(texts.size, None, dtype=object)
        error_of = np.zeros(texts.size, dtype=bool)
        for text, position in first.items():
            kind_of[position], number_of[position], label_of[position], error = read_cell(text)
            error_of[position] = error is not None  # an error value: each cell gets its own
        kinds[texts] = kind_of[appears]
        numbers[texts] = number_of[appears]
        labels[texts] = label_of[appears]
        types[texts[error_of[appears]]] = _ONE_BY_ONE
    for index in np.flatnonzero(types == _ONE_BY_ONE).tolist():
        kinds[index], numbers[index], labels[index], errors[index] = read_cell(raw[index])
    return ValueColumn(numbers, labels, kinds, errors, raw)


_FLOAT, _TEXT, _BLANK, _ONE_BY_ONE = 0, 1, 2, 3
_BULK_TYPES: dict[type, int] = {float: _FLOAT, str: _TEXT, type(None): _BLANK}
"""How :func:`read_column` reads each type of value; other types go one cell at a time."""


def require_number(value: object, what: str) -> float:
    """One scalar parameter that must be a number (a base salary, a pool, a weight)."""
    kind, number, label, error = read_cell(value)
    if kind == Kind.NUMBER:
        return number
    if error is not None:
        raise error
    if kind == Kind.BLANK:
        raise ValueProblem(f"{what}为空, 请填写数字", f"{what} is blank; enter a number")
    raise ValueProblem(
        f'{what}应为数字, 收到文本 "{label}"', f"{what} must be a number, got text {label!r}"
    )
