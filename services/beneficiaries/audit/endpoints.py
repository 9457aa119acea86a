from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.beneficiaries.access import Manager
from services.beneficiaries.context import Audit
from shared.audit import AuditEntry
from shared.db import ReadSession
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/beneficiaries/audit", tags=["audit"])


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
    return await audit.entries(
        session,
        paging,
        actor=actor,
        resource_id=resource_id,
        household_id=household_id,
        action=action,
        since=since,
        until=until,
    )
