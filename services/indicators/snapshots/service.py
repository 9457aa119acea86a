"""Snapshots: asked for by M&E officers, run in the background (snapshots/job.py), read by
everyone here, and by partners once published."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.access import reads_unpublished
from services.indicators.context import Change
from services.indicators.definitions import repository as definitions
from services.indicators.models import Snapshot
from services.indicators.snapshots import repository
from services.indicators.snapshots.schemas import SnapshotCreate
from services.indicators.values.periods import parse_period
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnprocessableEntity


async def create(change: Change, data: SnapshotCreate) -> Snapshot:
    errors: list[dict[str, Any]] = []
    try:
        period = parse_period(data.period)
    except ValueError as problem:
        errors.append({"path": "body.period", "message": str(problem)})
    if data.indicators is not None:
        known = {indicator.code for indicator, _ in await definitions.current(change.session)}
        errors += [
            {"path": f"body.indicators.{index}", "message": "no such indicator"}
            for index, code in enumerate(data.indicators)
            if code not in known
        ]
    if errors:
        raise UnprocessableEntity("The snapshot cannot be taken.", errors=errors)
    snapshot = Snapshot(
        id=uuid.uuid4(),
        period=period.text,
        indicators=None if data.indicators is None else list(dict.fromkeys(data.indicators)),
        status="queued",
        value_count=0,
        published=False,
        created_by=change.principal.subject,
        # The moment itself, not its transaction's start: snapshots list in this order.
        created_at=func.clock_timestamp(),
    )
    change.session.add(snapshot)
    await change.session.flush()
    await change.session.refresh(snapshot)
    await change.audit.record_write(
        change.session,
        change.principal,
        "create",
        "snapshot",
        snapshot.id,
        detail={"period": snapshot.period, "indicators": snapshot.indicators},
    )
    return snapshot


async def get(session: AsyncSession, snapshot_id: uuid.UUID, principal: Principal) -> Snapshot:
    snapshot = await repository.get(session, snapshot_id)
    if snapshot is None or not (snapshot.published or reads_unpublished(principal)):
        raise NotFound("No such snapshot.")
    return snapshot


async def listed(
    session: AsyncSession,
    principal: Principal,
    period: str | None,
    status: str | None,
    limit: int,
) -> Sequence[Snapshot]:
    return await repository.listed(
        session,
        period=period,
        status=status,
        published_only=not reads_unpublished(principal),
        limit=limit,
    )


async def latest(session: AsyncSession, principal: Principal, period: str) -> Snapshot:
    snapshot = await repository.latest_done(
        session, period, published_only=not reads_unpublished(principal)
    )
    if snapshot is None:
        raise NotFound("No snapshot of this period has been taken.")
    return snapshot


async def publish(change: Change, snapshot_id: uuid.UUID) -> Snapshot:
    snapshot = await repository.get(change.session, snapshot_id)
    if snapshot is None:
        raise NotFound("No such snapshot.")
    if snapshot.status != "done":
        raise Conflict("Only a snapshot whose run is done can be published.")
    if not snapshot.published:
        snapshot.published = True
        snapshot.published_at = func.now()
        await change.session.flush()
        await change.session.refresh(snapshot)
        await change.audit.record_write(
            change.session,
            change.principal,
            "update",
            "snapshot",
            snapshot.id,
            detail={"published": True},
        )
    return snapshot
