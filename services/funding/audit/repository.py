"""Reading the funding service's audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import AuditEvent
from shared.pagination import PageParams, keyset_page


async def entries(
    session: AsyncSession,
    paging: PageParams,
    *,
    actor: str | None,
    resource_type: str | None,
    resource_id: uuid.UUID | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Sequence[AuditEvent]:
    """Newest first (the `at, id` index), after the cursor."""
    statement = select(AuditEvent)
    for column, value in (
        (AuditEvent.actor, actor),
        (AuditEvent.resource_type, resource_type),
        (AuditEvent.resource_id, resource_id),
        (AuditEvent.action, action),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    statement = keyset_page(
        statement, [AuditEvent.at, AuditEvent.id], paging, [datetime, int], descending=True
    )
    return (await session.execute(statement)).scalars().all()
