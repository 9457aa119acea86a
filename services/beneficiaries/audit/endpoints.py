from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from services.beneficiaries.access import Manager
from services.beneficiaries.audit import repository
from services.beneficiaries.context import Audit
from shared.db import ReadSession
from shared.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/api/v1/beneficiaries/audit", tags=["audit"])


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    roles: list[str]
    action: str
    resource_type: str
    resource_id: uuid.UUID | None
    household_id: uuid.UUID | None
    request_id: str | None
    detail: dict[str, Any]


@router.get("", response_model=Page[AuditEntry])
async def read_audit_trail(
    session: ReadSession,
    _: Manager,
    audit: Audit,
    paging: Annotated[PageParams, Depends(page_params)],
    actor: str | None = None,
    resource_id: Annotated[uuid.UUID | None, Query(description="A household or person")] = None,
    household_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEntry]:
    """Who read or changed what, newest first (admin and data managers)."""
    await audit.flush()  # reads still queued belong in the answer
    rows = await repository.entries(
        session,
        paging,
        actor=actor,
        resource_id=resource_id,
        household_id=household_id,
        action=action,
        since=since,
        until=until,
    )
    page = page_of(rows, paging, key=lambda entry: [entry.at, entry.id])
    return Page[AuditEntry](
        items=[AuditEntry.model_validate(entry) for entry in page.items],
        next_cursor=page.next_cursor,
    )
