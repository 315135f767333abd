"""Formula cells → groups: runs down a column whose formulas are the same in R1C1 terms.

The first formula of a run is parsed; each following cell joins the run when its text equals
the first formula re-rendered with its relative row numbers shifted (a string format, no
parse). Each group's AST is then checked (known functions, names resolved, sheets known); a
plain (non-array) formula's is made to give one value by implicit intersection; its references
are listed for the dependency graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from itertools import repeat

from kpi_xl.core.cells import MAX_ROW, column_index
from kpi_xl.recalc.parser import (
    ArrayLiteral,
    Binary,
    Call,
    Intersect,
    Literal,
    Missing,
    Name,
    Node,
    Percent,
    Ref,
    TopLeft,
    Unary,
    parse,
)
from kpi_xl.recalc.template import Template
from kpi_xl.recalc.tokenizer import FormulaSyntaxError
from kpi_xl.workbook.model import BookData, Formulas

Rect = tuple[str, int, int, int, int]
"""(sheet, first row, last row, first column, last column)."""

ELEMENTWISE = frozenset({
    "IF", "IFERROR", "IFNA", "IFS", "SWITCH", "ISBLANK", "ISNUMBER", "ISTEXT", "ISLOGICAL",
    "ISERROR", "ISNA", "NOT", "ROUND", "ROUNDUP", "ROUNDDOWN", "INT", "ABS", "MOD", "VALUE",
    "LEN", "TRIM", "TEXT", "CONCATENATE",
})


@dataclass
class Group:
    """Formula cells computed by one evaluation: rows ``row0 …`` of one column."""

    sheet: str
    col: int
    row0: int
    count: int
    formula: str
    ast: Node | None = None
    problem: str | None = None
    target: tuple[int, int, int, int] | None = None
    """Array (CSE) formula: (first row, first column, last row, last column) it fills."""
    refs: list[Rect] = field(default_factory=list)
    row_by_row: bool = False

    @property
    def last_row(self) -> int:
        return self.row0 + self.count - 1

    def cells(self) -> Iterator[tuple[int, int]]:
        for row in range(self.row0, self.row0 + self.count):
            yield row, self.col


_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")


def parse_range(text: str) -> tuple[int, int, int, int]:
    """``"X5:X40"`` → (5, 24, 40, 24)."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise FormulaSyntaxError(f"bad range {text!r}")
    col1, row1 = column_index(match.group(1)), int(match.group(2))
    col2 = column_index(match.group(3)) if match.group(3) else col1
    row2 = int(match.group(4)) if match.group(4) else row1
    return min(row1, row2), min(col1, col2), max(row1, row2), max(col1, col2)


def build_groups(book: BookData, known_function: Callable[[str], bool],
                 group_rows: bool = True) -> list[Group]:
    """All formula cells of ``book`` as checked groups (``group_rows=False``: one per cell).

    Plain (non-array) formulas are legacy single-cell formulas, as an xlsx stores them
    (Excel 365 saves a dynamic-array formula as an array formula), computed with
    :func:`implicit_intersection`."""
    names = _Names(book)
    sheet_names = {name.casefold(): name for name in book.sheets}
    groups: list[Group] = []
    for sheet in book.sheets.values():
        covered: list[tuple[int, int, int, int]] = []
        for anchor, fill in sheet.array_formulas.items():
            row, col = anchor
            text = sheet.formulas.get(anchor)
            group = Group(sheet.name, col, row, 1, text or "")
            try:
                group.target = parse_range(fill)
            except FormulaSyntaxError as exc:
                group.problem = f"不支持的公式语法 (unsupported formula syntax): {exc}"
            if text is None:
                group.problem = "数组公式没有公式文本 (array formula without text)"
            else:
                _prepare(group, row, names, sheet_names, known_function)
                finish_array_group(group)
            covered.append((row, col, row, col))
            if group.target is not None:
                covered.append(group.target)
            groups.append(group)
        for col, blocks in _formula_columns(sheet.formulas, covered):
            groups.extend(_column_groups(sheet.name, col, blocks, names, sheet_names,
                                         known_function, group_rows))
    return groups


Segment = tuple[int, int, str]
"""Rows ``first … last`` of a column whose formulas share one row pattern
(:class:`~kpi_xl.workbook.model.FormulaRuns`)."""


def _formula_columns(formulas: Formulas, covered: list[tuple[int, int, int, int]]
                     ) -> Iterator[tuple[int, list[list[Segment]]]]:
    """Per column, its formulas outside the ``covered`` rectangles (first row, first column,
    last row, last column) as blocks of consecutive rows, each a list of segments."""
    for col, _ in formulas.columns():
        segments = list(formulas.column(col).runs())
        for r1, c1, r2, c2 in covered:
            if c1 <= col <= c2:
                segments = [piece for first, last, pattern in segments
                            for piece in ((first, min(last, r1 - 1), pattern),
                                          (max(first, r2 + 1), last, pattern))
                            if piece[0] <= piece[1]]
        blocks: list[list[Segment]] = []
        for segment in segments:
            if blocks and segment[0] == blocks[-1][-1][1] + 1:
                blocks[-1].append(segment)
            else:
                blocks.append([segment])
        if blocks:
            yield col, blocks


