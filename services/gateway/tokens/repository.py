from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import SigningKey


async def published(session: AsyncSession, retired_after: datetime) -> Sequence[SigningKey]:
    """Keys that sign now or signed tokens that may still be valid, newest first."""
    statement = (
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > retired_after))
        .order_by(SigningKey.created_at.desc())
    )
    return (await session.execute(statement)).scalars().all()


async def all_keys(session: AsyncSession) -> Sequence[SigningKey]:
    statement = select(SigningKey).order_by(SigningKey.created_at.desc())
    return (await session.execute(statement)).scalars().all()


async def retire_active(session: AsyncSession, at: datetime) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=at)
    )


def add(session: AsyncSession, key: SigningKey) -> None:
    session.add(key)
