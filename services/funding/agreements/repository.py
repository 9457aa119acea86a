"""Agreements and their tranches in the database, and which agreements a partner sees: those
its organisation funds. The balance columns are read here, never written (agreements/ledger.py
moves them)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Agreement, PaymentCycle, Tranche, Transaction
from services.funding.organisations.repository import partner_organisations
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

# Cycles whose money was reserved on their agreement and is not all settled yet.
_OPEN_CYCLE_STATUSES = ("approved", "sent", "reconciling")

# Its locked reads (`get_for_update`, `find(..., for_update=True)`) read the agreement afresh
# and hold it until the transaction ends: the ledger's own updates wait for them.
agreements = Table(Agreement, "No such agreement.")


@dataclass(frozen=True)
class AgreementFilters:
    project_id: uuid.UUID | None = None
    funder_id: uuid.UUID | None = None
    status: str | None = None


def visible_to(partner_id: str) -> ColumnElement[bool]:
    """Agreements the partner's organisation funds."""
    return Agreement.funder_id.in_(partner_organisations(partner_id))


def visible_ids(partner_id: str) -> Select[uuid.UUID]:
    return select(Agreement.id).where(visible_to(partner_id))


async def get(
    session: AsyncSession, agreement_id: uuid.UUID, scope: str | None = None
) -> Agreement | None:
    """The agreement as the database has it now (its balance moves outside the ORM), if the
    partner `scope` sees it (None: anyone's)."""
    statement = (
        select(Agreement)
        .where(Agreement.id == agreement_id)
        .execution_options(populate_existing=True)
    )
    if scope is not None:
        statement = statement.where(visible_to(scope))
    return await session.scalar(statement)


async def currencies(
    session: AsyncSession, agreement_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each agreement's currency, in one query."""
    if not agreement_ids:
        return {}
    rows = await session.execute(
        select(Agreement.id, Agreement.currency).where(Agreement.id.in_(set(agreement_ids)))
    )
    return {agreement_id: currency for agreement_id, currency in rows}


async def list_agreements(
    session: AsyncSession, scope: str | None, filters: AgreementFilters, params: PageParams
) -> Sequence[Agreement]:
    statement = select(Agreement)
    if scope is not None:
        statement = statement.where(visible_to(scope))
    if filters.project_id is not None:
        statement = statement.where(Agreement.project_id == filters.project_id)
    if filters.funder_id is not None:
        statement = statement.where(Agreement.funder_id == filters.funder_id)
    if filters.status is not None:
        statement = statement.where(Agreement.status == filters.status)
    statement = keyset_page(statement, [Agreement.reference], params, [str])
    return (await session.execute(statement)).scalars().all()


async def reference_holder(
    session: AsyncSession, reference: str, other_than: uuid.UUID | None
) -> uuid.UUID | None:
    statement = select(Agreement.id).where(Agreement.reference == reference)
    if other_than is not None:
        statement = statement.where(Agreement.id != other_than)
    return await session.scalar(statement.limit(1))


async def tranches_of(
    session: AsyncSession, agreement_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Tranche]]:
    """Each agreement's tranches by due date, in one query for a page of agreements."""
    found: dict[uuid.UUID, list[Tranche]] = {key: [] for key in agreement_ids}
    if not agreement_ids:
        return found
    rows = await session.scalars(
        select(Tranche)
        .where(Tranche.agreement_id.in_(set(agreement_ids)))
        .order_by(Tranche.agreement_id, Tranche.due_date, Tranche.id)
    )
    for tranche in rows:
        found[tranche.agreement_id].append(tranche)
    return found


async def replace_tranches(
    session: AsyncSession, agreement_id: uuid.UUID, tranches: Sequence[tuple[date, int]]
) -> list[Tranche]:
    """The agreement's tranches become `tranches` (due date, amount); the new rows."""
    await session.execute(delete(Tranche).where(Tranche.agreement_id == agreement_id))
    rows = [
        Tranche(id=uuid.uuid4(), agreement_id=agreement_id, due_date=due, amount_minor=amount)
        for due, amount in sorted(tranches)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def has_transactions(session: AsyncSession, agreement_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Transaction.id).where(Transaction.agreement_id == agreement_id).limit(1)
    )
    return found is not None


async def open_cycles(session: AsyncSession, agreement_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(PaymentCycle)
        .where(
            PaymentCycle.agreement_id == agreement_id,
            PaymentCycle.status.in_(_OPEN_CYCLE_STATUSES),
        )
    )
    return count or 0


def add(session: AsyncSession, row: Agreement) -> None:
    session.add(row)
