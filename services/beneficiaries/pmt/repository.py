"""PMT formulas, recomputation jobs and household scores in the database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Numeric,
    Row,
    Uuid,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from services.beneficiaries.models import Household, Individual, PmtFormula, PmtJob
from services.beneficiaries.pmt.variables import (
    HOUSEHOLD_FACTS,
    MEMBER_FACTS,
    HouseholdFacts,
    MemberFacts,
)
from shared.pagination import PageParams, keyset_page
from shared.repository import Table

formulas = Table(PmtFormula, "No PMT formula version {key}.")
jobs = Table(PmtJob, "No such PMT recomputation job.")

# One lock id for "change which formula is active". Activation takes it exclusively (two
# activations at once would race on the one-active-formula index); whoever scores with the
# active formula takes it shared, so an activation waits for the households being scored
# with the old formula to be committed, and its recomputation job then sees them.
_ACTIVATION_LOCK = 0x706D74_61637476  # "pmt" "actv"

_HOUSEHOLD_FACTS = tuple(getattr(Household, name) for name in HOUSEHOLD_FACTS)
_MEMBER_FACTS = tuple(getattr(Individual, name) for name in MEMBER_FACTS)


def _ids(household_ids: Sequence[uuid.UUID]) -> BindParameter[Any]:
    # One array parameter instead of an IN list: one prepared statement whatever the size.
    return bindparam("household_ids", list(household_ids), type_=ARRAY(Uuid()))


# Formulas


def add_formula(session: AsyncSession, formula: PmtFormula) -> None:
    session.add(formula)


async def get_active_formula(session: AsyncSession) -> PmtFormula | None:
    """The active formula, activations held off until this transaction ends (one statement:
    the lock's row is kept whether or not a formula is active)."""
    hold = select(func.pg_advisory_xact_lock_shared(_ACTIVATION_LOCK).label("held")).subquery()
    return await session.scalar(
        select(PmtFormula).select_from(
            hold.outerjoin(PmtFormula.__table__, PmtFormula.is_active)  # type: ignore[arg-type]
        )
    )


async def list_formulas(session: AsyncSession, params: PageParams) -> Sequence[PmtFormula]:
    statement = keyset_page(
        select(PmtFormula), [PmtFormula.version], params, [int], descending=True
    )
    return (await session.execute(statement)).scalars().all()


async def make_active(session: AsyncSession, version: int) -> None:
    """Only `version` active afterwards. Two statements, because a unique index is checked
    row by row: flipping both rows in one UPDATE can trip over itself."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _ACTIVATION_LOCK})
    await session.execute(
        update(PmtFormula)
        .where(PmtFormula.is_active, PmtFormula.version != version)
        .values(is_active=False)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(PmtFormula)
        .where(PmtFormula.version == version)
        .values(is_active=True, activated_at=func.now())
        .execution_options(synchronize_session=False)
    )


# Jobs


def add_job(session: AsyncSession, job: PmtJob) -> None:
    session.add(job)


async def cancel_open_jobs(session: AsyncSession, reason: str) -> None:
    """Stop recomputations that a newer activation makes pointless. A worker in the middle
    of a batch holds the job's row: this waits for that batch, and the worker sees the
    cancellation before its next one."""
    await session.execute(
        update(PmtJob)
        .where(PmtJob.status.in_(("queued", "running")))
        .values(status="cancelled", error=reason, finished_at=func.clock_timestamp())
        .execution_options(synchronize_session=False)
    )


async def count_active_households(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(Household).where(Household.status == "active")
    return (await session.scalar(statement)) or 0


async def claim_job(session: AsyncSession, stale_seconds: int) -> tuple[uuid.UUID, datetime] | None:
    """Take the oldest queued job, or a running one whose worker stopped beating (crashed),
    skipping jobs another worker holds. The new heartbeat is the claim's token: a worker
    whose job was taken over sees a different one and stops."""
    stale_before = func.clock_timestamp() - timedelta(seconds=stale_seconds)
    job_id = await session.scalar(
        select(PmtJob.id)
        .where(
            or_(
                PmtJob.status == "queued",
                (PmtJob.status == "running")
                & (func.coalesce(PmtJob.heartbeat_at, PmtJob.created_at) < stale_before),
            )
        )
        .order_by(PmtJob.created_at, PmtJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job_id is None:
        return None
    heartbeat = await session.scalar(
        update(PmtJob)
        .where(PmtJob.id == job_id)
        .values(
            status="running",
            started_at=func.coalesce(PmtJob.started_at, func.clock_timestamp()),
            heartbeat_at=func.clock_timestamp(),
        )
        .returning(PmtJob.heartbeat_at)
        .execution_options(synchronize_session=False)
    )
    assert heartbeat is not None
    return job_id, heartbeat


async def lock_job(
    session: AsyncSession, job_id: uuid.UUID
) -> tuple[str, datetime | None, int, int, uuid.UUID | None] | None:
    """(status, heartbeat_at, formula_version, processed, last_household_id), the row
    locked until the batch commits."""
    row = (
        await session.execute(
            select(
                PmtJob.status,
                PmtJob.heartbeat_at,
                PmtJob.formula_version,
                PmtJob.processed,
                PmtJob.last_household_id,
            )
            .where(PmtJob.id == job_id)
            .with_for_update()
        )
    ).one_or_none()
    return None if row is None else tuple(row)  # type: ignore[return-value]


async def advance_job(
    session: AsyncSession,
    job_id: uuid.UUID,
    processed: int,
    last_household_id: uuid.UUID | None,
    *,
    done: bool,
) -> datetime:
    values: dict = {
        "processed": processed,
        "last_household_id": last_household_id,
        "heartbeat_at": func.clock_timestamp(),
    }
    if done:
        values.update(status="done", finished_at=func.clock_timestamp())
    heartbeat = await session.scalar(
        update(PmtJob)
        .where(PmtJob.id == job_id)
        .values(**values)
        .returning(PmtJob.heartbeat_at)
        .execution_options(synchronize_session=False)
    )
    assert heartbeat is not None
    return heartbeat


async def fail_job(
    session: AsyncSession, job_id: uuid.UUID, heartbeat: datetime, error: str
) -> None:
    """Mark the job failed, unless another worker has taken it over since."""
    await session.execute(
        update(PmtJob)
        .where(PmtJob.id == job_id, PmtJob.status == "running", PmtJob.heartbeat_at == heartbeat)
        .values(status="failed", error=error[:300], finished_at=func.clock_timestamp())
        .execution_options(synchronize_session=False)
    )


# Households and their scores


def _facts(row: Row[*tuple[Any, ...]]) -> HouseholdFacts:
    return HouseholdFacts(**row._mapping)


async def lock_household_batch(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[HouseholdFacts]:
    """The next active households in id order, locked so a registrar's concurrent edit
    waits for this batch (then rescores with the formula now active) instead of being
    overwritten by a score computed from what it changed."""
    statement = (
        select(*_HOUSEHOLD_FACTS)
        .where(Household.status == "active")
        .order_by(Household.id)
        .limit(limit)
        .with_for_update(key_share=True, of=Household)
    )
    if after is not None:
        statement = statement.where(Household.id > after)
    return [_facts(row) for row in await session.execute(statement)]


async def lock_households(
    session: AsyncSession, household_ids: Sequence[uuid.UUID]
) -> list[HouseholdFacts]:
    """The given households, locked in id order (the order the job locks them in, so the two
    cannot deadlock each other)."""
    statement = (
        select(*_HOUSEHOLD_FACTS)
        .where(Household.id == any_(_ids(household_ids)))
        .order_by(Household.id)
        .with_for_update(key_share=True, of=Household)
    )
    return [_facts(row) for row in await session.execute(statement)]


async def active_members(
    session: AsyncSession, household_ids: Sequence[uuid.UUID]
) -> list[MemberFacts]:
    """The active members of all the given households, in one query."""
    statement = select(*_MEMBER_FACTS).where(
        Individual.household_id == any_(_ids(household_ids)), Individual.status == "active"
    )
    return [MemberFacts(**row._mapping) for row in await session.execute(statement)]


_WRITE_SCORES = text(
    """
    UPDATE household AS h
       SET pmt_score = s.score,
           pmt_formula_version = :formula_version,
           pmt_computed_at = CASE WHEN CAST(:formula_version AS integer) IS NULL
                                  THEN NULL ELSE now() END
      FROM unnest(:household_ids, :scores) AS s(household_id, score)
     WHERE h.id = s.household_id
    RETURNING h.id, h.pmt_computed_at
    """
).bindparams(
    bindparam("household_ids", type_=ARRAY(Uuid())),
    bindparam("scores", type_=ARRAY(Numeric(8, 5))),
)


async def write_scores(
    session: AsyncSession, scores: Mapping[uuid.UUID, Decimal | None], formula_version: int | None
) -> dict[uuid.UUID, datetime | None]:
    """One UPDATE for the whole batch; when each was computed, by household. The household's
    `version` is left alone: a score is derived data, and recomputing it must not make a
    registrar's next edit fail with 412."""
    if not scores:
        return {}
    result = await session.execute(
        _WRITE_SCORES,
        {
            "household_ids": list(scores),
            "scores": list(scores.values()),
            "formula_version": formula_version,
        },
    )
    return {household_id: computed_at for household_id, computed_at in result}
