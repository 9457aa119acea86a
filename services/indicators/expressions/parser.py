"""Text to tree, within limits a hostile client cannot get around: the length of the text,
how deep it nests (checked on the text before parsing, and again on the tree as it is
built), how long its numbers are and how many measures it names."""

from __future__ import annotations

from functools import lru_cache
from typing import cast

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from services.indicators.expressions.errors import ExpressionError, position_at
from services.indicators.expressions.grammar import GRAMMAR, TreeBuilder
from services.indicators.expressions.nodes import Node, measures

MAX_LENGTH = 2000
MAX_DEPTH = 32
MAX_MEASURES = 40

# What a client is shown of a token it sent: enough to find it, never a whole payload.
_SHOWN = 20


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The grammar is analysed once; the tree is built while the parser reduces.
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", transformer=TreeBuilder(MAX_DEPTH))


def parse(text: str) -> Node:
    """The tree of `text`, or an ExpressionError saying what is wrong and where."""
    if not text.strip():
        raise ExpressionError("the expression is empty", position_at(text, 0))
    _check_nesting(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is longer than {MAX_LENGTH} characters",
            position_at(text, MAX_LENGTH),
        )
    try:
        tree = cast(Node, _parser().parse(text))
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    named = measures(tree)
    if len(named) > MAX_MEASURES:
        raise ExpressionError(
            f"the expression names more than {MAX_MEASURES} measures",
            named[MAX_MEASURES].position,
        )
    return tree


def _check_nesting(text: str) -> None:
    """Parentheses and braces nested deeper than the tree may be, found in one pass over
    the text before anything else reads it: a 10,000-level expression is refused here,
    at the bracket that goes too deep."""
    depth = 0
    for offset, character in enumerate(text):
        if character in "({":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"the expression nests more than {MAX_DEPTH} levels deep",
                    position_at(text, offset),
                )
        elif character in ")}":
            depth -= 1


def _syntax_error(text: str, exc: UnexpectedInput) -> ExpressionError:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return ExpressionError("the expression ends too early", position_at(text, len(text)))
    offset = exc.pos_in_stream if exc.pos_in_stream is not None else 0
    if isinstance(exc, UnexpectedCharacters):
        shown = text[offset : offset + 1]
        return ExpressionError(f"unexpected character {shown!r}", position_at(text, offset))
    token = str(getattr(exc, "token", ""))[:_SHOWN]
    return ExpressionError(f"unexpected {token!r}", position_at(text, offset))
