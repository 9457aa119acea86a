"""`/matches`: a partner's list (WFP's, say) uploaded, matched against the registry as a job,
and its report (JSON, CSV or XLSX). Partners see only their own lists, matched under their active
agreement; data managers and admins match against the whole registry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Request, Response, UploadFile, status

from services.beneficiaries.access import MANAGERS
from services.beneficiaries.config import MATCHES_PATH
from services.beneficiaries.context import Audit, BackgroundWorkers, Settings
from services.beneficiaries.matches import repository, service
from services.beneficiaries.matches.schemas import MatchJob, MatchReport, MatchResult
from services.beneficiaries.partners.scope import PARTNER_ROLES, PartnerAccess, open_access
from shared.auth import Principal, require_roles
from shared.db import DbSession
from shared.downloads import file_answer
from shared.errors import Conflict
from shared.pagination import Page, PageParams, page_params
from shared.spreadsheet import csv_line
from shared.uploads import read_upload
from shared.xlsx import Column, XlsxWriter

router = APIRouter(prefix=MATCHES_PATH, tags=["partner list matching"])

# The report's columns, in the CSV and XLSX downloads alike.
REPORT_COLUMNS = [
    Column("row", "integer"),
    Column("partner_ref", "text"),
    Column("outcome", "text"),
    Column("method", "text"),
    Column("score", "decimal"),
    Column("household", "text"),
    Column("individual", "text"),
    Column("registry_number", "text"),
    Column("programmes", "text"),
    Column("candidates", "text"),
    Column("unreadable", "text"),
]
CSV_HEADER = [column.name for column in REPORT_COLUMNS]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Caller:
    """Who asks: a partner (under its active agreement, counted against its quota) or a
    data manager or admin (`access` None: the whole registry)."""

    def __init__(self, principal: Principal, access: PartnerAccess | None) -> None:
        self.principal, self.access = principal, access


def _caller(*, count: bool) -> Any:
    async def caller(
        request: Request,
        session: DbSession,
        principal: Annotated[Principal, Depends(require_roles(*MANAGERS, *PARTNER_ROLES))],
    ) -> Caller:
        if not principal.roles.isdisjoint(MANAGERS):
            return Caller(principal, None)
        state = request.app.state
        access = await open_access(
            session, state.database, principal, state.settings, state.audit, count=count
        )
        return Caller(principal, access)

    return caller


# Uploads and reports count against a partner's daily quota; polling a job's progress (no
# record in it, only counts) does not.
Matcher = Annotated[Caller, Depends(_caller(count=True))]
Poller = Annotated[Caller, Depends(_caller(count=False))]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=MatchJob)
async def start_match(
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or Excel (.xlsx)")],
    session: DbSession,
    caller: Matcher,
    settings: Settings,
    response: Response,
    workers: BackgroundWorkers,
    background: BackgroundTasks,
) -> MatchJob:
    """Matches a list against the registry in the background; follow it at
    `GET /matches/{id}`. Columns: your id (`partner_ref`, `id`...), `given_name`,
    `father_name`, `grandfather_name` or `full_name`, `birth_date`, `sex`, `phone`,
    `unhcr_individual`, `unhcr_case`, `locality_code` (common spellings accepted). Wrong
    columns: 422, nothing saved."""
    content = await read_upload(file, settings.match_max_bytes)
    job = await service.start(
        session, caller.principal, caller.access, settings, content=content, file_name=file.filename
    )
    if caller.access is not None:
        await caller.access.served("POST /matches")
    response.headers["Location"] = f"{router.prefix}/{job.id}"
    background.add_task(workers.matches.wake)  # after the commit
    return MatchJob.model_validate(job)


@router.get("", response_model=Page[MatchJob])
async def list_matches(
    session: DbSession, caller: Poller, paging: Annotated[PageParams, Depends(page_params)]
) -> Page[MatchJob]:
    """Lists matched, the most recent first (a partner: its own)."""
    page = await service.list_jobs(session, paging, caller.access)
    if caller.access is not None:
        await caller.access.served("GET /matches")
    return Page[MatchJob](
        items=[MatchJob.model_validate(job) for job in page.items], next_cursor=page.next_cursor
    )


@router.get("/{job_id}", response_model=MatchJob)
async def get_match(job_id: uuid.UUID, session: DbSession, caller: Poller) -> MatchJob:
    job = MatchJob.model_validate(await service.get(session, job_id, caller.access))
    if caller.access is not None:
        await caller.access.served(f"GET /matches/{job_id}")
    return job


async def _finished(session: DbSession, job_id: uuid.UUID, caller: Caller) -> MatchJob:
    job = MatchJob.model_validate(await service.get(session, job_id, caller.access))
    if job.status != "done":
        raise Conflict(
            f"The list is not matched yet ({job.status}): its report is ready when the job "
            "is done.",
            status_of_job=job.status,
        )
    return job


async def _audit_report(
    session: DbSession, caller: Caller, audit: Audit, job_id: uuid.UUID, endpoint: str
) -> None:
    """The report's reading on the audit trail: the households it names (a partner's, with
    its agreement, and counted as records returned)."""
    households = await repository.matched_households(session, job_id)
    if caller.access is not None:
        await caller.access.served(endpoint, households=households)
    else:
        detail = {"match_job_id": str(job_id)}
        await audit.record_reads(
            caller.principal, "household", [(h, h) for h in households], detail
        )


@router.get("/{job_id}/report.json", response_model=MatchReport)
async def match_report(
    job_id: uuid.UUID, session: DbSession, caller: Matcher, audit: Audit
) -> MatchReport:
    """Each row: matched (household and individual — or your pseudonyms —, method, score,
    the household's programmes and since when), ambiguous (candidates) or not found."""
    job = await _finished(session, job_id, caller)
    rows = [result async for batch in service.results(session, job_id) for result in batch]
    await _audit_report(session, caller, audit, job_id, f"GET /matches/{job_id}/report.json")
    return MatchReport(job=job, rows=rows)


@router.get(
    "/{job_id}/report.csv",
    summary="The match report as CSV",
    **file_answer("text/csv", "One line a row of the list."),
)
async def match_report_csv(
    job_id: uuid.UUID, session: DbSession, caller: Matcher, audit: Audit
) -> Response:
    """The report as CSV, one line a row of the list. Built whole (a list of 100,000 rows
    is a few megabytes): the partner's request reads in the one session its agreement was
    checked in."""
    await _finished(session, job_id, caller)
    lines = [csv_line(CSV_HEADER)]
    async for batch in service.results(session, job_id):
        lines.extend(csv_line(_cells(result)) for result in batch)
    await _audit_report(session, caller, audit, job_id, f"GET /matches/{job_id}/report.csv")
    return Response(
        "".join(lines).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="match-{job_id}.csv"'},
    )


@router.get(
    "/{job_id}/report.xlsx",
    summary="The match report as XLSX",
    **file_answer(XLSX_MEDIA_TYPE, "One sheet, one line a row of the list."),
)
async def match_report_xlsx(
    job_id: uuid.UUID, session: DbSession, caller: Matcher, audit: Audit
) -> Response:
    """The report as an Excel workbook: one sheet, the CSV's columns (row and score as
    numbers), one line a row of the list. Built whole, as the CSV is."""
    await _finished(session, job_id, caller)
    writer = XlsxWriter(REPORT_COLUMNS, "matches", max_sheets=1)
    parts = [writer.begin()]
    async for batch in service.results(session, job_id):
        parts.append(writer.write([_values(result) for result in batch]))
    parts.append(writer.end())
    await _audit_report(session, caller, audit, job_id, f"GET /matches/{job_id}/report.xlsx")
    return Response(
        b"".join(parts),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="match-{job_id}.xlsx"'},
    )


def _values(result: MatchResult) -> list[Any]:
    """A report line's values in REPORT_COLUMNS' order (None: empty)."""
    programmes = "; ".join(
        f"{p.programme} ({p.status} since {p.status_since}, enrolled {p.enrolled_on})"
        for p in result.programmes or []
    )
    candidates = "; ".join(
        f"{c.household}/{c.individual}" + (f" ({c.score:.3f})" if c.score is not None else "")
        for c in result.candidates or []
    )
    return [
        result.row,
        result.partner_ref,
        result.outcome,
        result.method or None,
        round(result.score, 4) if result.score is not None else None,
        result.household or None,
        result.individual or None,
        result.registry_number or None,
        programmes or None,
        candidates or None,
        ", ".join(result.unreadable or []) or None,
    ]


_SCORE = CSV_HEADER.index("score")


def _cells(result: MatchResult) -> list[str]:
    return [
        "" if value is None else f"{value:.4f}" if index == _SCORE else str(value)
        for index, value in enumerate(_values(result))
    ]
