"""PMT formulas as versioned data, their activation, and scoring the households a request
changes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from services.beneficiaries.clock import today
from services.beneficiaries.models import Household, Individual, PmtFormula, PmtJob
from services.beneficiaries.pmt import repository
from services.beneficiaries.pmt.schemas import PmtFormulaCreate
from services.beneficiaries.pmt.schemas import PmtJob as PmtJobView
from services.beneficiaries.pmt.scoring import Formula, formula_errors, score_households
from services.beneficiaries.pmt.variables import household_facts, member_facts
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import UnprocessableEntity
from shared.pagination import Page, PageParams, page_of


async def create_formula(
    session: AsyncSession, data: PmtFormulaCreate, principal: Principal, audit: AuditTrail
) -> PmtFormula:
    models = {"urban": data.urban.model_dump(), "rural": data.rural.model_dump()}
    errors = formula_errors(models)
    if errors:
        raise UnprocessableEntity("The formula uses variables wrongly.", errors=errors)
    formula = PmtFormula(
        name=data.name,
        description=data.description,
        urban=models["urban"],
        rural=models["rural"],
        is_active=False,
        created_by=principal.subject,
    )
    repository.add_formula(session, formula)
    await session.flush()
    await session.refresh(formula)
    await audit.record_write(
        session, principal, "create", "pmt_formula", None, None, {"version": formula.version}
    )
    return formula


async def get_formula(session: AsyncSession, version: int) -> PmtFormula:
    return await repository.formulas.get(session, version)


async def list_formulas(session: AsyncSession, params: PageParams) -> Page[PmtFormula]:
    rows = await repository.list_formulas(session, params)
    return page_of(rows, params, key=lambda formula: [formula.version])


async def activate_formula(
    session: AsyncSession, version: int, principal: Principal, audit: AuditTrail
) -> PmtJob:
    """Make `version` the only active formula and queue the recomputation of every active
    household's score. Activating the active version again queues a fresh recomputation
    (the way to retry after a failed job). Jobs still open for an earlier activation are
    cancelled: their scores would be overwritten anyway."""
    await get_formula(session, version)
    await repository.make_active(session, version)
    await repository.cancel_open_jobs(session, f"superseded by formula version {version}")
    job = PmtJob(
        formula_version=version,
        status="queued",
        total=await repository.count_active_households(session),
        processed=0,
        created_by=principal.subject,
    )
    repository.add_job(session, job)
    await session.flush()
    await session.refresh(job)
    await audit.record_write(
        session,
        principal,
        "activate",
        "pmt_formula",
        None,
        None,
        {"version": version, "job_id": str(job.id)},
    )
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> PmtJob:
    return await repository.jobs.get(session, job_id)


def job_view(job: PmtJob) -> PmtJobView:
    if job.status == "done":
        percent = 100.0
    elif job.total:
        # Households registered during the run are counted too: never report over 100.
        percent = min(100.0, round(100.0 * job.processed / job.total, 1))
    else:
        percent = 0.0
    return PmtJobView(
        id=job.id,
        formula_version=job.formula_version,
        status=job.status,  # type: ignore[arg-type]
        total=job.total,
        processed=job.processed,
        percent=percent,
        error=job.error,
        created_at=job.created_at,
        created_by=job.created_by,
        started_at=job.started_at,
        heartbeat_at=job.heartbeat_at,
        finished_at=job.finished_at,
    )


# Scoring the households a request changes


async def active_formula(session: AsyncSession) -> Formula | None:
    active = await repository.get_active_formula(session)
    return Formula.from_json(active.version, active.urban, active.rural) if active else None


async def score_rows(
    session: AsyncSession, household: Household, members: Sequence[Individual]
) -> None:
    """Score a household from rows the caller has in hand (locked, or new in this
    transaction) with the active formula, setting its score columns: they go to the
    database with the caller's own UPDATE or INSERT of the household. Without an active
    formula the score is cleared: a score must always name the formula that gave it."""
    # Not flushed first: the held rows' pending changes go with the score, in one statement.
    with session.no_autoflush:
        formula = await active_formula(session)
    if formula is None:
        score, version = None, None
    else:
        facts = household_facts(household)
        scores = score_households(formula, [facts], [member_facts(m) for m in members], today())
        score, version = scores[facts.id], formula.version
    household.pmt_score = score
    household.pmt_formula_version = version
    household.pmt_computed_at = datetime.now(UTC) if version is not None else None


async def rescore_households(
    session: AsyncSession, household_ids: Sequence[uuid.UUID], *, on: date | None = None
) -> None:
    """Score these households with the active formula, in the caller's transaction (the
    households service calls this after every create and update). Without an active formula
    their scores are cleared: a score must always name the formula that gave it.

    The households are locked before the formula is read: a formula activated meanwhile is
    either seen here, or its job finds these rows locked, waits, and rescores them after."""
    ids = sorted(set(household_ids))
    if not ids:
        return
    households = await repository.lock_households(session, ids)
    active = await repository.get_active_formula(session)
    if active is None:
        scores = dict.fromkeys((household.id for household in households), None)
        version = None
    else:
        members = await repository.active_members(session, ids)
        formula = Formula.from_json(active.version, active.urban, active.rural)
        scores = score_households(formula, households, members, on or today())
        version = active.version
    computed = await repository.write_scores(session, scores, version)
    # Household objects the caller holds would otherwise show the old score: set the new
    # values as loaded (not as changes, which would bump the household's version).
    for household_id, computed_at in computed.items():
        loaded = session.identity_map.get(identity_key(Household, household_id))
        if loaded is not None:
            set_committed_value(loaded, "pmt_score", scores[household_id])
            set_committed_value(loaded, "pmt_formula_version", version)
            set_committed_value(loaded, "pmt_computed_at", computed_at)
