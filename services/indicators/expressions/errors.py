"""What is wrong with an expression, and where."""

from __future__ import annotations

from services.indicators.expressions.nodes import Position


class ExpressionError(Exception):
    """A syntax error, a limit passed, an unknown name or a type error, at `position`."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(f"{message} (at {position})")
        self.message = message
        self.position = position


def position_at(text: str, offset: int) -> Position:
    """The line and column of `offset` in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Position(line, column, offset)
