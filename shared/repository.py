"""What every repository does the same way: reading one row by its primary key (`find`,
None when absent; `get` and `get_for_update`, a 404 problem when absent, in the table's own
words: `missing` may name the key as `{key}`), and `flush_unique`, a write a unique constraint
may refuse because another request took the value a moment ago (the same 409 as a value
taken before)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import sqlstate
from shared.errors import NotFound

UNIQUE_VIOLATION = "23505"

Row = TypeVar("Row")


class Table(Generic[Row]):
    def __init__(self, model: type[Row], missing: str) -> None:
        self.model = model
        self.missing = missing

    async def find(
        self, session: AsyncSession, key: Any, *, for_update: bool = False
    ) -> Row | None:
        # A locked read asks the database even for a row the session holds, and refreshes
        # it: what is locked is what the change works on.
        if for_update:
            return await session.get(self.model, key, with_for_update=True, populate_existing=True)
        return await session.get(self.model, key)

    async def get(self, session: AsyncSession, key: Any) -> Row:
        return self._found(await self.find(session, key), key)

    async def get_for_update(self, session: AsyncSession, key: Any) -> Row:
        """The row, locked until the transaction ends."""
        return self._found(await self.find(session, key, for_update=True), key)

    def _found(self, row: Row | None, key: Any) -> Row:
        if row is None:
            raise NotFound(self.missing.format(key=key))
        return row


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
