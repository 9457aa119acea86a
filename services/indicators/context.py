"""What indicators endpoints take from the app and the request: settings, the audit trail,
the services' statistics, the idempotency of POSTs, and the context of a change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.access import Editor
from services.indicators.clients.stats import StatsClient
from services.indicators.config import IndicatorsSettings
from services.indicators.models import IdempotencyRecord
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import DbSession
from shared.idempotency import IdempotentPost, idempotent_posts
from shared.polling import Poller


@dataclass(frozen=True)
class Sources:
    """The services whose `/stats` indicators are computed from."""

    registry: StatsClient
    funding: StatsClient

    def all(self) -> tuple[StatsClient, ...]:
        return (self.registry, self.funding)

    def remembering_catalogues(self) -> Sources:
        """The same services, each catalogue asked once (StatsClient.remembering_catalog)."""
        return Sources(self.registry.remembering_catalog(), self.funding.remembering_catalog())


async def _settings(request: Request) -> IndicatorsSettings:
    return request.app.state.settings


async def _audit(request: Request) -> AuditTrail:
    return request.app.state.audit


async def _sources(request: Request) -> Sources:
    return request.app.state.sources


async def _snapshot_worker(request: Request) -> Poller:
    return request.app.state.snapshot_worker


Settings = Annotated[IndicatorsSettings, Depends(_settings)]
Audit = Annotated[AuditTrail, Depends(_audit)]
StatsSources = Annotated[Sources, Depends(_sources)]
SnapshotWorker = Annotated[Poller, Depends(_snapshot_worker)]
Idempotent = Annotated[IdempotentPost, Depends(idempotent_posts(IdempotencyRecord))]


@dataclass(frozen=True)
class Change:
    """A change to the framework, definitions or reference data: its transaction, who
    makes it, and the audit trail that records it in that same transaction."""

    session: AsyncSession
    principal: Principal
    audit: AuditTrail


async def _editor_change(session: DbSession, principal: Editor, audit: Audit) -> Change:
    return Change(session, principal, audit)


EditorChange = Annotated[Change, Depends(_editor_change)]
