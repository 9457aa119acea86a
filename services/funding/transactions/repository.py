"""Transactions in the database, each with its agreement's currency, and which a partner
sees: those on the agreements its organisation funds, and those on no agreement of the
projects it reports. Taking part in another's project (a participant, an implementer) shows
the project, never its funders' money."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements import repository as agreements
from services.funding.models import Agreement, Transaction
from shared.pagination import PageParams, keyset_page

# A transaction and the currency of its agreement (None without one).
Found = tuple[Transaction, str | None]


@dataclass(frozen=True)
class TransactionFilters:
    type: int | None = None
    agreement_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    payment_cycle_id: uuid.UUID | None = None
    value_date_from: date | None = None
    value_date_to: date | None = None


def visible_to(partner_id: str) -> ColumnElement[bool]:
    """A partner sees the money of the agreements it funds, as in reports and IATI."""
    return Transaction.agreement_id.in_(agreements.visible_ids(partner_id))


async def add(session: AsyncSession, **values: Any) -> Transaction:
    """Insert a transaction of `values` (its columns) and read it back as stored."""
    row = Transaction(
        id=uuid.uuid4(),
        **values,
        # The statement's time, not the transaction's: several recorded in one transaction
        # (a payroll's) keep the order they were recorded in.
        created_at=func.clock_timestamp(),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


def _with_currency() -> Select[Transaction, str | None]:
    return select(Transaction, Agreement.currency).outerjoin(
        Agreement, Agreement.id == Transaction.agreement_id
    )


async def get(
    session: AsyncSession,
    transaction_id: uuid.UUID,
    scope: str | None = None,
    *,
    for_update: bool = False,
) -> Found | None:
    """The transaction, if the partner `scope` sees it (None: anyone's); `for_update` locks
    it (a second reversal waits for the first)."""
    statement = _with_currency().where(Transaction.id == transaction_id)
    if scope is not None:
        statement = statement.where(visible_to(scope))
    if for_update:
        statement = statement.with_for_update(of=Transaction)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    transaction, currency = row
    return transaction, currency


async def list_transactions(
    session: AsyncSession, scope: str | None, filters: TransactionFilters, params: PageParams
) -> list[Found]:
    """By value date, then as recorded."""
    statement = _with_currency()
    if scope is not None:
        statement = statement.where(visible_to(scope))
    if filters.type is not None:
        statement = statement.where(Transaction.type == filters.type)
    if filters.agreement_id is not None:
        statement = statement.where(Transaction.agreement_id == filters.agreement_id)
    if filters.project_id is not None:
        statement = statement.where(Transaction.project_id == filters.project_id)
    if filters.payment_cycle_id is not None:
        statement = statement.where(Transaction.payment_cycle_id == filters.payment_cycle_id)
    if filters.value_date_from is not None:
        statement = statement.where(Transaction.value_date >= filters.value_date_from)
    if filters.value_date_to is not None:
        statement = statement.where(Transaction.value_date <= filters.value_date_to)
    statement = keyset_page(
        statement,
        [Transaction.value_date, Transaction.created_at, Transaction.id],
        params,
        [date, datetime, uuid.UUID],
    )
    return [(transaction, currency) for transaction, currency in await session.execute(statement)]


async def reversal_of(session: AsyncSession, transaction_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(
        select(Transaction.id).where(Transaction.reverses_id == transaction_id)
    )
