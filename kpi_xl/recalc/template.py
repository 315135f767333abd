"""A parsed formula re-rendered for other rows of its column (a fill down), by string joins.

The recalc groups a column's formulas with it; the workbook reader expands a shared formula
with it (one parse per shared formula instead of shifting every reference of every cell).
"""

from __future__ import annotations

import operator
from itertools import repeat

from kpi_xl.recalc.parser import Parsed


class Template:
    """A parsed formula that can re-render itself for other rows of its column."""

    def __init__(self, text: str, parsed: Parsed) -> None:
        self.text = text
        self.offsets = sorted({offset for _, _, offset in parsed.row_spans})
        """The distinct relative row offsets; the text between their numbers is ``pieces``."""
        slot = {offset: index for index, offset in enumerate(self.offsets)}
        self.pieces: list[str] = []
        self.format = ""
        position = 0
        for start, end, offset in parsed.row_spans:
            self.pieces.append(text[position:start])
            self.format += _escaped(text[position:start]) + f"{{{slot[offset]}}}"
            position = end
        self.pieces.append(text[position:])
        self.format += _escaped(text[position:])
        self.row_pattern = "\0".join(self.pieces) if self.offsets == [0] else None
        """The formula's text with its own row number as NUL wherever it depends on the row
        (:func:`~kpi_xl.core.cells.row_pattern`), for a formula that refers only to its
        own row; ``None`` otherwise."""

    def render(self, row: int) -> str:
        return self.render_rows(row, 1)[0]

    def render_rows(self, row: int, count: int) -> list[str]:
        """The formula as written in rows ``row … row + count - 1``."""
        if not self.offsets:
            return [self.text] * count
        if len(self.offsets) == 1:  # the usual case, and joining is quicker than formatting
            first = row + self.offsets[0]
            return list(map(str.join, map(str, range(first, first + count)),
                            repeat(self.pieces, count)))
        return list(map(self.format.format,
                        *(range(row + offset, row + offset + count) for offset in self.offsets)))

    def repeats(self, row: int, texts: list[str], start: int, stop: int) -> int:
        """How many of ``texts[start:stop]`` (the formulas of rows ``row``, ``row + 1`` …)
        are, from the first on, this formula. Compared in chunks that double in size, so a
        short run costs little."""
        matched = 0
        size = 4
        while start + matched < stop:
            chunk = texts[start + matched:min(stop, start + matched + size)]
            rendered = self.render_rows(row + matched, len(chunk))
            if rendered != chunk:
                return matched + list(map(operator.eq, rendered, chunk)).index(False)
            matched += len(chunk)
            size *= 2
        return matched


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")

