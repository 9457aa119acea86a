"""Proxy-means-test formulas (versioned data), their activation and its progress."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Response, status

from services.beneficiaries.access import Manager, Staff
from services.beneficiaries.context import Audit, BackgroundWorkers, Idempotent
from services.beneficiaries.pmt import service
from services.beneficiaries.pmt.schemas import PmtFormula, PmtFormulaCreate, PmtJob, PmtVariable
from services.beneficiaries.pmt.variables import CATALOGUE
from shared.db import DbSession, ReadSession
from shared.pagination import Page, PageParams, page_params

PREFIX = "/api/v1/beneficiaries"
router = APIRouter(prefix=PREFIX, tags=["proxy means test"])
Paging = Annotated[PageParams, Depends(page_params)]
# Versions are numbered 1, 2, ... in an integer column: anything else names no formula.
FormulaVersion = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/pmt-variables", response_model=list[PmtVariable])
async def list_variables(_: Staff) -> list[PmtVariable]:
    """What a formula term may name. Numeric variables are multiplied by their coefficient;
    categorical ones need `equals` (the term is 1 for that category, else 0). Any asset is
    available as `asset:<name>` (1 if the household has it)."""
    return [
        PmtVariable(name=v.name, kind=v.kind, description=v.description) for v in CATALOGUE.values()
    ]


@router.post(
    "/pmt-formulas",
    status_code=status.HTTP_201_CREATED,
    response_model=PmtFormula,
    summary="Save a PMT formula version (inactive until activated)",
)
async def create_formula(
    data: PmtFormulaCreate,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    idempotent: Idempotent,
) -> PmtFormula | Response:
    """Predicted log consumption per person per year (DJF) = intercept + Σ coefficient *
    value, one model for urban and one for rural households."""

    async def create() -> PmtFormula:
        formula = await service.create_formula(session, data, principal, audit)
        return PmtFormula.model_validate(formula)

    return await idempotent.run(data, create, status_code=201)


@router.get("/pmt-formulas", response_model=Page[PmtFormula])
async def list_formulas(session: ReadSession, _: Staff, paging: Paging) -> Page[PmtFormula]:
    """Newest version first."""
    page = await service.list_formulas(session, paging)
    return Page[PmtFormula](
        items=[PmtFormula.model_validate(f) for f in page.items], next_cursor=page.next_cursor
    )


@router.get("/pmt-formulas/{version}", response_model=PmtFormula)
async def get_formula(version: FormulaVersion, session: ReadSession, _: Staff) -> PmtFormula:
    return PmtFormula.model_validate(await service.get_formula(session, version))


@router.post(
    "/pmt-formulas/{version}/activate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PmtJob,
    summary="Make this the active formula and recompute every score",
)
async def activate_formula(
    version: FormulaVersion,
    response: Response,
    session: DbSession,
    principal: Manager,
    audit: Audit,
    workers: BackgroundWorkers,
    background: BackgroundTasks,
) -> PmtJob:
    """The recomputation runs in the background: follow it at the job's URL (`Location`)."""
    job = await service.activate_formula(session, version, principal, audit)
    background.add_task(workers.pmt.wake)
    response.headers["Location"] = f"{PREFIX}/pmt-jobs/{job.id}"
    return service.job_view(job)


@router.get("/pmt-jobs/{job_id}", response_model=PmtJob)
async def get_job(job_id: uuid.UUID, session: ReadSession, _: Staff) -> PmtJob:
    return service.job_view(await service.get_job(session, job_id))
