"""An expression checked against the names it may use: every measure known, every filter on
a dimension of its measure and a value of that dimension, numbers where numbers go and
conditions where conditions go, and no indicator that ends up using itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.indicators.expressions.errors import ExpressionError
from services.indicators.expressions.names import Names
from services.indicators.expressions.nodes import (
    Call,
    Chain,
    Compare,
    Logical,
    Measure,
    Negate,
    Node,
    Number,
    measures,
)

Type = Literal["number", "condition"]
_SHOWN = 40


@dataclass(frozen=True)
class Checked:
    """What a valid expression uses."""

    measures: frozenset[str]
    indicators: frozenset[str]


def check(tree: Node, names: Names, defining: str | None = None) -> Checked:
    """Every error of the expression is an ExpressionError at its position (the first one
    found is raised). `defining` is the code of the indicator the expression belongs to:
    using it, directly or through other indicators, is a cycle."""
    used_measures: set[str] = set()
    used_indicators: set[str] = set()
    for measure in measures(tree):
        if measure.name in names.measures:
            _check_filters(measure, names)
            used_measures.add(measure.name)
        elif measure.name in names.indicators or measure.name == defining:
            if measure.filters:
                raise ExpressionError(
                    f"{measure.name} is an indicator: it takes no filters", measure.position
                )
            _check_no_cycle(measure, names, defining)
            used_indicators.add(measure.name)
        else:
            raise ExpressionError(
                f"unknown measure {measure.name[:_SHOWN]!r}: no service, reference data or "
                "indicator publishes it (see GET /catalog)",
                measure.position,
            )
    if _type_of(tree) != "number":
        raise ExpressionError("the expression must give a number, not a condition", tree.position)
    return Checked(frozenset(used_measures), frozenset(used_indicators))


def _check_filters(measure: Measure, names: Names) -> None:
    info = names.measures[measure.name]
    seen: set[str] = set()
    for item in measure.filters:
        dimension = info.dimensions.get(item.dimension)
        if dimension is None:
            known = ", ".join(sorted(info.dimensions)) or "none"
            raise ExpressionError(
                f"{measure.name} has no dimension {item.dimension[:_SHOWN]!r}; its dimensions: "
                f"{known}",
                item.position,
            )
        if item.dimension in seen:
            raise ExpressionError(
                f"{item.dimension} is filtered twice in one measure", item.position
            )
        seen.add(item.dimension)
        if dimension.values is not None:
            unknown = [value for value in item.values if value not in dimension.values]
            if unknown:
                raise ExpressionError(
                    f"{unknown[0][:_SHOWN]!r} is not a value of {item.dimension}; expected one "
                    f"of: {', '.join(sorted(dimension.values))}",
                    item.position,
                )


def _check_no_cycle(measure: Measure, names: Names, defining: str | None) -> None:
    """The indicators `measure` names, and those they name in turn, never lead back to the
    one being defined."""
    if defining is None:
        return
    path = [measure.name]
    stack = [(measure.name, [measure.name])]
    visited: set[str] = set()
    while stack:
        code, path = stack.pop()
        if code == defining:
            raise ExpressionError("cycle: " + " -> ".join([defining, *path]), measure.position)
        if code in visited:
            continue
        visited.add(code)
        ref = names.indicators.get(code)
        if ref is not None:
            stack.extend((used, [*path, used]) for used in sorted(ref.uses))


def _type_of(node: Node) -> Type:
    # The parser bounds the depth of any tree (MAX_DEPTH): recursion here is safe.
    if isinstance(node, Number | Measure):
        return "number"
    if isinstance(node, Negate):
        assert node.operand is not None
        _expect(node.operand, "number", "- applies to a number")
        return "number"
    if isinstance(node, Chain):
        assert node.first is not None
        _expect(node.first, "number", "arithmetic applies to numbers")
        for _, operand in node.rest:
            _expect(operand, "number", "arithmetic applies to numbers")
        return "number"
    if isinstance(node, Compare):
        assert node.left is not None and node.right is not None
        _expect(node.left, "number", f"{node.operator} compares numbers")
        _expect(node.right, "number", f"{node.operator} compares numbers")
        return "condition"
    if isinstance(node, Logical):
        for operand in node.operands:
            _expect(operand, "condition", f"{node.operator} joins conditions")
        return "condition"
    if isinstance(node, Call):
        return _type_of_call(node)
    raise AssertionError(f"unknown node {type(node).__name__}")


def _type_of_call(node: Call) -> Type:
    arguments = node.arguments
    if node.function == "if":
        if len(arguments) != 3:
            raise ExpressionError(
                "if takes three arguments: a condition, then two numbers", node.position
            )
        _expect(arguments[0], "condition", "the first argument of if is a condition")
        _expect(arguments[1], "number", "if gives a number")
        _expect(arguments[2], "number", "if gives a number")
        return "number"
    if node.function in ("greatest", "least") and len(arguments) < 2:
        raise ExpressionError(f"{node.function} takes at least two numbers", node.position)
    for argument in arguments:
        _expect(argument, "number", f"{node.function} takes numbers")
    return "number"


def _expect(node: Node, expected: Type, rule: str) -> None:
    found = _type_of(node)
    if found != expected:
        raise ExpressionError(f"type error: {rule}, this is a {found}", node.position)
