"""What funding endpoints take from the app and the request: settings, the audit trail, the
registry client, the idempotency of POSTs, and the context of a money change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import Officer
from services.funding.clients.registry import RegistryClient
from services.funding.config import FundingSettings
from services.funding.models import IdempotencyRecord
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import DbSession
from shared.idempotency import IdempotentPost, idempotent_posts
from shared.polling import Poller


async def _settings(request: Request) -> FundingSettings:
    return request.app.state.settings


async def _audit(request: Request) -> AuditTrail:
    return request.app.state.audit


async def _registry(request: Request) -> RegistryClient:
    return request.app.state.registry


async def _builder(request: Request) -> Poller:
    return request.app.state.builder


Settings = Annotated[FundingSettings, Depends(_settings)]
Audit = Annotated[AuditTrail, Depends(_audit)]
Registry = Annotated[RegistryClient, Depends(_registry)]
# The payroll builder, to wake when a payroll is queued.
Builder = Annotated[Poller, Depends(_builder)]
# A POST that a retry with the same Idempotency-Key answers from the first time.
Idempotent = Annotated[IdempotentPost, Depends(idempotent_posts(IdempotencyRecord))]


@dataclass(frozen=True)
class MoneyChange:
    """A change to the ledger: its transaction, who makes it, and the audit trail that
    records it (before and after) in that same transaction."""

    session: AsyncSession
    principal: Principal
    audit: AuditTrail


async def _officer_change(session: DbSession, principal: Officer, audit: Audit) -> MoneyChange:
    return MoneyChange(session, principal, audit)


# A change by finance officers (or an admin).
OfficerChange = Annotated[MoneyChange, Depends(_officer_change)]
