"""Snapshots and their frozen values in the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import Snapshot, SnapshotValue


async def get(session: AsyncSession, snapshot_id: uuid.UUID) -> Snapshot | None:
    return await session.get(Snapshot, snapshot_id)


async def listed(
    session: AsyncSession,
    *,
    period: str | None,
    status: str | None,
    published_only: bool,
    limit: int,
) -> Sequence[Snapshot]:
    statement = select(Snapshot).order_by(Snapshot.created_at.desc(), Snapshot.id).limit(limit)
    if period is not None:
        statement = statement.where(Snapshot.period == period)
    if status is not None:
        statement = statement.where(Snapshot.status == status)
    if published_only:
        statement = statement.where(Snapshot.published)
    return (await session.scalars(statement)).all()


async def latest_done(
    session: AsyncSession, period: str, *, published_only: bool
) -> Snapshot | None:
    statement = (
        select(Snapshot)
        .where(Snapshot.period == period, Snapshot.status == "done")
        .order_by(Snapshot.finished_at.desc(), Snapshot.id)
        .limit(1)
    )
    if published_only:
        statement = statement.where(Snapshot.published)
    return await session.scalar(statement)


async def claim(session: AsyncSession, stale_seconds: int) -> Snapshot | None:
    """The oldest queued snapshot, or a running one whose worker stopped beating (its
    values were never committed: it starts again)."""
    stale_before = func.clock_timestamp() - timedelta(seconds=stale_seconds)
    snapshot = await session.scalar(
        select(Snapshot)
        .where(
            or_(
                Snapshot.status == "queued",
                (Snapshot.status == "running")
                & (func.coalesce(Snapshot.heartbeat_at, Snapshot.created_at) < stale_before),
            )
        )
        .order_by(Snapshot.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if snapshot is None:
        return None
    snapshot.status = "running"
    snapshot.started_at = func.clock_timestamp()
    snapshot.heartbeat_at = func.clock_timestamp()
    await session.flush()
    await session.refresh(snapshot)
    return snapshot


async def add_values(
    session: AsyncSession, snapshot_id: uuid.UUID, values: Sequence[dict[str, Any]]
) -> None:
    if values:
        await session.execute(
            insert(SnapshotValue),
            [
                {
                    "snapshot_id": snapshot_id,
                    "position": position,
                    "indicator": value["indicator"],
                    "overall": value["cell"] == {},
                    "body": value,
                }
                for position, value in enumerate(values)
            ],
        )


async def values_of(
    session: AsyncSession, snapshot_id: uuid.UUID, indicator: str | None
) -> Sequence[dict[str, Any]]:
    statement = (
        select(SnapshotValue.body)
        .where(SnapshotValue.snapshot_id == snapshot_id)
        .order_by(SnapshotValue.position)
    )
    if indicator is not None:
        statement = statement.where(SnapshotValue.indicator == indicator)
    return (await session.scalars(statement)).all()
