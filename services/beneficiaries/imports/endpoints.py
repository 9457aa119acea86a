"""`/imports`: upload a CSV or Excel file of households, follow its import, read its errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from services.beneficiaries.access import Manager
from services.beneficiaries.context import Audit, BackgroundWorkers, Settings
from services.beneficiaries.imports import repository, service
from services.beneficiaries.imports.schemas import ImportJob
from services.beneficiaries.imports.templates import template_csv, template_xlsx
from shared.db import DbSession, ReadSession, StreamSession
from shared.downloads import file_answer
from shared.pagination import Page, PageParams, page_params
from shared.spreadsheet import csv_line

router = APIRouter(prefix="/api/v1/beneficiaries/imports", tags=["imports"])
CHUNK = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/template.csv",
    summary="The import template (CSV)",
    **file_answer("text/csv", "The template's header row."),
)
async def csv_template(_: Manager) -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inds-import-template.csv"'},
    )


@router.get(
    "/template.xlsx",
    summary="The import template (Excel, with a column guide)",
    **file_answer(XLSX, "The template, with a sheet that explains each column."),
)
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
    workers: BackgroundWorkers,
    background: BackgroundTasks,
    mode: Annotated[
        Literal["all_or_nothing", "valid_only"],
        Form(description="all_or_nothing (default): nothing is saved if any row is invalid"),
    ] = "all_or_nothing",
) -> ImportJob:
    """Starts an import in the background; follow it at `GET /imports/{id}`."""

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(CHUNK):
            yield chunk

    job = await service.start_import(
        session, principal, audit, settings, chunks=chunks(), file_name=file.filename, mode=mode
    )
    response.headers["Location"] = f"{router.prefix}/{job.id}"
    background.add_task(workers.imports.wake)  # after the commit: the import starts at once
    return ImportJob.model_validate(job)


@router.get("", response_model=Page[ImportJob])
async def list_imports(
    session: ReadSession, _: Manager, paging: Annotated[PageParams, Depends(page_params)]
) -> Page[ImportJob]:
    """Imports, the most recent first."""
    page = await service.list_jobs(session, paging)
    return Page[ImportJob](
        items=[ImportJob.model_validate(job) for job in page.items], next_cursor=page.next_cursor
    )


@router.get("/{job_id}", response_model=ImportJob)
async def get_import(job_id: uuid.UUID, session: ReadSession, _: Manager) -> ImportJob:
    return ImportJob.model_validate(await service.get(session, job_id))


@router.get(
    "/{job_id}/errors.csv",
    summary="Every problem found: row, column, value, message",
    **file_answer("text/csv", "One line for each problem."),
)
async def import_errors(
    job_id: uuid.UUID, session: StreamSession, principal: Manager, audit: Audit
) -> StreamingResponse:
    await service.get(session, job_id)
    # The rows' values are the people of the file (names, identifiers, birth dates): the
    # reading is on the audit trail, as a read of the import.
    await audit.record_reads(principal, "import", [(job_id, None)], {"via": "import_errors"})

    async def lines() -> AsyncIterator[bytes]:
        yield csv_line(["row", "column", "value", "message"]).encode("utf-8-sig")
        result = await repository.errors_of(session, job_id)
        async for rows in result.partitions():
            yield "".join(
                csv_line([str(r[0]), r[1] or "", r[2] or "", r[3]]) for r in rows
            ).encode()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )


@router.delete("/{job_id}", response_model=ImportJob)
async def cancel_import(job_id: uuid.UUID, session: DbSession, _: Manager) -> ImportJob:
    """Cancels an import that has not finished: nothing of it is saved."""
    return ImportJob.model_validate(await service.cancel(session, job_id))
