"""Text PostgreSQL cannot store: a NUL character, in a text column or in jsonb. Checked where
input comes in pieces that are answered one by one (a sync batch's operations, an import's
rows), so the one bad piece is named; a request as a whole is answered 422 by the error
handlers when the database refuses it."""

from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters"


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
