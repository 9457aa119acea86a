"""`/imports`: upload a CSV or Excel file of households, follow its import, read its errors."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import Manager
from services.beneficiaries.deps import Audit, Settings
from services.beneficiaries.exports.formats import neutralise
from services.beneficiaries.imports import repository
from services.beneficiaries.imports.job import upload_path
from services.beneficiaries.imports.reader import UnreadableFile, sniff_format
from services.beneficiaries.imports.schemas import ImportJob
from services.beneficiaries.imports.templates import template_csv, template_xlsx
from services.beneficiaries.models import ImportJob as ImportJobRow
from shared.db import DbSession, ReadSession, StreamSession
from shared.errors import Conflict, NotFound, ProblemError, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of, page_params

router = APIRouter(prefix="/api/v1/beneficiaries/imports", tags=["imports"])
CHUNK = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/template.csv", summary="The import template (CSV)")
async def csv_template(_: Manager) -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inds-import-template.csv"'},
    )


@router.get("/template.xlsx", summary="The import template (Excel, with a column guide)")
async def xlsx_template(_: Manager) -> Response:
    return Response(
        template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="inds-import-template.xlsx"'},
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=ImportJob)
async def start_import(
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or Excel (.xlsx)")],
    session: DbSession,
    principal: Manager,
    audit: Audit,
    settings: Settings,
    response: Response,
    mode: Annotated[
        Literal["all_or_nothing", "valid_only"],
        Form(description="all_or_nothing (default): nothing is saved if any row is invalid"),
    ] = "all_or_nothing",
) -> ImportJob:
    """Starts an import in the background; follow it at `GET /imports/{id}`."""
    job_id = uuid.uuid4()
    folder = settings.imports_folder()
    staging = folder / f"{job_id}.upload"
    digest = hashlib.sha256()
    size = lines = 0
    try:
        async with await anyio.open_file(staging, "wb") as target:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > settings.import_max_bytes:
                    raise ProblemError(
                        f"The file is larger than the {settings.import_max_bytes} bytes allowed.",
                        status=413,
                        title="Payload too large",
                    )
                digest.update(chunk)
                lines += chunk.count(b"\n")
                await target.write(chunk)
        if size == 0:
            raise UnprocessableEntity(
                "The file is empty.", errors=[{"path": "body.file", "message": "empty"}]
            )
        try:
            file_format = sniff_format(staging, file.filename or "")
        except UnreadableFile as exc:
            raise UnprocessableEntity(
                str(exc), errors=[{"path": "body.file", "message": str(exc)}]
            ) from exc
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    job = ImportJobRow(
        id=job_id,
        status="queued",
        mode=mode,
        file_name=(file.filename or "upload")[:255],
        file_format=file_format,
        file_sha256=digest.hexdigest(),
        file_bytes=size,
        total_rows=max(0, lines - 1) if file_format == "csv" else None,
        created_by=principal.subject,
    )
    repository.add_job(session, job)
    await session.flush()
    staging.rename(upload_path(settings, job))
    await audit.record_write(
        session, principal, "import_requested", "import", job.id, None,
        {"format": file_format, "bytes": size, "mode": mode},
    )  # fmt: skip
    await session.refresh(job)
    response.headers["Location"] = f"{router.prefix}/{job.id}"
    return ImportJob.model_validate(job)


@router.get("", response_model=Page[ImportJob])
async def list_imports(
    session: ReadSession, _: Manager, paging: Annotated[PageParams, Depends(page_params)]
) -> Page[ImportJob]:
    """Imports, the most recent first."""
    rows = await repository.list_jobs(session, paging)
    page = page_of(rows, paging, key=lambda job: [job.created_at, job.id])
    return Page[ImportJob](
        items=[ImportJob.model_validate(job) for job in page.items], next_cursor=page.next_cursor
    )


@router.get("/{job_id}", response_model=ImportJob)
async def get_import(job_id: uuid.UUID, session: ReadSession, _: Manager) -> ImportJob:
    return ImportJob.model_validate(await _job(session, job_id))


@router.get("/{job_id}/errors.csv", summary="Every problem found: row, column, value, message")
async def import_errors(job_id: uuid.UUID, session: StreamSession, _: Manager) -> StreamingResponse:
    await _job(session, job_id)

    async def lines() -> AsyncIterator[bytes]:
        yield _csv_line(["row", "column", "value", "message"]).encode("utf-8-sig")
        result = await repository.errors_of(session, job_id)
        async for rows in result.partitions():
            yield "".join(
                _csv_line([str(r[0]), r[1] or "", r[2] or "", r[3]]) for r in rows
            ).encode()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )


@router.delete("/{job_id}", response_model=ImportJob)
async def cancel_import(job_id: uuid.UUID, session: DbSession, principal: Manager) -> ImportJob:
    """Cancels an import that has not finished: nothing of it is saved."""
    # Locked: the worker claims queued jobs with SKIP LOCKED, so it cannot start this one
    # between the check and the change (and a claim under way is waited for).
    job = await _job(session, job_id, for_update=True)
    if job.status in ("done", "failed", "cancelled"):
        raise Conflict(f"This import is {job.status}: there is nothing to cancel.")
    if job.status == "queued":
        job.status = "cancelled"
        job.message = "Cancelled before it started."
    else:
        job.cancel_requested = True
    await session.flush()
    await session.refresh(job)
    return ImportJob.model_validate(job)


async def _job(
    session: AsyncSession, job_id: uuid.UUID, *, for_update: bool = False
) -> ImportJobRow:
    job = await repository.get_job(session, job_id, for_update=for_update)
    if job is None:
        raise NotFound("No such import.")
    return job


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    # A cell a spreadsheet would run as a formula is written as text (leading quote).
    csv.writer(buffer).writerow([neutralise(value) for value in values])
    return buffer.getvalue()
