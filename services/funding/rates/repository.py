"""Exchange rates in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import ExchangeRate
from shared.pagination import PageParams, keyset_page


async def rate_on(session: AsyncSession, currency: str, day: date) -> ExchangeRate | None:
    """The latest rate of `currency` on or before `day`."""
    return await session.scalar(
        select(ExchangeRate)
        .where(ExchangeRate.currency == currency, ExchangeRate.rate_date <= day)
        .order_by(ExchangeRate.rate_date.desc())
        .limit(1)
    )


async def find(session: AsyncSession, currency: str, day: date) -> ExchangeRate | None:
    return await session.scalar(
        select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.rate_date == day)
    )


async def add_new(session: AsyncSession, rows: Sequence[dict[str, object]]) -> list[ExchangeRate]:
    """Insert the rates not recorded yet (currency and date); the inserted ones."""
    if not rows:
        return []
    result = await session.scalars(
        insert(ExchangeRate)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["currency", "rate_date"])
        .returning(ExchangeRate)
    )
    return list(result)


async def list_rates(
    session: AsyncSession, currency: str | None, params: PageParams
) -> Sequence[ExchangeRate]:
    statement = select(ExchangeRate)
    if currency is not None:
        statement = statement.where(ExchangeRate.currency == currency)
    statement = keyset_page(
        statement,
        [ExchangeRate.currency, ExchangeRate.rate_date],
        params,
        [str, date],
    )
    return (await session.execute(statement)).scalars().all()
