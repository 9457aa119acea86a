from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import (
    Household,
    Identifier,
    Individual,
    MatchJob,
    MatchRow,
)
from services.beneficiaries.partners.scope import PartnerScope
from shared.db import driver_connection
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

jobs = Table(MatchJob, "No such match job.")


async def list_jobs(
    session: AsyncSession, params: PageParams, partner_id: str | None
) -> Sequence[MatchJob]:
    statement = select(MatchJob)
    if partner_id is not None:
        statement = statement.where(MatchJob.partner_id == partner_id)
    statement = keyset_page(
        statement,
        [MatchJob.created_at, MatchJob.id],
        params,
        [datetime, uuid.UUID],
        descending=True,
    )
    return (await session.execute(statement)).scalars().all()


async def add_rows(session: AsyncSession, job_id: uuid.UUID, rows: Sequence[Any]) -> None:
    """The list's rows, with COPY (a list has thousands)."""
    raw = await driver_connection(session)
    await raw.copy_records_to_table(
        "match_row",
        records=[
            (job_id, row.number, row.partner_ref, orjson.dumps(row.submitted).decode())
            for row in rows
        ],
        columns=("job_id", "row_number", "partner_ref", "submitted"),
    )


async def claim_job(session: AsyncSession, stale_seconds: int) -> MatchJob | None:
    """The oldest queued job, or one whose worker stopped beating (it goes on from the rows
    not matched yet: each batch is committed with its results)."""
    stale_before = func.clock_timestamp() - timedelta(seconds=stale_seconds)
    job = await session.scalar(
        select(MatchJob)
        .where(
            or_(
                MatchJob.status == "queued",
                (MatchJob.status == "matching")
                & (func.coalesce(MatchJob.heartbeat_at, MatchJob.created_at) < stale_before),
            )
        )
        .order_by(MatchJob.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job is None:
        return None
    job.status = "matching"
    job.started_at = job.started_at or func.clock_timestamp()
    job.heartbeat_at = func.clock_timestamp()
    await session.flush()
    await session.refresh(job)
    return job


async def pending_rows(session: AsyncSession, job_id: uuid.UUID, limit: int) -> list[Any]:
    """The next rows not matched yet: (row number, what was sent)."""
    raw = await driver_connection(session)
    rows = await raw.fetch(
        "SELECT row_number, submitted FROM match_row WHERE job_id = $1 AND outcome IS NULL"
        " ORDER BY row_number LIMIT $2",
        job_id,
        limit,
    )
    return [(row[0], _json(row[1])) for row in rows]


async def save_results(session: AsyncSession, job_id: uuid.UUID, results: Sequence[Any]) -> None:
    """Each row's outcome, result and household matched; what the partner sent is cleared
    once matched."""
    raw = await driver_connection(session)
    await raw.execute(
        "UPDATE match_row AS r SET outcome = d.outcome, result = d.result::jsonb,"
        " household_id = d.household_id, submitted = NULL"
        " FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[])"
        " AS d(row_number, outcome, result, household_id)"
        " WHERE r.job_id = $1 AND r.row_number = d.row_number",
        job_id,
        [r.number for r in results],
        [r.outcome for r in results],
        [orjson.dumps(r.result).decode() for r in results],
        [r.household_id for r in results],
    )


async def matched_households(session: AsyncSession, job_id: uuid.UUID) -> list[uuid.UUID]:
    """The households a job's report names (for the audit of its readers)."""
    rows = await session.execute(
        select(MatchRow.household_id)
        .where(MatchRow.job_id == job_id, MatchRow.household_id.is_not(None))
        .distinct()
    )
    return [household for (household,) in rows if household is not None]


async def report(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(MatchJob)
        .where(MatchJob.id == job_id)
        .values(heartbeat_at=func.clock_timestamp(), **values)
    )


async def add_counts(session: AsyncSession, job_id: uuid.UUID, counts: dict[str, int]) -> None:
    await report(
        session,
        job_id,
        processed_rows=MatchJob.processed_rows + sum(counts.values()),
        matched=MatchJob.matched + counts.get("matched", 0),
        ambiguous=MatchJob.ambiguous + counts.get("ambiguous", 0),
        not_found=MatchJob.not_found + counts.get("not_found", 0),
    )


async def results_of(session: AsyncSession, job_id: uuid.UUID) -> Any:
    statement = (
        select(MatchRow.row_number, MatchRow.partner_ref, MatchRow.outcome, MatchRow.result)
        .where(MatchRow.job_id == job_id)
        .order_by(MatchRow.row_number)
        .execution_options(yield_per=2000)
    )
    return await session.stream(statement)


# Matching


async def identifier_owners(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[uuid.UUID]]:
    """(type, value) -> the present people holding it."""
    if not pairs:
        return {}
    wanted = list(dict.fromkeys(pairs))
    rows = await session.execute(
        select(Identifier.type, Identifier.value, Individual.id)
        .join(Individual, Individual.id == Identifier.individual_id)
        .where(
            Identifier.type.in_({kind for kind, _ in wanted}),
            Identifier.value.in_({value for _, value in wanted}),
            Individual.status == "active",
        )
    )
    owners: dict[tuple[str, str], list[uuid.UUID]] = {}
    wanted_set = set(wanted)
    for kind, value, person in rows:
        if (kind, value) in wanted_set:
            owners.setdefault((kind, value), []).append(person)
    return owners


async def visible_people(
    session: AsyncSession, ids: Sequence[uuid.UUID], scope: PartnerScope | None
) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """Of these people, those the caller may match: present members of an active household
    (for a partner, of its agreement's households, regions, legal statuses and consent).
    id -> (household id, registry number)."""
    if not ids:
        return {}
    conditions = (
        [*scope.person_conditions(), *scope.household_conditions()]
        if scope is not None
        else [Individual.status == "active", Household.status == "active"]
    )
    rows = await session.execute(
        select(Individual.id, Household.id, Household.registry_number)
        .join(Household, Household.id == Individual.household_id)
        .where(Individual.id.in_(list(set(ids))), *conditions)
    )
    return {person: (household, number) for person, household, number in rows}


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value
