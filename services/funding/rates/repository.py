"""Exchange rates in the database.

A file of rates (a year of daily rates of a dozen currencies is thousands of rows) is
written and checked in one statement each, whatever its size: its columns go to PostgreSQL
as one array parameter each, turned back into rows by `unnest`. A multi-row VALUES would
need a bind parameter per value (asyncpg takes at most 32,767), and a look-up per row would
make a re-upload thousands of round trips.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Numeric,
    ScalarSelect,
    Select,
    String,
    Uuid,
    and_,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from services.funding.models import ExchangeRate
from shared.pagination import PageParams, keyset_page


class NewRate(NamedTuple):
    currency: str
    rate_date: date
    rate_to_djf: Decimal
    source: str


Key = tuple[str, date]


def in_force(currency: str | ColumnElement[str], day: date) -> Select[ExchangeRate]:
    """The rate of `currency` in force on `day`: its latest on or before it (the unique
    (currency, rate_date) index finds it)."""
    return (
        select(ExchangeRate)
        .where(ExchangeRate.currency == currency, ExchangeRate.rate_date <= day)
        .order_by(ExchangeRate.rate_date.desc())
        .limit(1)
    )


async def rate_on(session: AsyncSession, currency: str, day: date) -> ExchangeRate | None:
    """The latest rate of `currency` on or before `day`."""
    return await session.scalar(in_force(currency, day))


def rate_to_djf_on(currency: ColumnElement[str], day: date) -> ScalarSelect[Decimal]:
    """`in_force` as a subquery of a statement whose rows name `currency` (a column): the
    rate of each row's currency on `day`, NULL where it has none."""
    return in_force(currency, day).with_only_columns(ExchangeRate.rate_to_djf).scalar_subquery()


def _rows(**columns: tuple[Sequence[Any], TypeEngine[Any]]) -> Any:
    """`columns` (name: (values, type)) as the rows of a table `file`, one per position:
    `unnest($1::varchar[], $2::date[], ...) AS file(currency, rate_date, ...)`."""
    arrays = [literal(list(values), ARRAY(item_type)) for values, item_type in columns.values()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="file")


async def add_new(
    session: AsyncSession, rates: Sequence[NewRate], created_by: str | None
) -> list[ExchangeRate]:
    """Insert the rates not recorded yet (currency and date), in one statement; the
    inserted ones."""
    if not rates:
        return []
    file = _rows(
        id=([uuid.uuid4() for _ in rates], Uuid()),
        currency=([rate.currency for rate in rates], String()),
        rate_date=([rate.rate_date for rate in rates], Date()),
        rate_to_djf=([rate.rate_to_djf for rate in rates], Numeric()),
        source=([rate.source for rate in rates], String()),
    )
    columns = ["id", "currency", "rate_date", "rate_to_djf", "source"]
    statement = (
        insert(ExchangeRate)
        .from_select(
            [*columns, "created_by"],
            select(*(file.c[name] for name in columns), literal(created_by, String())),
        )
        .on_conflict_do_nothing(index_elements=["currency", "rate_date"])
        .returning(ExchangeRate)
    )
    return list(await session.scalars(statement))


async def recorded(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Decimal]:
    """The rates recorded for these (currency, date) pairs, in one query."""
    if not keys:
        return {}
    file = _rows(
        currency=([currency for currency, _ in keys], String()),
        rate_date=([day for _, day in keys], Date()),
    )
    rows = await session.execute(
        select(ExchangeRate.currency, ExchangeRate.rate_date, ExchangeRate.rate_to_djf).join(
            file,
            and_(
                ExchangeRate.currency == file.c.currency,
                ExchangeRate.rate_date == file.c.rate_date,
            ),
        )
    )
    return {(currency, day): rate for currency, day, rate in rows}


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
