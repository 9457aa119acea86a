"""`/plans`: priority action plans of a strategy (the INDS's PAP 2008-2011, each SNPS plan),
their actions under the strategy's objectives, and the plan's execution from the funding
service's `/stats`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from services.indicators.access import Reader
from services.indicators.context import EditorChange, Idempotent, StatsSources
from services.indicators.frameworks.service import get_strategy
from services.indicators.plans import execution, repository, service
from services.indicators.plans.schemas import (
    Action,
    ActionCreate,
    ActionUpdate,
    Execution,
    Plan,
    PlanCreate,
    PlanUpdate,
    PlanWithActions,
)
from shared.db import ReadSession
from shared.etag import ExpectedVersion, tag_response

router = APIRouter(prefix="/api/v1/indicators/plans", tags=["action plans"])
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "The code is taken"}}
_FUNDING: dict[int | str, dict[str, Any]] = {
    409: {"description": "The code is taken, or a project finances another action"},
    422: {"description": "An organisation or project funding does not know, or no rate"},
    503: {"description": "The funding service cannot be reached"},
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Plan, responses=_CONFLICT)
async def create_plan(
    data: PlanCreate, response: Response, change: EditorChange, idempotent: Idempotent
) -> Plan | Response:
    """me_officer or admin."""

    async def create() -> Plan:
        row = await service.create_plan(change, data)
        response.headers["Location"] = f"{router.prefix}/{row.code}"
        tag_response(response, row.version)
        return Plan.model_validate(row)

    return await idempotent.run(data, create, status_code=201)


@router.get("", response_model=list[Plan], responses={404: {"description": "No such strategy"}})
async def list_plans(
    session: ReadSession,
    _: Reader,
    strategy: Annotated[str | None, Query(description="A strategy's code.")] = None,
) -> list[Plan]:
    strategy_id = None if strategy is None else (await get_strategy(session, strategy)).id
    return [Plan.model_validate(row) for row in await repository.list_plans(session, strategy_id)]


@router.get("/{code}", response_model=PlanWithActions)
async def get_plan(
    code: str, session: ReadSession, _: Reader, response: Response
) -> PlanWithActions:
    plan = await service.plan_with_actions(session, code)
    tag_response(response, plan.version)
    return plan


@router.patch("/{code}", response_model=Plan)
async def update_plan(
    code: str,
    data: PlanUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
) -> Plan:
    """`If-Match` is required: 428 without it, 412 when it changed since you read it."""
    row = await service.update_plan(change, code, data, expected_version)
    tag_response(response, row.version)
    return Plan.model_validate(row)


@router.post(
    "/{code}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=Action,
    responses=_FUNDING,
)
async def create_action(
    code: str,
    data: ActionCreate,
    response: Response,
    change: EditorChange,
    idempotent: Idempotent,
    sources: StatsSources,
) -> Action | Response:
    """me_officer or admin. The objective must be one of the plan's strategy and the period
    within the plan's; the responsible body and the projects are checked against the
    funding service (unknown: 422 naming it; unreachable: 503), and a project financing
    another action of the plan is a 409. The planned cost is converted to DJF and USD at
    funding's rates in force on 1 January of the first year (none that early: 422)."""

    async def create() -> Action:
        plan, row = await service.create_action(change, code, data, sources)
        response.headers["Location"] = f"{router.prefix}/{plan.code}/actions/{row.code}"
        tag_response(response, row.version)
        return service.action_view(plan, row)

    return await idempotent.run(data, create, status_code=201)


@router.get("/{code}/actions/{action_code}", response_model=Action)
async def get_action(
    code: str, action_code: str, session: ReadSession, _: Reader, response: Response
) -> Action:
    plan = await service.get_plan(session, code)
    row = await service.get_action(session, plan, action_code)
    tag_response(response, row.version)
    return service.action_view(plan, row)


@router.patch("/{code}/actions/{action_code}", response_model=Action, responses=_FUNDING)
async def update_action(
    code: str,
    action_code: str,
    data: ActionUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
    sources: StatsSources,
) -> Action:
    """Checked as on creation; only what changes is checked again (a new cost or first
    year is converted again)."""
    plan, row = await service.update_action(
        change, code, action_code, data, expected_version, sources
    )
    tag_response(response, row.version)
    return service.action_view(plan, row)


@router.get(
    "/{code}/execution",
    response_model=Execution,
    responses={503: {"description": "The funding service cannot be reached"}},
)
async def get_execution(
    code: str, session: ReadSession, _: Reader, sources: StatsSources
) -> Execution:
    """Planned against committed and disbursed, per action, objective, axis and plan, in
    DJF and USD (minor units: francs and cents). Committed: agreements on the action's
    projects signed within its period; disbursed: disbursements on them dated within it;
    both as the funding service converts them (at their own dates' rates), from its
    `/stats` (four requests, concurrent). The funding service down: 503 naming it."""
    return await execution.execution(session, code, sources)
