"""Checks for the free-form JSON clients may send (a sync batch's operations, a programme's
eligibility rules) that no model describes: what PostgreSQL cannot store, and nesting deep
enough to exhaust a parser's or serialiser's recursion. Answered per item where input comes in
pieces answered one by one (a sync batch's operations, an import's rows), so the one bad piece
is named; a request as a whole is answered 422 by the error handlers when the database
refuses it."""

from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters"
# A sync operation nests about 6 levels, an eligibility rule about 10.
MAX_DEPTH = 32


def nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """The dotted paths of the strings (keys included) in a JSON value that hold a NUL."""
    if isinstance(value, str):
        return [".".join(map(str, path))] if NUL in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                found.append(".".join(map(str, (*path, key))))
            found.extend(nul_paths(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_paths(item, (*path, index)))
    return found


def within_depth(value: Any) -> Any:
    """`value` itself, if its arrays and objects nest at most `MAX_DEPTH` levels (a
    pydantic after-validator); checked without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children if isinstance(item, dict | list) else ():
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
                pending.append((child, depth + 1))
    return value
