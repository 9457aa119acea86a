"""What registry endpoints take from the app and the request: the settings, the audit trail,
the idempotency of POSTs, and the context of a write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import Staff
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.models import IdempotencyRecord
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import DbSession
from shared.idempotency import IdempotentPost, idempotent_posts
from shared.polling import Poller


async def _settings(request: Request) -> BeneficiariesSettings:
    return request.app.state.settings


async def _audit(request: Request) -> AuditTrail:
    return request.app.state.audit


async def _workers(request: Request) -> Workers:
    return Workers(
        request.app.state.pmt_worker,
        request.app.state.import_worker,
        request.app.state.match_worker,
    )


@dataclass(frozen=True)
class Workers:
    """The background workers, to wake when work is queued (after the request commits)."""

    pmt: Poller
    imports: Poller
    matches: Poller


Settings = Annotated[BeneficiariesSettings, Depends(_settings)]
Audit = Annotated[AuditTrail, Depends(_audit)]
BackgroundWorkers = Annotated[Workers, Depends(_workers)]
# A POST that a retry with the same Idempotency-Key answers from the first time.
Idempotent = Annotated[IdempotentPost, Depends(idempotent_posts(IdempotencyRecord))]
RequiredIdempotent = Annotated[
    IdempotentPost, Depends(idempotent_posts(IdempotencyRecord, required=True))
]


@dataclass(frozen=True)
class WriteContext:
    """A change to the registry: its transaction, who makes it, and what every change
    records it with (the audit trail) and is judged by (the settings). Built per request,
    or by a background job for the principal it acts for."""

    session: AsyncSession
    principal: Principal
    audit: AuditTrail
    settings: BeneficiariesSettings


async def _write_context(
    session: DbSession, principal: Staff, audit: Audit, settings: Settings
) -> WriteContext:
    return WriteContext(session, principal, audit, settings)


# A registry write by registry staff (registrars in their regions, data managers, admins).
StaffWrite = Annotated[WriteContext, Depends(_write_context)]
