"""The IATI activity file, streamed: the projects (few) are read first, then each project's
transactions (possibly many) through a server-side cursor, each batch written and sent
before the next is read, so memory stays flat whatever the ledger's size."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.iati import document, repository
from services.funding.iati.repository import ActivityParts
from services.funding.models import Organisation
from shared.errors import NotFound


class NothingToPublish(NotFound):
    type, title = "no-iati-activities", "No activities to publish"


async def prepare(
    session: AsyncSession, scope: str | None
) -> tuple[list[ActivityParts], dict[uuid.UUID, Organisation]]:
    """The activities and organisations, read before the answer starts, so that an empty
    file (which the schema does not allow: one activity at least) is a 404 problem."""
    activities = await repository.activities(session, scope)
    if not activities:
        raise NothingToPublish(
            "There is no project to publish"
            + (" for your organisation." if scope is not None else ".")
        )
    organisations = await repository.organisations(session)
    return activities, organisations


async def activities_xml(
    session: AsyncSession,
    activities: list[ActivityParts],
    organisations: dict[uuid.UUID, Organisation],
    scope: str | None,
) -> AsyncIterator[bytes]:
    try:
        yield document.document_start(datetime.now(UTC)).encode()
        for parts in activities:
            yield document.activity_start(parts, organisations).encode()
            async for batch in repository.transactions(session, parts.project.id, scope):
                yield "".join(document.transaction(row, organisations) for row in batch).encode()
            yield document.ACTIVITY_END.encode()
        yield document.DOCUMENT_END.encode()
    finally:
        await session.rollback()
