"""The one base of what clients send."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body or query model. Unknown fields are refused (a misspelt field silently
    dropped loses what the client meant to record), text is trimmed, and NaN and Infinity
    are not numbers anyone can store or sum."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
