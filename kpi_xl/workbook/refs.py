"""A1 cell coordinates and moving relative references inside formula text.

``shift_formula("=SUM(B2:C2)*规则!$C$4", 3, 0)`` gives ``"=SUM(B5:C5)*规则!$C$4"``: relative
row/column parts move, ``$``-absolute parts stay, sheet names (quoted or not, Chinese too), string
literals, structured references (``Table1[Col]``) and function names are left alone. This is
how a shared formula (``<f t="shared">``) becomes each cell's own formula text.
"""

from __future__ import annotations

import re

from kpi_xl.core.cells import MAX_COL, MAX_ROW, column_index, column_letters
from kpi_xl.core.errors import EXCEL_ERROR_CODES

_CELL_RE = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})")
_COL_RE = re.compile(r"(\$?)([A-Za-z]{1,3})")
_ROW_RE = re.compile(r"(\$?)([0-9]{1,7})")
_COORD_RE = re.compile(r"([A-Z]{1,3})([0-9]+)")

# Characters that end a "word" (a run that may be a reference, a name, a number, a function).
_DELIMITERS = frozenset("+-*/^&=<>(),;:{}%\"'![] \t\r\n")


def parse_coordinate(text: str) -> tuple[int, int]:
    """``"C2"`` → (2, 3). Accepts ``$`` signs."""
    match = _COORD_RE.fullmatch(text.replace("$", "").upper())
    if match is None:
        raise ValueError(f"not a cell reference: {text!r}")
    return int(match.group(2)), column_index(match.group(1))


def parse_range(text: str) -> tuple[int, int, int, int]:
    """``"B2:D9"`` → (2, 2, 9, 4) as (top, left, bottom, right); a single cell is a 1×1 range."""
    first, _, last = text.partition(":")
    top, left = parse_coordinate(first)
    bottom, right = parse_coordinate(last) if last else (top, left)
    return top, left, bottom, right


class _OutOfRange(Exception):
    """A shifted reference fell off the sheet (Excel shows ``#REF!``)."""


def _shift_col(dollar: str, letters: str, delta: int) -> str:
    if dollar or not delta:
        return dollar + letters
    index = column_index(letters) + delta
    if not 1 <= index <= MAX_COL:
        raise _OutOfRange
    return column_letters(index)


def _shift_row(dollar: str, digits: str, delta: int) -> str:
    if dollar or not delta:
        return dollar + digits
    row = int(digits) + delta
    if not 1 <= row <= MAX_ROW:
        raise _OutOfRange
    return str(row)


def _is_cell(word: str) -> re.Match[str] | None:
    match = _CELL_RE.fullmatch(word)
    if match is None:
        return None
    if column_index(match.group(2)) > MAX_COL or not 1 <= int(match.group(4)) <= MAX_ROW:
        return None
    return match


def _shift_word(word: str, drow: int, dcol: int) -> str:
    match = _is_cell(word)
    if match is None:
        return word
    try:
        return _shift_cell(match, drow, dcol)
    except _OutOfRange:
        return "#REF!"


