"""Recomputing every score after a formula is activated, in the background.

A job is claimed with `FOR UPDATE SKIP LOCKED`, so any number of replicas can run a worker.
Households go in keyset batches by id; each batch is one transaction that scores the batch,
writes the scores with one UPDATE and moves the job's `processed`, `last_household_id` and
heartbeat forward. A crash loses at most the batch in flight: the job's heartbeat goes stale
and the next worker to look resumes after `last_household_id`.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.clock import today
from services.beneficiaries.pmt import repository
from services.beneficiaries.pmt.scoring import Formula, score_households
from shared.db import Database, sqlstate
from shared.logs import get_logger

BATCH_SIZE = 1000
# A running job whose heartbeat is older than this is taken to be orphaned by a crash.
STALE_AFTER_SECONDS = 60
# Deadlock, serialization failure, lock timeout: a batch that meets one is simply redone.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
MAX_ATTEMPTS = 5

_log = get_logger("inds.beneficiaries.pmt")


async def run_pending_jobs(database: Database, *, batch_size: int = BATCH_SIZE) -> int:
    """Run every claimable job to its end (done, failed or cancelled); how many were run.
    What the background worker does on each poll, and what tests call directly."""
    ran = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            claim = await repository.claim_job(session, STALE_AFTER_SECONDS)
        if claim is None:
            return ran
        await _run_job(database, *claim, batch_size=batch_size)
        ran += 1


async def _run_job(
    database: Database, job_id: uuid.UUID, heartbeat: datetime, *, batch_size: int
) -> None:
    formulas: dict[int, Formula] = {}
    attempts = 0
    _log.info("pmt job started", job_id=str(job_id))
    while True:
        try:
            async with database.sessionmaker() as session, session.begin():
                next_heartbeat = await _run_batch(session, job_id, heartbeat, batch_size, formulas)
        except DBAPIError as exc:
            attempts += 1
            if sqlstate(exc) in _RETRYABLE_SQLSTATES and attempts < MAX_ATTEMPTS:
                await asyncio.sleep(0.1 * attempts)
                continue
            await _fail(database, job_id, heartbeat, exc)
            return
        except Exception as exc:
            await _fail(database, job_id, heartbeat, exc)
            return
        if next_heartbeat is None:
            return
        heartbeat, attempts = next_heartbeat, 0


async def _run_batch(
    session: AsyncSession,
    job_id: uuid.UUID,
    heartbeat: datetime,
    batch_size: int,
    formulas: dict[int, Formula],
) -> datetime | None:
    """One batch; the new heartbeat, or None when the job is over (finished here, or no
    longer ours: cancelled, or taken over by another worker)."""
    job = await repository.lock_job(session, job_id)
    if job is None:
        return None
    status, current_heartbeat, formula_version, processed, last_household_id = job
    if status != "running" or current_heartbeat != heartbeat:
        _log.info("pmt job no longer ours", job_id=str(job_id), status=status)
        return None
    formula = formulas.get(formula_version)
    if formula is None:
        row = await repository.formulas.find(session, formula_version)
        assert row is not None  # a foreign key guarantees it
        formula = formulas[formula_version] = Formula.from_json(row.version, row.urban, row.rural)

    households = await repository.lock_household_batch(session, last_household_id, batch_size)
    if households:
        ids = [household.id for household in households]
        members = await repository.active_members(session, ids)
        scores = score_households(formula, households, members, today())
        await repository.write_scores(session, scores, formula.version)
        unscorable = sum(1 for score in scores.values() if score is None)
        if unscorable:
            _log.warning("pmt scores out of range", job_id=str(job_id), households=unscorable)
        last_household_id = ids[-1]
    done = len(households) < batch_size
    new_heartbeat = await repository.advance_job(
        session, job_id, processed + len(households), last_household_id, done=done
    )
    if done:
        _log.info("pmt job done", job_id=str(job_id), processed=processed + len(households))
        return None
    return new_heartbeat


async def _fail(database: Database, job_id: uuid.UUID, heartbeat: datetime, exc: Exception) -> None:
    # The error says what kind of failure, never data: messages can quote row values.
    error = f"{type(exc).__name__} while scoring a batch"
    state = sqlstate(exc)
    if state:
        error += f" (SQLSTATE {state})"
    _log.error("pmt job failed", job_id=str(job_id), error=error)
    async with database.sessionmaker() as session, session.begin():
        await repository.fail_job(session, job_id, heartbeat, error)