def _column_groups(sheet: str, col: int, blocks: list[list[Segment]], names: _Names,
                   sheet_names: dict[str, str], known_function: Callable[[str], bool],
                   group_rows: bool) -> list[Group]:
    """A column's formulas as groups: each run of rows whose formulas are one R1C1 formula."""
    groups = []
    for block in blocks:
        index, row = 0, block[0][0]
        while index < len(block):
            group = Group(sheet, col, row, 1, block[index][2].replace("\0", str(row)))
            template = _prepare(group, row, names, sheet_names, known_function)
            if template is not None and group_rows:
                group.count = _repeated_rows(template, block, index, row + 1) - row
            _finish(group)
            groups.append(group)
            row += group.count
            while index < len(block) and row > block[index][1]:
                index += 1
    return groups


def _repeated_rows(template: Template, block: list[Segment], index: int, row: int) -> int:
    """The first row from ``row`` down ``block`` (from its segment ``index``) whose formula
    is not ``template``'s. A segment whose pattern is the template's own is taken whole;
    others are compared row by row."""
    own = template.row_pattern
    for first, last, pattern in block[index:]:
        row = max(row, first)
        if row > last:
            continue
        if pattern == own:
            row = last + 1
            continue
        texts = list(map(pattern.replace, repeat("\0"), map(str, range(row, last + 1))))
        matched = template.repeats(row, texts, 0, len(texts))
        row += matched
        if matched < len(texts):
            break
    return row


def _prepare(group: Group, row: int, names: _Names, sheet_names: dict[str, str],
             known_function: Callable[[str], bool]) -> Template | None:
    """Parse and check the group's formula; returns the template when it parsed."""
    try:
        parsed = parse(group.formula, row)
    except FormulaSyntaxError as exc:
        group.problem = f"不支持的公式语法 (unsupported formula syntax): {exc}"
        return None
    try:
        group.ast = _resolve(parsed.ast, group.sheet, names, sheet_names, known_function)
    except _Unsupported as exc:
        group.problem = str(exc)
    return Template(group.formula, parsed)


class _Unsupported(Exception):
    pass


class _Names:
    def __init__(self, book: BookData) -> None:
        self.texts = {name.casefold(): text for name, text in book.defined_names.items()}
        self.parsed: dict[str, Node] = {}

    def get(self, name: str, depth: int = 0) -> Node:
        key = name.casefold()
        if key not in self.texts or depth > 10:
            raise _Unsupported(f"未知的名称 {name} (unknown name {name})")
        if key not in self.parsed:
            try:
                node = parse(self.texts[key], 1).ast
            except FormulaSyntaxError as exc:
                raise _Unsupported(f"名称 {name} 无法读取 (name {name} cannot be read)") from exc
            for ref in _walk_refs(node):
                if ref.relative or ref.sheet is None:
                    raise _Unsupported(
                        f"名称 {name} 含相对引用或无工作表 "
                        f"(name {name} has a relative or sheet-less reference)")
            self.parsed[key] = node
        return self.parsed[key]


def sheets_in_use(groups: list[Group]) -> set[str]:
    """The sheets that formulas write to or read from; the others need not be loaded."""
    used = {group.sheet for group in groups}
    for ast in {id(group.ast): group.ast for group in groups if group.ast is not None}.values():
        used.update(ref.sheet for ref in _walk_refs(ast) if ref.sheet is not None)
    return used


