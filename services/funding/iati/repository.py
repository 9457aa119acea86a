"""What the IATI file is made of: the projects with their participants, agreements and
tranches (a few hundred rows, read at once) and their transactions (read through a
server-side cursor, project by project). A partner's scope keeps the projects their
organisation funds and, in them, their own agreements' money only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.agreements.repository import tranches_of
from services.funding.agreements.repository import visible_ids as agreements_of_partner
from services.funding.agreements.repository import visible_to as funded_by_partner
from services.funding.models import Agreement, Organisation, Project, Tranche, Transaction
from services.funding.projects.repository import participants_of

BATCH_SIZE = 1000


@dataclass
class ActivityParts:
    """Everything of a project but its transactions."""

    project: Project
    participants: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    tranches: dict[uuid.UUID, list[Tranche]] = field(default_factory=dict)


async def organisations(session: AsyncSession) -> dict[uuid.UUID, Organisation]:
    return {org.id: org for org in await session.scalars(select(Organisation))}


async def activities(session: AsyncSession, scope: str | None) -> list[ActivityParts]:
    """Projects in IATI identifier order, with what the file says of each."""
    projects = select(Project).order_by(Project.iati_identifier)
    agreements = (
        select(Agreement)
        .where(Agreement.status != "cancelled")
        .order_by(Agreement.signed_date, Agreement.reference)
    )
    if scope is not None:
        funded = select(Agreement.project_id).where(
            funded_by_partner(scope), Agreement.status != "cancelled"
        )
        projects = projects.where(Project.id.in_(funded))
        agreements = agreements.where(funded_by_partner(scope))
    parts = {project.id: ActivityParts(project) for project in await session.scalars(projects)}
    if not parts:
        return []
    ids = list(parts)
    for project_id, participants in (await participants_of(session, ids)).items():
        parts[project_id].participants = participants
    found = list(await session.scalars(agreements.where(Agreement.project_id.in_(ids))))
    tranches = await tranches_of(session, [agreement.id for agreement in found])
    for agreement in found:
        parts[agreement.project_id].agreements.append(agreement)
        parts[agreement.project_id].tranches[agreement.id] = tranches[agreement.id]
    return list(parts.values())


def transactions_statement(project_id: uuid.UUID, scope: str | None) -> Select[Any]:
    statement = (
        select(Transaction)
        .where(Transaction.project_id == project_id)
        .order_by(Transaction.transaction_date, Transaction.created_at, Transaction.id)
    )
    if scope is not None:
        statement = statement.where(Transaction.agreement_id.in_(agreements_of_partner(scope)))
    return statement


async def transactions(
    session: AsyncSession, project_id: uuid.UUID, scope: str | None
) -> AsyncIterator[Sequence[Transaction]]:
    """The project's transactions in date order, a batch at a time (server-side cursor)."""
    statement = transactions_statement(project_id, scope).execution_options(yield_per=BATCH_SIZE)
    result = await session.stream_scalars(statement)
    try:
        async for batch in result.partitions():
            yield batch
    finally:
        await result.close()