def _skip_quoted(text: str, start: int, quote: str) -> int:
    """Index just past the quoted run starting at ``start`` (doubled quotes are escapes)."""
    i = start + 1
    n = len(text)
    while i < n:
        if text[i] == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _skip_brackets(text: str, start: int) -> int:
    """Index just past the balanced ``[...]`` starting at ``start`` (``'`` escapes a bracket)."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        char = text[i]
        if char == "'" and i + 1 < n:
            i += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


_ERROR_LITERALS = sorted(EXCEL_ERROR_CODES, key=len, reverse=True)


def _error_literal_length(text: str, start: int) -> int:
    """Length of the error literal at ``start`` (1 when it is a lone ``#``)."""
    upper = text[start : start + 14].upper()
    for literal in _ERROR_LITERALS:
        if upper.startswith(literal):
            return len(literal)
    return 1


def _read_word(text: str, start: int) -> int:
    i = start
    n = len(text)
    while i < n and text[i] not in _DELIMITERS:
        i += 1
    return i


def _next_non_space(text: str, i: int) -> str:
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    return text[i] if i < n else ""


def _shift_cell(match: re.Match[str], drow: int, dcol: int) -> str:
    return _shift_col(match.group(1), match.group(2), dcol) + _shift_row(
        match.group(3), match.group(4), drow
    )


def _shift_pair(text: str, start: int, end: int, drow: int, dcol: int) -> tuple[str, int]:
    """Shift a two-part range ``A1:B2``, ``A:C`` or ``3:5`` starting at ``start``.

    ``end`` is where the first word ends (``text[end] == ":"``). A range with any part pushed
    off the sheet becomes ``#REF!`` as a whole. Returns ("", start) when the text there is not
    such a range (e.g. ``name:C2``).
    """
    first = text[start:end]
    second_end = _read_word(text, end + 1)
    second = text[end + 1 : second_end]
    if _next_non_space(text, second_end) in ("!", "("):
        return "", start  # a 3-D reference Sheet1:Sheet3!A1 or something stranger
    try:
        m1, m2 = _is_cell(first), _is_cell(second)
        if m1 is not None and m2 is not None:
            return _shift_cell(m1, drow, dcol) + ":" + _shift_cell(m2, drow, dcol), second_end
        c1, c2 = _COL_RE.fullmatch(first), _COL_RE.fullmatch(second)
        if (
            c1 is not None
            and c2 is not None
            and max(column_index(c1.group(2)), column_index(c2.group(2))) <= MAX_COL
        ):
            shifted = _shift_col(c1.group(1), c1.group(2), dcol) + ":"
            return shifted + _shift_col(c2.group(1), c2.group(2), dcol), second_end
        r1, r2 = _ROW_RE.fullmatch(first), _ROW_RE.fullmatch(second)
        if r1 is not None and r2 is not None:
            shifted = _shift_row(r1.group(1), r1.group(2), drow) + ":"
            return shifted + _shift_row(r2.group(1), r2.group(2), drow), second_end
    except _OutOfRange:
        return "#REF!", second_end
    return "", start


def shift_formula(formula: str, drow: int, dcol: int) -> str:
    """Move the relative parts of every A1 reference in ``formula`` by (drow, dcol).

    Works with or without the leading ``=``. A reference pushed off the sheet becomes ``#REF!``.
    """
    if not drow and not dcol:
        return formula
    out: list[str] = []
    i = 0
    n = len(formula)
    prev = ""  # the last significant (non-space) character copied
    while i < n:
        char = formula[i]
        if char == '"':
            j = _skip_quoted(formula, i, '"')
        elif char == "'":
            j = _skip_quoted(formula, i, "'")  # a quoted sheet name; the '!' follows
        elif char == "[":
            j = _skip_brackets(formula, i)  # structured ref or external-book index
        elif char == "#":
            j = i + _error_literal_length(formula, i)  # #REF!, #N/A, #DIV/0! …
        elif char in _DELIMITERS:
            j = i + 1
        else:
            j = _read_word(formula, i)
            word = formula[i:j]
            follower = _next_non_space(formula, j)
            if prev == "]" or follower in ("!", "("):
                out.append(word)  # a sheet name (also after [1]), a function name
            elif j < n and formula[j] == ":":
                shifted, pair_end = _shift_pair(formula, i, j, drow, dcol)
                if shifted:
                    out.append(shifted)
                    prev = formula[pair_end - 1]
                    i = pair_end
                    continue
                out.append(_shift_word(word, drow, dcol))
            else:
                out.append(_shift_word(word, drow, dcol))
            prev = formula[j - 1]
            i = j
            continue
        out.append(formula[i:j])
        significant = formula[i:j].strip()
        if significant:
            prev = significant[-1]
        i = j
    return "".join(out)
