"""Reading the funding service's audit trail: who changed which money record, and who read
payees' names and phones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.funding.access import AuditReader
from services.funding.context import Audit
from shared.audit import AuditEntry
from shared.db import ReadSession
from shared.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/funding/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntry])
async def read_audit_trail(
    session: ReadSession,
    _: AuditReader,
    audit: Audit,
    paging: Annotated[PageParams, Depends(page_params)],
    actor: Annotated[str | None, Query(description="A user or client, e.g. user:alice")] = None,
    resource_type: Annotated[
        str | None, Query(description="transaction, agreement, payment_cycle, exchange_rate...")
    ] = None,
    resource_id: Annotated[uuid.UUID | None, Query(description="The record's id")] = None,
    action: Annotated[str | None, Query(description="create, update, approve, read...")] = None,
    since: Annotated[datetime | None, Query(description="At or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
) -> Page[AuditEntry]:
    """Who changed or read what, newest first, in keyset pages (admin and finance roles).
    Each money change is recorded with its before and after in the change's own
    transaction; reads of payees are queued and written in batches, and flushed before
    this answer, so none is missing from it."""
    return await audit.entries(
        session,
        paging,
        actor=actor,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        since=since,
        until=until,
    )
