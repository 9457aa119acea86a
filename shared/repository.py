"""Reading one row by its primary key, the way every repository does: `find` (None when
absent), `get` and `get_for_update` (a 404 problem when absent, in the table's own words:
`missing` may name the key as `{key}`)."""

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
