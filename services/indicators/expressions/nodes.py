"""The tree an expression parses into. Sums and products are flat chains rather than nested
pairs, so a long `a + b + c + ...` is one wide node, not a deep one: the depth of a tree is
bounded by its parentheses, negations and function calls, which the parser limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Operator = Literal["+", "-", "*", "/"]
Comparison = Literal["==", "!=", "<", ">", "<=", ">="]
Function = Literal["if", "coalesce", "greatest", "least"]
FilterOperator = Literal["=", "!=", "in"]


@dataclass(frozen=True)
class Position:
    """Where a node starts in the text: 1-based line and column, 0-based offset."""

    line: int
    column: int
    offset: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True)
class Node:
    position: Position
    # 1 for a leaf; parents one more than their deepest child.
    depth: int = field(default=1, compare=False)


@dataclass(frozen=True)
class Number(Node):
    value: Decimal = Decimal(0)


@dataclass(frozen=True)
class Filter:
    """`dimension = value`, `dimension != value` or `dimension in (a, b)`."""

    dimension: str
    operator: FilterOperator
    values: tuple[str, ...]
    position: Position

    def text(self) -> str:
        if self.operator == "in":
            return f"{self.dimension} in ({', '.join(self.values)})"
        return f"{self.dimension}{self.operator}{self.values[0]}"


@dataclass(frozen=True)
class Measure(Node):
    """`#{name|dim=value,...}`: a measure a service or the reference data publishes, or
    another indicator by its code."""

    name: str = ""
    filters: tuple[Filter, ...] = ()

    def text(self) -> str:
        if not self.filters:
            return f"#{{{self.name}}}"
        return f"#{{{self.name}|{','.join(f.text() for f in self.filters)}}}"


@dataclass(frozen=True)
class Negate(Node):
    operand: Node | None = None


@dataclass(frozen=True)
class Chain(Node):
    """`first op1 x1 op2 x2 ...`, applied left to right: a sum (+ -) or a product (* /)."""

    first: Node | None = None
    rest: tuple[tuple[Operator, Node], ...] = ()


@dataclass(frozen=True)
class Compare(Node):
    operator: Comparison = "=="
    left: Node | None = None
    right: Node | None = None


@dataclass(frozen=True)
class Logical(Node):
    """`a and b and ...` or `a or b or ...`."""

    operator: Literal["and", "or"] = "and"
    operands: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Call(Node):
    function: Function = "coalesce"
    arguments: tuple[Node, ...] = ()


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly under `node`."""
    if isinstance(node, Negate) and node.operand is not None:
        return (node.operand,)
    if isinstance(node, Chain) and node.first is not None:
        return (node.first, *(operand for _, operand in node.rest))
    if isinstance(node, Compare) and node.left is not None and node.right is not None:
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Call):
        return node.arguments
    return ()


def measures(node: Node) -> list[Measure]:
    """Every measure in the tree, in the order written (walked with a stack, not recursion)."""
    found: list[Measure] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Measure):
            found.append(current)
        stack.extend(reversed(children(current)))
    return found
