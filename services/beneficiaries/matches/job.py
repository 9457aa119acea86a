"""Running a match job: the list's rows matched in batches, each batch's results committed
with the job's counters (a worker that dies leaves its job to go stale; the next one goes on
from the rows not matched yet). A partner's job is matched under the agreement it was
uploaded under, as it reads on the day it runs: an agreement no longer in force matches
nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.beneficiaries.areas import repository as areas
from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.matches import repository
from services.beneficiaries.matches.matcher import Settings, match_batch
from services.beneficiaries.models import DataSharingAgreement, MatchJob
from services.beneficiaries.partners.scope import AgreementRefused, PartnerScope, active_agreement
from shared.db import Database
from shared.logs import get_logger

BATCH = 1000
STALE_AFTER_SECONDS = 120
_log = get_logger("inds.beneficiaries.matches")


async def run_pending(database: Database, settings: BeneficiariesSettings) -> int:
    ran = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            job = await repository.claim_job(session, STALE_AFTER_SECONDS)
        if job is None:
            return ran
        await run(database, settings, job)
        ran += 1


async def run(database: Database, settings: BeneficiariesSettings, job: MatchJob) -> None:
    started = datetime.now(UTC)
    try:
        message = await _match(database, settings, job)
        await _finish(database, job.id, "done", message)
    except _Refused as refusal:
        await _finish(database, job.id, "failed", str(refusal))
    except Exception:
        _log.error("match job failed", job_id=str(job.id), exc_info=True)
        await _finish(database, job.id, "failed", "Matching failed on our side; try again.")
    finally:
        _log.info(
            "match job finished",
            job_id=str(job.id),
            seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        )


class _Refused(Exception):
    pass


async def _scope(
    database: Database, settings: BeneficiariesSettings, job: MatchJob
) -> PartnerScope | None:
    if job.partner_id is None:
        return None
    async with database.sessionmaker() as session:
        agreement = (
            await session.get(DataSharingAgreement, job.agreement_id) if job.agreement_id else None
        )
    try:
        in_force = active_agreement([agreement] if agreement else [], today(), job.partner_id)
    except AgreementRefused as refused:
        raise _Refused(f"{refused.detail} Nothing was matched.") from None
    return PartnerScope.of(in_force, settings.pseudonym_key_material())


async def _match(database: Database, settings: BeneficiariesSettings, job: MatchJob) -> str:
    scope = await _scope(database, settings, job)
    knobs = Settings(settings.dedup_threshold, settings.dedup_birth_year_window)
    async with database.sessionmaker() as session:
        localities = await areas.localities(session)
    while True:
        async with database.sessionmaker() as session, session.begin():
            rows = await repository.pending_rows(session, job.id, BATCH)
            if not rows:
                break
            results = await match_batch(session, rows, scope, localities, knobs)
            await repository.save_results(session, job.id, results)
            counts: dict[str, int] = {}
            for decided in results:
                counts[decided.outcome] = counts.get(decided.outcome, 0) + 1
            await repository.add_counts(session, job.id, counts)
    async with database.sessionmaker() as session:
        done = await repository.jobs.get(session, job.id)
        return (
            f"{done.processed_rows} rows matched: {done.matched} found, "
            f"{done.ambiguous} ambiguous, {done.not_found} not found."
        )


async def _finish(database: Database, job_id: uuid.UUID, status: str, message: str) -> None:
    async with database.sessionmaker() as session, session.begin():
        await repository.report(
            session, job_id, status=status, message=message[:500], finished_at=datetime.now(UTC)
        )
