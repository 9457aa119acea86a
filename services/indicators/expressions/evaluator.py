"""An expression's value, by walking its tree. Measures are looked up by the caller (the
figures of one cell, fetched beforehand); a missing figure or a division by zero gives no
value and the reason, never an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, localcontext

from services.indicators.expressions.nodes import (
    Call,
    Chain,
    Compare,
    Logical,
    Measure,
    Negate,
    Node,
    Number,
)

# Ample for sums of francs and ratios of them; exact for every integer a service publishes.
_CONTEXT = Context(prec=34)


class NoValue(Exception):
    """The expression has no value here, for `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    value: Decimal | None
    reason: str | None = None


# The value of a measure in the cell being computed; raises NoValue when there is none.
Lookup = Callable[[Measure], Decimal]


def evaluate(tree: Node, lookup: Lookup) -> Outcome:
    """The value of a checked expression (see checker.check) in one cell."""
    try:
        with localcontext(_CONTEXT):
            value = _number(tree, lookup)
    except NoValue as missing:
        return Outcome(None, missing.reason)
    except DecimalException:
        return Outcome(None, "the arithmetic overflows")
    return Outcome(value)


def _number(node: Node, lookup: Lookup) -> Decimal:
    # The parser bounds the depth of any tree (MAX_DEPTH): recursion here is safe.
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Measure):
        return lookup(node)
    if isinstance(node, Negate):
        assert node.operand is not None
        return -_number(node.operand, lookup)
    if isinstance(node, Chain):
        assert node.first is not None
        total = _number(node.first, lookup)
        for operator, operand in node.rest:
            value = _number(operand, lookup)
            if operator == "+":
                total += value
            elif operator == "-":
                total -= value
            elif operator == "*":
                total *= value
            elif value == 0:
                raise NoValue("division by zero")
            else:
                total /= value
        return total
    if isinstance(node, Call):
        return _call(node, lookup)
    raise AssertionError(f"{type(node).__name__} is not a number")


def _call(node: Call, lookup: Lookup) -> Decimal:
    if node.function == "if":
        condition, then, otherwise = node.arguments
        return _number(then if _condition(condition, lookup) else otherwise, lookup)
    if node.function == "coalesce":
        reasons = []
        for argument in node.arguments:
            try:
                return _number(argument, lookup)
            except NoValue as missing:
                reasons.append(missing.reason)
        raise NoValue(reasons[-1])
    values = [_number(argument, lookup) for argument in node.arguments]
    return max(values) if node.function == "greatest" else min(values)


def _condition(node: Node, lookup: Lookup) -> bool:
    if isinstance(node, Compare):
        assert node.left is not None and node.right is not None
        left, right = _number(node.left, lookup), _number(node.right, lookup)
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[node.operator]
    if isinstance(node, Logical):
        if node.operator == "and":
            return all(_condition(operand, lookup) for operand in node.operands)
        return any(_condition(operand, lookup) for operand in node.operands)
    raise AssertionError(f"{type(node).__name__} is not a condition")
