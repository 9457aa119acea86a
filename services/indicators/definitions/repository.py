"""Indicators and their definition versions in the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import Indicator, IndicatorVersion


async def by_code(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Indicator | None:
    statement = select(Indicator).where(Indicator.code == code)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def version(
    session: AsyncSession, indicator_id: uuid.UUID, number: int
) -> IndicatorVersion | None:
    return await session.get(IndicatorVersion, (indicator_id, number))


async def versions(session: AsyncSession, indicator_id: uuid.UUID) -> Sequence[IndicatorVersion]:
    statement = (
        select(IndicatorVersion)
        .where(IndicatorVersion.indicator_id == indicator_id)
        .order_by(IndicatorVersion.version.desc())
    )
    return (await session.scalars(statement)).all()


async def current(session: AsyncSession) -> Sequence[tuple[Indicator, IndicatorVersion]]:
    """Every indicator with its current definition, by code."""
    statement = (
        select(Indicator, IndicatorVersion)
        .join(
            IndicatorVersion,
            (IndicatorVersion.indicator_id == Indicator.id)
            & (IndicatorVersion.version == Indicator.version),
        )
        .order_by(Indicator.code)
    )
    return [(indicator, definition) for indicator, definition in await session.execute(statement)]


def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
