"""Formula text → AST, with references stored relative to the formula's own cell.

A reference's row is kept as an *offset* from the anchor cell when it is relative (``C5`` in
row 5 → offset 0) and as an absolute row when it has ``$``. Columns are always absolute
numbers: a formula group runs down one column, so its column never shifts.

Excel precedence, tightest first: reference, unary minus, ``%``, ``^`` (left-assoc.),
``* /``, ``+ -``, ``&``, comparisons. ``-2^2`` is 4 as in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi_xl.core.cells import MAX_ROW
from kpi_xl.recalc.tokenizer import FormulaSyntaxError, Token, tokenize


class Node:
    """Base of the AST nodes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object
    """float, str, bool, or :class:`ErrorLiteral`."""


@dataclass(frozen=True, slots=True)
class ErrorLiteral:
    code: str


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    rows: tuple[tuple[object, ...], ...]


@dataclass(frozen=True, slots=True)
class Missing(Node):
    """An omitted argument, as in ``IF(A1,,1)``."""


@dataclass(frozen=True, slots=True)
class Ref(Node):
    """A cell or rectangle. Relative rows are offsets from the anchor row."""

    sheet: str | None
    row1: int
    row2: int
    rel1: bool
    rel2: bool
    col1: int
    col2: int
    whole_column: bool = False

    @property
    def width(self) -> int:
        return self.col2 - self.col1 + 1

    @property
    def mixed(self) -> bool:
        """One end moves with the row and the other does not (``$B$5:B5``)."""
        return not self.whole_column and self.rel1 != self.rel2

    @property
    def relative(self) -> bool:
        return not self.whole_column and (self.rel1 or self.rel2)


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Percent(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    """Upper case, without ``_xlfn.``-style prefixes."""
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Intersect(Node):
    """Implicit intersection of a reference with the formula's own row and column (legacy
    Excel, a plain formula: the cell of ``ref`` on the formula's row or column, else #VALUE!).
    Made by :func:`~kpi_xl.recalc.compile.implicit_intersection`, never parsed."""

    ref: Ref


@dataclass(frozen=True, slots=True)
class TopLeft(Node):
    """The top-left element of an array value (legacy Excel shows it when a plain formula's
    function returns an array). Made by :func:`~kpi_xl.recalc.compile.implicit_intersection`,
    never parsed."""

    operand: Node


_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.", "_XLL.")
_COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")


def function_name(raw: str) -> str:
    name = raw.upper()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass
class Parsed:
    ast: Node
    row_spans: list[tuple[int, int, int]]
    """(start, end, offset) of every relative row number in the text."""


def parse(formula: str, anchor_row: int) -> Parsed:
    """Parse ``formula`` as written in a cell of row ``anchor_row``."""
    return _Parser(tokenize(formula), anchor_row).parse()


class _Parser:
    def __init__(self, tokens: list[Token], anchor_row: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.anchor = anchor_row
        self.spans: list[tuple[int, int, int]] = []

    def parse(self) -> Parsed:
        if not self.tokens:
            raise FormulaSyntaxError("empty formula")
        node = self.comparison()
        if self.pos != len(self.tokens):
            raise FormulaSyntaxError(f"unexpected {self.tokens[self.pos].text!r}")
        return Parsed(node, sorted(set(self.spans)))

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take_op(self, *ops: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "OP" and token.text in ops:
            self.pos += 1
            return token.text
        return None

    def expect(self, op: str) -> None:
        if self.take_op(op) is None:
            raise FormulaSyntaxError(f"expected {op!r}")

    def comparison(self) -> Node:
        node = self.concat()
        while (op := self.take_op(*_COMPARISONS)) is not None:
            node = Binary(op, node, self.concat())
        return node

    def concat(self) -> Node:
        node = self.additive()
        while self.take_op("&"):
            node = Binary("&", node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.term()
        while (op := self.take_op("+", "-")) is not None:
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.power()
        while (op := self.take_op("*", "/")) is not None:
            node = Binary(op, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.take_op("^"):
            node = Binary("^", node, self.unary())
        return node

    def unary(self) -> Node:
        op = self.take_op("-", "+")
        if op is not None:
            operand = self.unary()
            return Unary("-", operand) if op == "-" else operand
        node = self.primary()
        while self.take_op("%"):
            node = Percent(node)
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise FormulaSyntaxError("unexpected end of formula")
        self.pos += 1
        kind = token.kind
        if kind in ("NUMBER", "STRING", "BOOL"):
            return Literal(token.value)
        if kind == "ERROR":
            return Literal(ErrorLiteral(str(token.value)))
        if kind == "REF":
            return self.reference(token)
        if kind == "NAME":
            return Name(str(token.value))
        if kind == "FUNC":
            return self.call(token)
        if token.text == "(":
            node = self.comparison()
            self.expect(")")
            return node
        if token.text == "{":
            return self.array()
        raise FormulaSyntaxError(f"unexpected {token.text!r}")

    def reference(self, token: Token) -> Ref:
        assert token.ends is not None
        first, second = token.ends
        col1, col2 = sorted((first.column, second.column))
        if first.row is None or second.row is None:
            return Ref(token.sheet, 1, MAX_ROW, False, False, col1, col2, whole_column=True)
        ends = []
        for part in (first, second):
            assert part.row is not None
            if part.row_absolute:
                ends.append((part.row, False))
            else:
                offset = part.row - self.anchor
                assert part.row_span is not None
                start, end = part.row_span
                self.spans.append((start, end, offset))
                ends.append((offset, True))
        (row1, rel1), (row2, rel2) = ends
        if rel1 == rel2 and row1 > row2:
            (row1, rel1), (row2, rel2) = (row2, rel2), (row1, rel1)
        return Ref(token.sheet, row1, row2, rel1, rel2, col1, col2)

    def call(self, token: Token) -> Call:
        self.expect("(")
        args: list[Node] = []
        if self.take_op(")"):
            return Call(function_name(token.text), ())
        while True:
            following = self.peek()
            if following is not None and following.kind == "OP" and following.text in ",)":
                args.append(Missing())
            else:
                args.append(self.comparison())
            if self.take_op(")"):
                return Call(function_name(token.text), tuple(args))
            self.expect(",")

    def array(self) -> ArrayLiteral:
        rows: list[tuple[object, ...]] = []
        row: list[object] = []
        while True:
            sign = -1.0 if self.take_op("-") else 1.0
            token = self.peek()
            if token is None or token.kind not in ("NUMBER", "STRING", "BOOL", "ERROR"):
                raise FormulaSyntaxError("array constants may hold literals only")
            self.pos += 1
            if token.kind == "NUMBER":
                row.append(sign * float(token.value))  # type: ignore[arg-type]
            elif token.kind == "ERROR":
                row.append(ErrorLiteral(str(token.value)))
            else:
                row.append(token.value)
            if self.take_op(","):
                continue
            if self.take_op(";"):
                rows.append(tuple(row))
                row = []
                continue
            self.expect("}")
            rows.append(tuple(row))
            if len({len(r) for r in rows}) != 1:
                raise FormulaSyntaxError("ragged array constant")
            return ArrayLiteral(tuple(rows))
