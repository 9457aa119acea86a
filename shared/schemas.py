"""The one base of what clients send."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class InputModel(BaseModel):
    """A request body or query model. Unknown fields are refused (a misspelt field silently
    dropped loses what the client meant to record), text is trimmed, and NaN and Infinity
    are not numbers anyone can store or sum."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _not_null(cls: type, value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be emptied")
    return value


def not_emptied(*fields: str) -> Any:
    """The validator of an update model whose `fields` may be left out but not sent as null:
    the record cannot do without them. It runs only for the fields the client sent."""
    return field_validator(*fields, mode="before")(_not_null)
