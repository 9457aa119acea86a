"""`/definitions/{code}/targets`: an indicator's baselines and targets."""

from __future__ import annotations

from fastapi import APIRouter

from services.indicators.access import Reader
from services.indicators.context import EditorChange, StatsSources
from services.indicators.status import STATUS_RULE
from services.indicators.targets import service
from services.indicators.targets.schemas import Milestones, MilestonesPut
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/indicators", tags=["targets"])


@router.get("/definitions/{code}/targets", response_model=Milestones)
async def get_targets(code: str, session: ReadSession, _: Reader) -> Milestones:
    return await service.get(session, code)


@router.put(
    "/definitions/{code}/targets",
    response_model=Milestones,
    description="me_officer or admin. Replaces every baseline and target of the indicator "
    "with those sent, each for a year, overall or for one disaggregation cell. 404 for an "
    "unknown indicator; 422 (nothing saved) for a dimension the indicator is not "
    "disaggregated by, a value the services do not publish, a year outside the strategy "
    "the indicator serves (targets within its years, baselines not after its end), or two "
    "entries of one kind, year and cell. Status rule: " + STATUS_RULE,
)
async def put_targets(
    code: str, data: MilestonesPut, change: EditorChange, sources: StatsSources
) -> Milestones:
    return await service.replace(change, sources, code, data)
