"""The grammar of DOMAIN.md in lark's notation, and the callbacks that build the tree while
the LALR parser reduces (iteratively: no recursion however deep the input nests)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from lark import Token, Transformer

from services.indicators.expressions.errors import ExpressionError
from services.indicators.expressions.nodes import (
    Call,
    Chain,
    Compare,
    Filter,
    FilterOperator,
    Logical,
    Measure,
    Negate,
    Node,
    Number,
    Position,
)

GRAMMAR = r"""
?start: expr
?expr: or_
?or_: and_ (_OR and_)*
?and_: cmp (_AND cmp)*
?cmp: sum (CMP sum)?
?sum: product ((PLUS | MINUS) product)*
?product: unary ((TIMES | DIVIDE) unary)*
?unary: MINUS unary -> negate
      | primary
?primary: NUMBER -> number
        | measure
        | FUNC _LPAR expr (_COMMA expr)* _RPAR -> call
        | _LPAR expr _RPAR
measure: MEASURE_OPEN NAME (_BAR filter (_COMMA filter)*)? _RBRACE
filter: DIM FILTER_EQ value
      | DIM FILTER_NE value
      | DIM _IN _LPAR value (_COMMA value)* _RPAR
?value: VALUE | STRING

_OR: "or"
_AND: "and"
_IN: "in"
FUNC.2: "if" | "coalesce" | "greatest" | "least"
CMP: "==" | "!=" | "<=" | ">=" | "<" | ">"
FILTER_EQ: "="
FILTER_NE: "!="
PLUS: "+"
MINUS: "-"
TIMES: "*"
DIVIDE: "/"
_LPAR: "("
_RPAR: ")"
_COMMA: ","
_BAR: "|"
_RBRACE: "}"
MEASURE_OPEN: "#{"
NUMBER: /[0-9]+(\.[0-9]+)?/
NAME: /[A-Za-z][A-Za-z0-9_]*/
DIM: /[a-z][a-z0-9_]*/
VALUE: /[A-Za-z0-9_.:+-]+/
STRING: /"[^"\\\n]*"/

%ignore /[ \t\r\n]+/
"""

# A number literal with more digits than this is not a figure anyone writes in a definition
# (the largest money sums are far below 10^15), only a way to make arithmetic expensive.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10


class TreeBuilder(Transformer[Token, Node]):
    """One callback per rule, called by the parser as it reduces. Holds no state of a
    parse, so one parser serves every request."""

    def __init__(self, max_depth: int) -> None:
        super().__init__()
        self.max_depth = max_depth

    def _position(self, token: Token) -> Position:
        return Position(cast(int, token.line), cast(int, token.column), cast(int, token.start_pos))

    def _deeper(self, position: Position, *below: Node) -> int:
        depth = 1 + max((node.depth for node in below), default=0)
        if depth > self.max_depth:
            raise ExpressionError(
                f"the expression nests more than {self.max_depth} levels deep", position
            )
        return depth

    def number(self, children: list[Any]) -> Number:
        token: Token = children[0]
        whole, _, fraction = str(token).partition(".")
        position = self._position(token)
        if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
            raise ExpressionError(
                f"number too long: at most {MAX_INTEGER_DIGITS} digits before the point and "
                f"{MAX_FRACTION_DIGITS} after",
                position,
            )
        return Number(position, value=Decimal(str(token)))

    def negate(self, children: list[Any]) -> Negate:
        operand: Node = children[1]
        position = self._position(children[0])
        return Negate(position, self._deeper(position, operand), operand=operand)

    def _chain(self, children: list[Any]) -> Chain:
        first: Node = children[0]
        rest = tuple(
            (str(children[index]), children[index + 1]) for index in range(1, len(children), 2)
        )
        operands = [first, *(operand for _, operand in rest)]
        return Chain(
            first.position,
            self._deeper(first.position, *operands),
            first=first,
            rest=rest,  # type: ignore[arg-type]
        )

    sum = _chain
    product = _chain

    def cmp(self, children: list[Any]) -> Compare:
        left, operator, right = children
        return Compare(
            left.position,
            self._deeper(left.position, left, right),
            operator=str(operator),  # type: ignore[arg-type]
            left=left,
            right=right,
        )

    def or_(self, children: list[Any]) -> Logical:
        return self._logical("or", children)

    def and_(self, children: list[Any]) -> Logical:
        return self._logical("and", children)

    def _logical(self, operator: str, operands: list[Node]) -> Logical:
        position = operands[0].position
        return Logical(
            position,
            self._deeper(position, *operands),
            operator=operator,  # type: ignore[arg-type]
            operands=tuple(operands),
        )

    def call(self, children: list[Any]) -> Call:
        function: Token = children[0]
        arguments: list[Node] = children[1:]
        position = self._position(function)
        return Call(
            position,
            self._deeper(position, *arguments),
            function=str(function),  # type: ignore[arg-type]
            arguments=tuple(arguments),
        )

    def measure(self, children: list[Any]) -> Measure:
        opening: Token = children[0]
        name: Token = children[1]
        filters: list[Filter] = children[2:]
        return Measure(self._position(opening), name=str(name), filters=tuple(filters))

    def filter(self, children: list[Any]) -> Filter:
        dimension: Token = children[0]
        position = self._position(dimension)
        if len(children) == 3 and getattr(children[1], "type", None) in ("FILTER_EQ", "FILTER_NE"):
            operator: FilterOperator = "=" if children[1].type == "FILTER_EQ" else "!="
            return Filter(str(dimension), operator, (_value(children[2]),), position)
        values = tuple(dict.fromkeys(_value(token) for token in children[1:]))
        return Filter(str(dimension), "in", values, position)


def _value(token: Token) -> str:
    text = str(token)
    return text[1:-1] if token.type == "STRING" else text
