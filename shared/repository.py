"""Reading one row by its primary key, the way every repository does: `find` (None when
absent), `get` and `get_for_update` (a 404 problem when absent, with the table's own words)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFound

Row = TypeVar("Row")


class Table(Generic[Row]):
    def __init__(self, model: type[Row], missing: str) -> None:
        self.model = model
        self.missing = missing

    async def find(
        self, session: AsyncSession, key: Any, *, for_update: bool = False
    ) -> Row | None:
        # with_for_update makes the session ask the database even for a row it holds.
        return await session.get(self.model, key, with_for_update=True if for_update else None)

    async def get(self, session: AsyncSession, key: Any) -> Row:
        return self._found(await self.find(session, key))

    async def get_for_update(self, session: AsyncSession, key: Any) -> Row:
        """The row, locked until the transaction ends."""
        return self._found(await self.find(session, key, for_update=True))

    def _found(self, row: Row | None) -> Row:
        if row is None:
            raise NotFound(self.missing)
        return row
