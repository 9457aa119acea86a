from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import (
    ImportJob,
    ImportRowError,
)
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

jobs = Table(ImportJob, "No such import.")


def add_job(session: AsyncSession, job: ImportJob) -> None:
    session.add(job)


async def list_jobs(session: AsyncSession, params: PageParams) -> Sequence[ImportJob]:
    statement = keyset_page(
        select(ImportJob),
        [ImportJob.created_at, ImportJob.id],
        params,
        [datetime, uuid.UUID],
        descending=True,
    )
    return (await session.execute(statement)).scalars().all()


async def claim_job(session: AsyncSession, stale_seconds: int) -> ImportJob | None:
    """The oldest queued import, or one whose worker stopped beating (it restarts from the
    beginning: a crashed import's writes were never committed)."""
    stale_before = func.clock_timestamp() - timedelta(seconds=stale_seconds)
    job = await session.scalar(
        select(ImportJob)
        .where(
            or_(
                ImportJob.status == "queued",
                ImportJob.status.in_(("validating", "importing"))
                & (func.coalesce(ImportJob.heartbeat_at, ImportJob.created_at) < stale_before),
            )
        )
        .order_by(ImportJob.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job is None:
        return None
    job.status = "validating"
    job.started_at = func.clock_timestamp()
    job.heartbeat_at = func.clock_timestamp()
    job.processed_rows = job.households_created = job.individuals_created = 0
    job.households_skipped = job.duplicates_flagged = job.error_count = 0
    await session.flush()
    await session.refresh(job)
    return job


async def done_with_same_file(session: AsyncSession, job: ImportJob) -> ImportJob | None:
    return await session.scalar(
        select(ImportJob)
        .where(
            ImportJob.file_sha256 == job.file_sha256,
            ImportJob.status == "done",
            ImportJob.id != job.id,
        )
        .order_by(ImportJob.finished_at)
        .limit(1)
    )


async def report(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> bool:
    """Move the job's counters and heartbeat forward; whether a cancel was asked."""
    cancel = await session.scalar(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(heartbeat_at=func.clock_timestamp(), **values)
        .returning(ImportJob.cancel_requested)
    )
    return bool(cancel)


async def clear_errors(session: AsyncSession, job_id: uuid.UUID) -> None:
    await session.execute(delete(ImportRowError).where(ImportRowError.job_id == job_id))


async def add_errors(session: AsyncSession, job_id: uuid.UUID, errors: Iterable[Any]) -> None:
    rows = [
        {
            "job_id": job_id,
            "row_number": e.row,
            "column_name": e.column,
            "value": (e.value or "")[:200] or None,
            "message": e.message[:300],
        }
        for e in errors
    ]
    if rows:
        await session.execute(insert(ImportRowError), rows)


async def errors_of(session: AsyncSession, job_id: uuid.UUID) -> Any:
    statement = (
        select(
            ImportRowError.row_number,
            ImportRowError.column_name,
            ImportRowError.value,
            ImportRowError.message,
        )
        .where(ImportRowError.job_id == job_id)
        .order_by(ImportRowError.row_number, ImportRowError.id)
        .execution_options(yield_per=2000)
    )
    return await session.stream(statement)
