"""Match jobs as the API offers them: a list uploaded is read and checked at once (wrong
columns: 422, nothing saved), its rows saved with the job for the worker (matches/job.py);
jobs read and reported, a partner's only to that partner."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.matches import repository
from services.beneficiaries.matches.parse import read_list
from services.beneficiaries.matches.schemas import MatchResult
from services.beneficiaries.models import MatchJob
from services.beneficiaries.partners.scope import PartnerAccess
from shared.auth import Principal
from shared.errors import NotFound
from shared.pagination import Page, PageParams, page_of


async def start(
    session: AsyncSession,
    principal: Principal,
    access: PartnerAccess | None,
    settings: BeneficiariesSettings,
    *,
    content: bytes,
    file_name: str | None,
) -> MatchJob:
    name = (file_name or "list.csv")[:255]
    file_format, rows = await anyio.to_thread.run_sync(
        read_list, content, name, settings.match_max_rows
    )
    job = MatchJob(
        file_name=name,
        file_format=file_format,
        total_rows=len(rows),
        processed_rows=0,
        matched=0,
        ambiguous=0,
        not_found=0,
        status="queued",
        partner_id=access.scope.partner_id if access else None,
        agreement_id=access.scope.agreement_id if access else None,
        created_by=principal.subject,
    )
    session.add(job)
    await session.flush()
    await repository.add_rows(session, job.id, rows)
    await session.refresh(job)
    return job


async def get(session: AsyncSession, job_id: uuid.UUID, access: PartnerAccess | None) -> MatchJob:
    """The job; a partner's only to that partner (to anyone else: 404, as if none)."""
    job = await repository.jobs.find(session, job_id)
    if job is None or (access is not None and job.partner_id != access.scope.partner_id):
        raise NotFound("No such match job.")
    return job


async def list_jobs(
    session: AsyncSession, paging: PageParams, access: PartnerAccess | None
) -> Page[MatchJob]:
    partner = access.scope.partner_id if access else None
    rows = await repository.list_jobs(session, paging, partner)
    return page_of(rows, paging, key=lambda job: [job.created_at, job.id])


def result_of(row: Any) -> MatchResult:
    number, ref, outcome, result = row
    return MatchResult(
        row=number, partner_ref=ref, outcome=outcome or "not_found", **(result or {})
    )


async def results(session: AsyncSession, job_id: uuid.UUID) -> AsyncIterator[list[MatchResult]]:
    stream = await repository.results_of(session, job_id)
    async for rows in stream.partitions():
        yield [result_of(row) for row in rows]
