"""Errors HR sees: one short line, Chinese first, with the English in brackets.

Every error carries the Excel error code it shows as in a cell (``#VALUE!``, ``#N/A``,
``#DIV/0!``, ``#NUM!``), so a column result can hold an error per cell and an adapter can
turn it into a real Excel error value.
"""

from __future__ import annotations

from dataclasses import dataclass

EXCEL_ERROR_CODES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)


class KpiError(ValueError):
    """An input or rule problem, shown to HR as ``中文说明 (English)``."""

    code: str = "#VALUE!"

    def __init__(self, zh: str, en: str, *, code: str | None = None) -> None:
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code
        super().__init__(f"{zh} ({en})")

    @property
    def message(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KpiError) and (self.code, self.zh, self.en) == (
            other.code,
            other.zh,
            other.en,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.zh, self.en))

    def __reduce__(self):  # keep pickling/copying working with keyword-only code
        return (_rebuild, (type(self), self.zh, self.en, self.code))


def _rebuild(cls: type[KpiError], zh: str, en: str, code: str) -> KpiError:
    error = cls.__new__(cls)
    KpiError.__init__(error, zh, en, code=code)
    return error


class RuleError(KpiError):
    """A rule text (or rule range) that cannot be read."""


class ValueProblem(KpiError):
    """A value that cannot be scored: blank, text, an Excel error, a unit slip, no tier."""


class NoTierMatch(ValueProblem):
    code = "#N/A"


class InputErrorValue(ValueProblem):
    """An Excel error value (``#DIV/0!`` …) arrived as input; it passes through with its code."""

    def __init__(self, excel_code: str) -> None:
        super().__init__(
            f"输入是错误值 {excel_code}, 请先修正来源单元格",
            f"input is the error value {excel_code}; fix the source cell first",
            code=excel_code if excel_code in EXCEL_ERROR_CODES else "#VALUE!",
        )


@dataclass(frozen=True)
class CellProblem:
    """A problem HR fixes in one cell: sheet, A1 address (``"C5"``) and the message."""

    sheet: str
    cell: str
    message: str
