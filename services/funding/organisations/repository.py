"""Organisations in the database, and which of them a partner acts for: the one rule every
domain's partner scope starts from (a partner token's `partner_id` is an organisation's)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Organisation, Project
from services.funding.rows import existing_ids
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

organisations = Table(Organisation, "No such organisation.")


def acts_for(partner_id: str) -> ColumnElement[bool]:
    """The organisation is the one the partner `partner_id` acts for (none for "")."""
    return Organisation.partner_id == partner_id


def partner_organisations(partner_id: str) -> Select[uuid.UUID]:
    """The ids of the organisations the partner `partner_id` acts for (none for ""): the
    subquery every partner scope is written with."""
    return select(Organisation.id).where(acts_for(partner_id))


async def organisation_of_partner(session: AsyncSession, partner_id: str) -> uuid.UUID | None:
    """The organisation a partner token acts for, if the ledger has it."""
    found: uuid.UUID | None = await session.scalar(partner_organisations(partner_id))
    return found


async def get(
    session: AsyncSession, organisation_id: uuid.UUID, scope: str | None = None
) -> Organisation | None:
    """The organisation, if the partner `scope` acts for it (None: anyone's)."""
    statement = select(Organisation).where(Organisation.id == organisation_id)
    if scope is not None:
        statement = statement.where(acts_for(scope))
    return await session.scalar(statement)


async def list_organisations(
    session: AsyncSession, scope: str | None, type: str | None, params: PageParams
) -> Sequence[Organisation]:
    statement = select(Organisation)
    if scope is not None:
        statement = statement.where(acts_for(scope))
    if type is not None:
        statement = statement.where(Organisation.type == type)
    statement = keyset_page(statement, [Organisation.iati_identifier], params, [str])
    return (await session.execute(statement)).scalars().all()


async def holder(
    session: AsyncSession, column: str, value: object, other_than: uuid.UUID | None
) -> uuid.UUID | None:
    """The organisation holding `value` in the unique `column`, other than `other_than`."""
    statement = select(Organisation.id).where(getattr(Organisation, column) == value)
    if other_than is not None:
        statement = statement.where(Organisation.id != other_than)
    return await session.scalar(statement.limit(1))


async def existing(session: AsyncSession, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` are organisations."""
    return await existing_ids(session, Organisation.id, ids)


async def reports_projects(session: AsyncSession, organisation_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Project.id).where(Project.reporting_org_id == organisation_id).limit(1)
    )
    return found is not None


def add(session: AsyncSession, row: Organisation) -> None:
    session.add(row)
