"""PMT formulas as versioned data, activation, and household scoring."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import PmtFormula, PmtJob
from services.beneficiaries.pmt import repository
from services.beneficiaries.pmt.schemas import PmtFormulaCreate
from services.beneficiaries.pmt.schemas import PmtJob as PmtJobView
from services.beneficiaries.pmt.scoring import formula_errors
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import NotFound, UnprocessableEntity
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
    formula = await repository.get_formula(session, version)
    if formula is None:
        raise NotFound(f"No PMT formula version {version}.")
    return formula


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
    job = await repository.get_job(session, job_id)
    if job is None:
        raise NotFound("No such PMT recomputation job.")
    return job


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