def _walk_refs(node: Node) -> Iterator[Ref]:
    if isinstance(node, Ref):
        yield node
    elif isinstance(node, Intersect):
        yield node.ref
    elif isinstance(node, Unary | Percent | TopLeft):
        yield from _walk_refs(node.operand)
    elif isinstance(node, Binary):
        yield from _walk_refs(node.left)
        yield from _walk_refs(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from _walk_refs(arg)


def _resolve(node: Node, sheet: str, names: _Names, sheet_names: dict[str, str],
             known_function: Callable[[str], bool], depth: int = 0) -> Node:
    """Names inlined, sheet names normalised, functions checked."""
    def again(child: Node) -> Node:
        return _resolve(child, sheet, names, sheet_names, known_function, depth)

    if isinstance(node, Ref):
        if node.sheet is None or node.sheet == sheet:
            return replace(node, sheet=sheet)
        actual = sheet_names.get(node.sheet.casefold())
        if actual is None:
            raise _Unsupported(f"找不到工作表 {node.sheet} (unknown sheet {node.sheet})")
        return replace(node, sheet=actual)
    if isinstance(node, Name):
        return _resolve(names.get(node.name, depth), sheet, names, sheet_names, known_function,
                        depth + 1)
    if isinstance(node, Unary | Percent):
        return replace(node, operand=again(node.operand))
    if isinstance(node, Binary):
        return replace(node, left=again(node.left), right=again(node.right))
    if isinstance(node, Call):
        if not known_function(node.name):
            raise _Unsupported(f"不支持的函数 {node.name} (unsupported function {node.name})")
        return replace(node, args=tuple(again(arg) for arg in node.args))
    if isinstance(node, Literal | ArrayLiteral | Missing):
        return node
    raise _Unsupported(f"不支持的公式语法 (unsupported syntax {type(node).__name__})")


def _dependency_refs(node: Node) -> Iterator[Ref]:
    """References whose values a formula reads (not the bare arguments of ROW/COLUMN)."""
    if isinstance(node, Call) and node.name in ("ROW", "COLUMN"):
        return
    if isinstance(node, Ref):
        yield node
        return
    for item in fields(node):  # type: ignore[arg-type]
        child = getattr(node, item.name)
        if isinstance(child, Node):
            yield from _dependency_refs(child)
        elif isinstance(child, tuple):
            for element in child:
                if isinstance(element, Node):
                    yield from _dependency_refs(element)


def _rect(ref: Ref, first_row: int, last_row: int) -> Rect:
    assert ref.sheet is not None
    if ref.whole_column:
        return ref.sheet, 1, MAX_ROW, ref.col1, ref.col2
    tops = [first_row + ref.row1, last_row + ref.row1] if ref.rel1 else [ref.row1]
    bottoms = [first_row + ref.row2, last_row + ref.row2] if ref.rel2 else [ref.row2]
    ends = tops + bottoms
    return ref.sheet, max(1, min(ends)), max(ends), ref.col1, ref.col2


def _finish(group: Group) -> None:
    """A plain formula to one value by implicit intersection (or its problem), then decide
    row-by-row evaluation and list references."""
    if group.ast is None or group.problem is not None:
        return
    group.problem = legacy_problem(group.ast)
    if group.problem is not None:
        return
    height, width = static_extent(group.ast)
    if height * width > 1:
        group.ast = implicit_intersection(group.ast)
    refs = list(_dependency_refs(group.ast))
    if group.count > 1:
        for ref in refs:
            sheet, r1, r2, c1, c2 = _rect(ref, group.row0, group.last_row)
            inside = sheet == group.sheet and c1 <= group.col <= c2 and \
                r1 <= group.last_row and r2 >= group.row0
            if ref.mixed or inside:
                group.row_by_row = True
    group.refs = [_rect(ref, group.row0, group.last_row) for ref in refs]


def implicit_intersection(node: Node) -> Node:
    """``node`` as legacy Excel computes it in a plain (non-array) formula: one value.

    Excel's rules (support.microsoft.com, "Implicit intersection operator: @"): a range where
    one value is expected gives its cell on the formula's row or column (#VALUE! when there is
    none); an array gives its top-left value. Down the formula's value — operators and the
    element-wise functions (IF, ROUND …) — each multi-cell reference is intersected and each
    array literal or function call that may return an array (KPI_ functions: Excel passes them
    their ranges whole, then shows the top-left of the result; ROW/COLUMN of a range) gives
    its top-left value. Arguments of other functions (SUM, SUMPRODUCT, lookups, KPI_ …) are
    left as they are: those functions take ranges (:func:`legacy_problem` lists a formula
    whose arguments compute on a range)."""
    if isinstance(node, Ref):
        single = not node.whole_column and node.width == 1 and node.rel1 == node.rel2 and \
            node.row1 == node.row2
        return node if single else Intersect(node)
    if isinstance(node, ArrayLiteral):
        return node if len(node.rows) * len(node.rows[0]) == 1 else TopLeft(node)
    if isinstance(node, Unary | Percent):
        return replace(node, operand=implicit_intersection(node.operand))
    if isinstance(node, Binary):
        return replace(node, left=implicit_intersection(node.left),
                       right=implicit_intersection(node.right))
    if isinstance(node, Call):
        if node.name in ELEMENTWISE:
            return replace(node, args=tuple(map(implicit_intersection, node.args)))
        height, width = static_extent(node)
        return TopLeft(node) if height * width > 1 else node
    return node


ARRAY_PARAMETERS: dict[str, frozenset[int] | None] = {
    "SUMPRODUCT": None, "LOOKUP": frozenset({1, 2}), "INDEX": frozenset({0}),
}
"""Arguments (by position; ``None``: all) that legacy Excel computes as arrays even in a plain
formula (``SUMPRODUCT((A1:A9>0)*B1:B9)``). Elsewhere an operator over a range in an argument
is reduced to one value by implicit intersection (``SUM(A1:A3*B1:B3)`` typed in row 2 is
``A2*B2``)."""


def legacy_problem(node: Node, arrays: bool = False) -> str | None:
    """Why a plain formula cannot be computed as legacy Excel computes it: an argument of a
    function (SUM, MATCH, KPI_ …) that computes on a range (``SUM(A1:A3*2)``, where Excel
    reduces ``A1:A3*2`` to one value first, in ways this engine does not decide); ``None``
    when there is none. ``arrays``: inside an argument Excel computes as an array."""
    if isinstance(node, Unary | Percent):
        return legacy_problem(node.operand, arrays)
    if isinstance(node, Binary):
        return legacy_problem(node.left, arrays) or legacy_problem(node.right, arrays)
    if not isinstance(node, Call):
        return None
    elementwise = node.name in ELEMENTWISE
    positions = ARRAY_PARAMETERS.get(node.name, frozenset())
    for index, arg in enumerate(node.args):
        inner = arrays or positions is None or index in positions
        if not inner and not elementwise and _computes_on_a_range(arg):
            return (f"普通公式 (非数组公式) 中 {node.name} 的参数是对区域的运算 (如 A1:A9*2), "
                    f"Excel 会先按隐式交集只取其中一个值, 这里无法确定; 请在 Excel 中改为数组"
                    f"公式, 或直接引用区域 (in a plain, non-array formula an argument of "
                    f"{node.name} computes on a range, like A1:A9*2: Excel first reduces it to "
                    f"one value by implicit intersection, which cannot be determined here; "
                    f"make it an array formula in Excel, or pass the range itself)")
        problem = legacy_problem(arg, inner)
        if problem is not None:
            return problem
    return None


def _computes_on_a_range(node: Node) -> bool:
    """An operator or element-wise function over a value that may hold several cells."""
    if not isinstance(node, Unary | Percent | Binary) and not (
            isinstance(node, Call) and node.name in ELEMENTWISE):
        return False
    height, width = static_extent(node)
    return height * width > 1


def finish_array_group(group: Group) -> None:
    """References of an array-formula group (its rows do not move)."""
    if group.ast is not None and group.problem is None:
        group.refs = [_rect(ref, group.row0, group.row0) for ref in _dependency_refs(group.ast)]


def split_rows(group: Group) -> list[Group]:
    """A group whose formula reads its own cells, as single-cell groups (same AST)."""
    parts = []
    for row in range(group.row0, group.row0 + group.count):
        part = Group(group.sheet, group.col, row, 1, group.formula, ast=group.ast)
        assert group.ast is not None
        part.refs = [_rect(ref, row, row) for ref in _dependency_refs(group.ast)]
        parts.append(part)
    return parts


def static_extent(node: Node) -> tuple[int, int]:
    """Upper bound of the array size a formula can return."""
    if isinstance(node, Ref):
        height = MAX_ROW if node.whole_column else (
            node.row2 - node.row1 + 1 if node.rel1 == node.rel2 else MAX_ROW)
        return height, node.width
    if isinstance(node, ArrayLiteral):
        return len(node.rows), len(node.rows[0])
    if isinstance(node, Unary | Percent):
        return static_extent(node.operand)
    if isinstance(node, Binary):
        (h1, w1), (h2, w2) = static_extent(node.left), static_extent(node.right)
        return max(h1, h2), max(w1, w2)
    if isinstance(node, Call):
        if node.name in ("ROW", "COLUMN"):
            if not node.args:
                return 1, 1
            height, width = static_extent(node.args[0])
            return (height, 1) if node.name == "ROW" else (1, width)
        extents = [static_extent(arg) for arg in node.args]
        if node.name in ELEMENTWISE:
            return max((h for h, _ in extents), default=1), max((w for _, w in extents), default=1)
        from kpi_xl.recalc.functions_table import BUILTINS

        if node.name in BUILTINS:
            return 1, 1
        return max((h for h, _ in extents), default=1), 1
    return 1, 1


def array_work(node: Node) -> int:
    """Largest per-row array an elementwise step of ``node`` may build (0 when none):
    decides how many rows to evaluate at once."""
    best = 0
    if isinstance(node, Binary | Unary | Percent) or (
            isinstance(node, Call) and node.name in ELEMENTWISE):
        height, width = static_extent(node)
        if height * width > 1 and any(ref.relative for ref in _walk_refs(node)):
            best = height * width
    for item in fields(node):  # type: ignore[arg-type]
        child = getattr(node, item.name)
        children = child if isinstance(child, tuple) else (child,)
        for element in children:
            if isinstance(element, Node):
                best = max(best, array_work(element))
    return best
