"""Python values → what a SpreadsheetML ``<c>`` stores (its ``t`` attribute and text).

Two flavours:

* **input** values (:func:`encode_input`) for plain cells: text is always an inline string
  (``t="inlineStr"``), so a string starting with ``=``, ``+``, ``-`` or ``@`` stays text and can
  never become a formula; error-looking text such as ``"#N/A"`` stays text too.
* **cached** values (:func:`encode_cached`) for formula results: text becomes ``t="str"``, an
  Excel error code (``"#DIV/0!"``, or a :class:`KpiError`) becomes ``t="e"``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from kpi_xl.core.errors import EXCEL_ERROR_CODES, KpiError

from .ooxml import escape_text

_EPOCH = dt.datetime(1899, 12, 30)

STORABLE_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)
"""Error codes a ``t="e"`` cell may hold; newer ones (``#SPILL!``, ``#CALC!`` …) need rich-value
metadata in the file, so they are stored as ``#VALUE!``."""


def storable_error(code: str) -> str:
    return code if code in STORABLE_ERRORS else "#VALUE!"


@dataclass(frozen=True)
class Formula:
    """A formula for :meth:`XlsxEditor.replace_sheet_rows`, with an optional cached result.

    Plain ``str`` values are always written as text; only a ``Formula`` writes a formula.
    """

    text: str
    cached: object = None

    @property
    def body(self) -> str:
        """The formula as stored in ``<f>``: without the leading ``=``."""
        return self.text[1:] if self.text.startswith("=") else self.text


@dataclass(frozen=True)
class Encoded:
    """``t`` attribute (``None`` for numbers) and the text for ``<v>`` or the inline ``<t>``."""

    t: str | None
    text: str
    inline: bool = False


def _plain(value: object) -> object:
    """Unwrap numpy scalars (``np.float64`` is a float already; ``np.int64``/``np.bool_`` not)."""
    if hasattr(value, "dtype") and hasattr(value, "item"):
        return value.item()
    return value


def number_text(value: float | int | Decimal) -> str:
    """Shortest text that reads back as the same double; integral floats without ``.0``."""
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def excel_serial(value: dt.date | dt.datetime | dt.time) -> float:
    """A date/time as an Excel serial number (1900 date system, dates after 1900-02-28)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    if isinstance(value, dt.date):
        return float((value - _EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def _encode_number(value: object) -> str | None:
    """Number text, or ``None`` if ``value`` is not a number. NaN/inf → ``"nan"``/``"inf"``."""
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf"
        return number_text(value)
    if isinstance(value, dt.date | dt.time):
        return number_text(excel_serial(value))
    return None


def encode_input(value: object) -> Encoded | None:
    """Encode a plain input value; ``None`` means a blank cell (NaN counts as blank, as pandas).

    An Excel error (:class:`KpiError`) is written as its code, as text: what a result cell
    shows, never an error cell.
    """
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return Encoded("b", "1" if value else "0")
    if isinstance(value, KpiError):
        value = value.code
    if isinstance(value, str):
        return Encoded("inlineStr", escape_text(value), inline=True)
    number = _encode_number(value)
    if number == "nan":
        return None
    if number == "inf":
        raise ValueError("无穷大不能写入单元格 (an infinite number cannot be written to a cell)")
    if number is None:
        raise TypeError(f"cannot write a {type(value).__name__} to a cell: {value!r}")
    return Encoded(None, number)


def encode_cached(value: object) -> Encoded | None:
    """Encode a formula's cached result; ``None`` means no cached value."""
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, KpiError):
        return Encoded("e", storable_error(value.code))
    if isinstance(value, bool):
        return Encoded("b", "1" if value else "0")
    if isinstance(value, str):
        if value in EXCEL_ERROR_CODES:
            return Encoded("e", storable_error(value))
        return Encoded("str", escape_text(value))
    number = _encode_number(value)
    if number in ("nan", "inf"):
        return Encoded("e", "#NUM!")
    if number is None:
        raise TypeError(f"cannot store a {type(value).__name__} as a cached value: {value!r}")
    return Encoded(None, number)
