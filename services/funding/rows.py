"""What the funding repositories do the same way, written once: which of some ids name rows."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


async def existing_ids(
    session: AsyncSession, key: InstrumentedAttribute[uuid.UUID], ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are values of the column `key` (a primary key: Project.id), in one
    query."""
    if not ids:
        return set()
    return set(await session.scalars(select(key).where(key.in_(set(ids)))))
