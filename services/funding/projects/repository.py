"""Projects and their participating organisations in the database, and which projects a
partner sees: those its organisation reports or takes part in."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Participant, Project
from services.funding.organisations.repository import partner_organisations
from services.funding.rows import existing_ids
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

projects = Table(Project, "No such project.")


@dataclass(frozen=True)
class ProjectFilters:
    status: int | None = None
    reporting_org_id: uuid.UUID | None = None
    programme_code: str | None = None


def visible_to(partner_id: str) -> ColumnElement[bool]:
    """Projects the partner's organisation reports or participates in."""
    organisations = partner_organisations(partner_id)
    return or_(
        Project.reporting_org_id.in_(organisations),
        exists().where(
            Participant.project_id == Project.id, Participant.organisation_id.in_(organisations)
        ),
    )


async def get(
    session: AsyncSession, project_id: uuid.UUID, scope: str | None = None
) -> Project | None:
    """The project, if the partner `scope` sees it (None: anyone's)."""
    statement = select(Project).where(Project.id == project_id)
    if scope is not None:
        statement = statement.where(visible_to(scope))
    return await session.scalar(statement)


async def exists_by_id(session: AsyncSession, project_id: uuid.UUID) -> bool:
    return project_id in await existing(session, [project_id])


async def existing(session: AsyncSession, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` are projects."""
    return await existing_ids(session, Project.id, ids)


async def list_projects(
    session: AsyncSession, scope: str | None, filters: ProjectFilters, params: PageParams
) -> Sequence[Project]:
    statement = select(Project)
    if scope is not None:
        statement = statement.where(visible_to(scope))
    if filters.status is not None:
        statement = statement.where(Project.status == filters.status)
    if filters.reporting_org_id is not None:
        statement = statement.where(Project.reporting_org_id == filters.reporting_org_id)
    if filters.programme_code is not None:
        statement = statement.where(Project.programme_codes.contains([filters.programme_code]))
    statement = keyset_page(statement, [Project.iati_identifier], params, [str])
    return (await session.execute(statement)).scalars().all()


async def identifier_holder(
    session: AsyncSession, iati_identifier: str, other_than: uuid.UUID | None
) -> uuid.UUID | None:
    statement = select(Project.id).where(Project.iati_identifier == iati_identifier)
    if other_than is not None:
        statement = statement.where(Project.id != other_than)
    return await session.scalar(statement.limit(1))


async def participants_of(
    session: AsyncSession, project_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, int]]]:
    """Each project's (organisation, role) pairs, in one query for a page of projects."""
    found: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {key: [] for key in project_ids}
    if not project_ids:
        return found
    rows = await session.execute(
        select(Participant.project_id, Participant.organisation_id, Participant.role)
        .where(Participant.project_id.in_(set(project_ids)))
        .order_by(Participant.project_id, Participant.role, Participant.organisation_id)
    )
    for project_id, organisation_id, role in rows:
        found[project_id].append((organisation_id, role))
    return found


async def replace_participants(
    session: AsyncSession, project_id: uuid.UUID, participants: Sequence[tuple[uuid.UUID, int]]
) -> None:
    await session.execute(delete(Participant).where(Participant.project_id == project_id))
    if participants:
        await session.execute(
            insert(Participant),
            [
                {"project_id": project_id, "organisation_id": organisation_id, "role": role}
                for organisation_id, role in participants
            ],
        )


def add(session: AsyncSession, row: Project) -> None:
    session.add(row)
