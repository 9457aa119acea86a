"""A definition checked before it is saved: its expressions parsed (no service is asked
about text that does not parse), then every name, dimension and value checked against the
catalogue, and its disaggregations against every measure it uses. Every error is a 422
naming the field and the position in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.indicators.expressions.checker import check
from services.indicators.expressions.errors import ExpressionError
from services.indicators.expressions.names import Names
from services.indicators.expressions.nodes import Node
from services.indicators.expressions.parser import parse
from shared.errors import ProblemError


class InvalidDefinition(ProblemError):
    status, type, title = 422, "invalid-definition", "Invalid indicator definition"


@dataclass(frozen=True)
class Parsed:
    numerator: Node
    denominator: Node | None


@dataclass(frozen=True)
class Uses:
    measures: list[str]
    indicators: list[str]


def parsed(numerator: str, denominator: str | None) -> Parsed:
    errors: list[dict[str, Any]] = []
    trees: dict[str, Node | None] = {"numerator": None, "denominator": None}
    for field, text in (("numerator", numerator), ("denominator", denominator)):
        if text is None:
            continue
        try:
            trees[field] = parse(text)
        except ExpressionError as error:
            errors.append(_error(field, error))
    if errors:
        raise InvalidDefinition("An expression does not parse.", errors=errors)
    assert trees["numerator"] is not None
    return Parsed(trees["numerator"], trees["denominator"])


def checked(trees: Parsed, names: Names, code: str, disaggregations: list[str]) -> Uses:
    """What the expressions use, once they are known to be valid."""
    errors: list[dict[str, Any]] = []
    measures: set[str] = set()
    indicators: set[str] = set()
    for field, tree in (("numerator", trees.numerator), ("denominator", trees.denominator)):
        if tree is None:
            continue
        try:
            uses = check(tree, names, defining=code)
        except ExpressionError as error:
            errors.append(_error(field, error))
            continue
        measures |= uses.measures
        indicators |= uses.indicators
    if errors:
        raise InvalidDefinition("An expression is not valid.", errors=errors)
    errors = [
        {
            "path": f"body.disaggregations.{index}",
            "message": f"{dimension} is not a dimension of {', '.join(missing)}",
        }
        for index, dimension in enumerate(disaggregations)
        if (missing := _lacking(dimension, measures, indicators, names))
    ]
    if errors:
        raise InvalidDefinition(
            "A disaggregation does not apply to every measure the indicator uses.", errors=errors
        )
    return Uses(sorted(measures), sorted(indicators))


def _lacking(dimension: str, measures: set[str], indicators: set[str], names: Names) -> list[str]:
    # A level (a poverty line) is one figure, the same in every cell.
    lacking = [
        name
        for name in sorted(measures)
        if names.measures[name].kind != "level" and dimension not in names.measures[name].dimensions
    ]
    lacking += [
        code
        for code in sorted(indicators)
        if code in names.indicators and dimension not in names.indicators[code].disaggregations
    ]
    return lacking


def _error(field: str, error: ExpressionError) -> dict[str, Any]:
    return {
        "path": f"body.{field}",
        "message": error.message,
        "line": error.position.line,
        "column": error.position.column,
    }
