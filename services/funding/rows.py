"""What the funding repositories do the same way, written once: which of some ids name rows,
and a write that a unique constraint may refuse because another request took the value a
moment ago (the same 409 as a value taken before)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.db import sqlstate

UNIQUE_VIOLATION = "23505"


async def existing_ids(
    session: AsyncSession, key: InstrumentedAttribute[uuid.UUID], ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are values of the column `key` (a primary key: Project.id), in one
    query."""
    if not ids:
        return set()
    return set(await session.scalars(select(key).where(key.in_(set(ids)))))


async def flush_unique(
    session: AsyncSession,
    write: Callable[[], None],
    taken: Callable[[], Exception | Awaitable[Exception]],
) -> None:
    """Apply `write` (add a row, set its fields) and flush it, in a savepoint. When a unique
    constraint refuses it, the savepoint is rolled back (the session stays usable) and
    `taken()` (or what it awaits to) is raised: the caller's 409 for the value taken.
    Other integrity errors are no conflict between requests: they are raised as they are."""
    try:
        async with session.begin_nested():
            write()
            await session.flush()
    except IntegrityError as exc:
        if sqlstate(exc) != UNIQUE_VIOLATION:
            raise
        conflict = taken()
        raise (await conflict if inspect.isawaitable(conflict) else conflict) from exc
