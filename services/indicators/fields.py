"""Field types this service's request bodies share, and writes a unique constraint may
refuse (the same 409 whether the value was taken before or a moment ago)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import Field, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import sqlstate
from shared.errors import Conflict

UNIQUE_VIOLATION = "23505"

Code = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"),
    Field(
        description="Letters, digits, `.`, `_` and `-`, at most 40 (e.g. SNPS-2018-2022, A1, "
        "OS1.2).",
        examples=["SNPS-2018-2022"],
    ),
]
# An indicator's code is also how other expressions name it: `#{CODE}`.
IndicatorCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$"),
    Field(
        description="A letter, then letters, digits and `_`, at most 40: how expressions "
        "name the indicator (`#{COV_PNSF}`).",
        examples=["COV_PNSF"],
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Year = Annotated[int, Field(ge=1900, le=2200, strict=True)]


async def flush_unique(
    session: AsyncSession, write: Callable[[], None], conflict: Callable[[], Conflict]
) -> None:
    """Apply `write` and flush it in a savepoint; a unique constraint refusing it rolls the
    savepoint back (the session stays usable) and raises `conflict()`."""
    try:
        async with session.begin_nested():
            write()
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != UNIQUE_VIOLATION:
            raise
        raise conflict() from exc
