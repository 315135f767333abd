"""A1 cell addresses: column letters ↔ numbers, ``(row, col)`` ↔ ``"C5"``.

One place for the arithmetic every layer needs (the recalc engine, the payroll core naming
cells in 异常, the workbook I/O), cached because it runs per cell.
"""

from __future__ import annotations

from functools import cache

MAX_ROW = 1_048_576
MAX_COL = 16_384


@cache
def column_index(letters: str) -> int:
    """``"A"`` → 1, ``"XFD"`` → 16384 (case-insensitive)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index


@cache
def column_letters(index: int) -> str:
    """1 → ``"A"``, 16384 → ``"XFD"``."""
    if not 1 <= index <= MAX_COL:
        raise ValueError(f"column {index} out of range 1..{MAX_COL}")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def coordinate(row: int, col: int) -> str:
    """``(5, 3)`` → ``"C5"``."""
    return f"{column_letters(col)}{row}"


def row_pattern(text: str, row: int) -> str:
    """A formula's ``text`` with every occurrence of its ``row``'s number as ``\\0``: the
    cells of a column filled down share one pattern (a formula never holds NUL, so nothing is
    lost; the workbook model keeps formulas as runs of one pattern, the payroll compares
    them)."""
    return text.replace(str(row), "\0")
