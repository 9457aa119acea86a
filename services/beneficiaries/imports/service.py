"""Imports as the API offers them: a file uploaded is staged on disk (hashed and measured
as it streams in, never held in memory), its job queued for the worker (imports/job.py);
jobs read, listed and cancelled."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.imports import repository
from services.beneficiaries.imports.reader import UnreadableFile, sniff_format
from services.beneficiaries.models import ImportJob
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.uploads import PayloadTooLarge


def upload_path(settings: BeneficiariesSettings, job: ImportJob) -> Path:
    return settings.imports_folder() / f"{job.id}.{job.file_format}"


class _Staged:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self.size = self.lines = 0
        self.head = b""


async def _stage(chunks: AsyncIterator[bytes], path: Path, max_bytes: int) -> _Staged:
    staged = _Staged(path)
    async with await anyio.open_file(path, "wb") as target:
        async for chunk in chunks:
            staged.size += len(chunk)
            if staged.size > max_bytes:
                raise PayloadTooLarge(f"The file is larger than the {max_bytes} bytes allowed.")
            if not staged.head:
                staged.head = chunk[:8]
            staged.digest.update(chunk)
            staged.lines += chunk.count(b"\n")
            await target.write(chunk)
    return staged


async def start_import(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    settings: BeneficiariesSettings,
    *,
    chunks: AsyncIterator[bytes],
    file_name: str | None,
    mode: str,
) -> ImportJob:
    """Stage the file and queue its import; a file that cannot be an import file (empty,
    too large, a broken workbook) is refused now and nothing of it is kept."""
    job_id = uuid.uuid4()
    staging = anyio.Path(settings.imports_folder() / f"{job_id}.upload")
    try:
        staged = await _stage(chunks, Path(staging), settings.import_max_bytes)
        if staged.size == 0:
            raise UnprocessableEntity(
                "The file is empty.", errors=[{"path": "body.file", "message": "empty"}]
            )
        try:
            file_format = sniff_format(staged.head, file_name or "")
        except UnreadableFile as exc:
            raise UnprocessableEntity(
                str(exc), errors=[{"path": "body.file", "message": str(exc)}]
            ) from exc
    except BaseException:
        await staging.unlink(missing_ok=True)
        raise
    job = ImportJob(
        id=job_id,
        status="queued",
        mode=mode,
        file_name=(file_name or "upload")[:255],
        file_format=file_format,
        file_sha256=staged.digest.hexdigest(),
        file_bytes=staged.size,
        total_rows=max(0, staged.lines - 1) if file_format == "csv" else None,
        created_by=principal.subject,
        created_by_roles=sorted(principal.roles),
    )
    repository.add_job(session, job)
    await session.flush()
    await staging.rename(upload_path(settings, job))
    await audit.record_write(
        session,
        principal,
        "import_requested",
        "import",
        job.id,
        None,
        {"format": file_format, "bytes": staged.size, "mode": mode},
    )
    await session.refresh(job)
    return job


async def get(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    return await repository.jobs.get(session, job_id)


async def list_jobs(session: AsyncSession, paging: PageParams) -> Page[ImportJob]:
    rows = await repository.list_jobs(session, paging)
    return page_of(rows, paging, key=lambda job: [job.created_at, job.id])


async def cancel(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    """Cancel an import that has not finished: nothing of it is saved. A queued one is
    cancelled at once; a running one stops at its next batch, its writes rolled back."""
    # Locked: the worker claims queued jobs with SKIP LOCKED, so it cannot start this one
    # between the check and the change (and a claim under way is waited for).
    job = await repository.jobs.get_for_update(session, job_id)
    if job.status in ("done", "failed", "cancelled"):
        raise Conflict(f"This import is {job.status}: there is nothing to cancel.")
    if job.status == "queued":
        job.status = "cancelled"
        job.message = "Cancelled before it started."
    else:
        job.cancel_requested = True
    await session.flush()
    await session.refresh(job)
    return job
