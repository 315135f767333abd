"""Split an A1-style Excel formula into tokens.

Reference tokens remember where their row digits sit in the text, so a column of formulas
can be checked for uniformity by re-rendering the first formula with shifted rows
(see :mod:`kpi_xl.recalc.compile`) instead of parsing every cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kpi_xl.core.cells import MAX_COL, MAX_ROW, column_index


class FormulaSyntaxError(ValueError):
    """Text the tokenizer or parser does not understand (reported as not computable)."""


@dataclass(frozen=True, slots=True)
class CellPart:
    """One end of a reference: ``$C$4`` → column 3 absolute, row 4 absolute.

    ``row`` is ``None`` for whole-column references (``C:C``); ``row_span`` is where the
    row digits sit in the formula text.
    """

    column: int
    column_absolute: bool
    row: int | None
    row_absolute: bool
    row_span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """One of NUMBER STRING BOOL ERROR REF NAME FUNC OP."""
    text: str
    start: int
    value: object = None
    sheet: str | None = None
    ends: tuple[CellPart, CellPart] | None = None


_ERROR_CODES = (
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!",
)
_CELL = r"(\$?)([A-Za-z]{1,3})(\$?)(\d+)"
_COLUMN = r"(\$?)([A-Za-z]{1,3})"
_CELL_RANGE = re.compile(_CELL + r"(?::" + _CELL + r")?(?![\w(.!\[])")
_COLUMN_RANGE = re.compile(_COLUMN + ":" + _COLUMN + r"(?![\w(.!\[])")
_SHEET = re.compile(r"(?:'((?:[^']|'')+)'|([^\W\d][\w.]*))!")
_STRING = re.compile(r'"((?:[^"]|"")*)"')
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FUNC = re.compile(r"[^\W\d][\w.]*(?=\()")
_NAME = re.compile(r"[^\W\d][\w.]*")
_SPACE = re.compile(r"\s+")
_OPERATORS = ("<=", ">=", "<>", "+", "-", "*", "/", "^", "&", "=", "<", ">", "%", "(", ")",
              ",", ";", "{", "}")


def _cell_part(match: re.Match[str], first_group: int) -> CellPart | None:
    col_abs, letters, row_abs, digits = match.group(*range(first_group, first_group + 4))
    if letters is None:
        return None
    column, row = column_index(letters), int(digits)
    if column > MAX_COL or not 1 <= row <= MAX_ROW:
        return None
    return CellPart(column, bool(col_abs), row, bool(row_abs), match.span(first_group + 3))


def _match_reference(text: str, pos: int) -> tuple[tuple[CellPart, CellPart], int] | None:
    match = _CELL_RANGE.match(text, pos)
    if match:
        first = _cell_part(match, 1)
        second = _cell_part(match, 5) if match.group(6) else first
        if first is not None and second is not None:
            return (first, second), match.end()
        return None
    match = _COLUMN_RANGE.match(text, pos)
    if match:
        first_col, second_col = column_index(match.group(2)), column_index(match.group(4))
        if max(first_col, second_col) > MAX_COL:
            return None
        first = CellPart(first_col, bool(match.group(1)), None, False, None)
        second = CellPart(second_col, bool(match.group(3)), None, False, None)
        return (first, second), match.end()
    return None


def tokenize(formula: str) -> list[Token]:
    """Tokens of ``formula`` (with or without the leading ``=``)."""
    text = formula
    pos = 1 if text.startswith("=") else 0
    tokens: list[Token] = []
    while pos < len(text):
        char = text[pos]
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
            continue
        if char == '"':
            match = _STRING.match(text, pos)
            if not match:
                raise FormulaSyntaxError("unterminated string")
            tokens.append(Token("STRING", match.group(0), pos, match.group(1).replace('""', '"')))
            pos = match.end()
            continue
        if char == "#":
            upper = text[pos:pos + 14].upper()
            code = next((c for c in _ERROR_CODES if upper.startswith(c)), None)
            if code is None:
                raise FormulaSyntaxError(f"unknown error literal at {pos}")
            tokens.append(Token("ERROR", code, pos, code))
            pos += len(code)
            continue
        sheet_match = _SHEET.match(text, pos)
        if sheet_match:
            reference = _match_reference(text, sheet_match.end())
            if reference is None:
                raise FormulaSyntaxError(f"unsupported sheet reference at {pos}")
            quoted, plain = sheet_match.groups()
            sheet = quoted.replace("''", "'") if quoted is not None else plain
            ends, end = reference
            tokens.append(Token("REF", text[pos:end], pos, sheet=sheet, ends=ends))
            pos = end
            continue
        reference = _match_reference(text, pos)
        if reference is not None:
            ends, end = reference
            tokens.append(Token("REF", text[pos:end], pos, ends=ends))
            pos = end
            continue
        match = _NUMBER.match(text, pos)
        if match:
            tokens.append(Token("NUMBER", match.group(0), pos, float(match.group(0))))
            pos = match.end()
            continue
        match = _FUNC.match(text, pos)
        if match:
            tokens.append(Token("FUNC", match.group(0), pos, match.group(0).upper()))
            pos = match.end()
            continue
        match = _NAME.match(text, pos)
        if match:
            word = match.group(0)
            if word.upper() in ("TRUE", "FALSE"):
                tokens.append(Token("BOOL", word, pos, word.upper() == "TRUE"))
            else:
                tokens.append(Token("NAME", word, pos, word))
            pos = match.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        if operator is None:
            raise FormulaSyntaxError(f"unexpected character {char!r} at {pos}")
        tokens.append(Token("OP", operator, pos))
        pos += len(operator)
    return tokens
