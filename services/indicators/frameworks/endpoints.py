"""`/frameworks`: strategies (INDS, SNPS 2018-2022...), their axes and objectives, and the
whole tree of one with its indicators."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from services.indicators.access import Reader, sees_small_cells
from services.indicators.context import EditorChange, Idempotent, StatsSources
from services.indicators.frameworks import repository, service
from services.indicators.frameworks.schemas import (
    Axis,
    Framework,
    Objective,
    ObjectiveCreate,
    ObjectiveUpdate,
    PartCreate,
    PartUpdate,
    Strategy,
    StrategyCreate,
    StrategyUpdate,
)
from shared.db import ReadSession
from shared.etag import ExpectedVersion, tag_response

router = APIRouter(prefix="/api/v1/indicators", tags=["frameworks"])
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "The code is taken"}}
_LINKS: dict[int | str, dict[str, Any]] = {
    422: {"description": "A programme or project the registry or funding does not know"},
    503: {"description": "The registry or the funding service cannot be reached"},
}


@router.post(
    "/frameworks", status_code=status.HTTP_201_CREATED, response_model=Strategy, responses=_CONFLICT
)
async def create_strategy(
    data: StrategyCreate, response: Response, change: EditorChange, idempotent: Idempotent
) -> Strategy | Response:
    """me_officer or admin."""

    async def create() -> Strategy:
        row = await service.create_strategy(change, data)
        response.headers["Location"] = f"{router.prefix}/frameworks/{row.code}"
        tag_response(response, row.version)
        return Strategy.model_validate(row)

    return await idempotent.run(data, create, status_code=201)


@router.get("/frameworks", response_model=list[Strategy])
async def list_strategies(session: ReadSession, _: Reader) -> list[Strategy]:
    return [Strategy.model_validate(row) for row in await repository.list_strategies(session)]


@router.get("/frameworks/{code}", response_model=Framework)
async def get_framework(
    code: str, session: ReadSession, principal: Reader, response: Response
) -> Framework:
    """The strategy with its axes, their objectives, and for each objective the programmes
    and projects serving it, the indicators measuring it (`latest`: the latest value and
    status) and the actions of the plans carrying it out; the strategy's version as
    `ETag`."""
    tree = await service.framework(session, code, exact=sees_small_cells(principal))
    tag_response(response, tree.version)
    return tree


@router.patch("/frameworks/{code}", response_model=Strategy)
async def update_strategy(
    code: str,
    data: StrategyUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
) -> Strategy:
    """`If-Match` is required: 428 without it, 412 when it changed since you read it."""
    row = await service.update_strategy(change, code, data, expected_version)
    tag_response(response, row.version)
    return Strategy.model_validate(row)


@router.post(
    "/frameworks/{code}/axes",
    status_code=status.HTTP_201_CREATED,
    response_model=Axis,
    responses=_CONFLICT,
)
async def create_axis(
    code: str, data: PartCreate, response: Response, change: EditorChange, idempotent: Idempotent
) -> Axis | Response:
    async def create() -> Axis:
        row = await service.create_axis(change, code, data)
        response.headers["Location"] = f"{router.prefix}/axes/{row.id}"
        tag_response(response, row.version)
        return Axis.model_validate(row)

    return await idempotent.run(data, create, status_code=201)


@router.get("/axes/{axis_id}", response_model=Axis)
async def get_axis(axis_id: uuid.UUID, session: ReadSession, _: Reader, response: Response) -> Axis:
    row = await repository.axes.get(session, axis_id)
    tag_response(response, row.version)
    return Axis.model_validate(row)


@router.patch("/axes/{axis_id}", response_model=Axis)
async def update_axis(
    axis_id: uuid.UUID,
    data: PartUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
) -> Axis:
    row = await service.update_axis(change, axis_id, data, expected_version)
    tag_response(response, row.version)
    return Axis.model_validate(row)


@router.post(
    "/axes/{axis_id}/objectives",
    status_code=status.HTTP_201_CREATED,
    response_model=Objective,
    responses={**_CONFLICT, **_LINKS},
)
async def create_objective(
    axis_id: uuid.UUID,
    data: ObjectiveCreate,
    response: Response,
    change: EditorChange,
    idempotent: Idempotent,
    sources: StatsSources,
) -> Objective | Response:
    """The programmes (registry codes) and projects (funding IATI identifiers) serving it
    are checked against those services: one they do not know is a 422 naming it, a
    service that cannot be reached a 503 naming the service, and nothing is saved."""

    async def create() -> Objective:
        row = await service.create_objective(change, axis_id, data, sources)
        response.headers["Location"] = f"{router.prefix}/objectives/{row.id}"
        tag_response(response, row.version)
        return Objective.model_validate(row)

    return await idempotent.run(data, create, status_code=201)


@router.get("/objectives/{objective_id}", response_model=Objective)
async def get_objective(
    objective_id: uuid.UUID, session: ReadSession, _: Reader, response: Response
) -> Objective:
    row = await repository.objectives.get(session, objective_id)
    tag_response(response, row.version)
    return Objective.model_validate(row)


@router.patch("/objectives/{objective_id}", response_model=Objective, responses=_LINKS)
async def update_objective(
    objective_id: uuid.UUID,
    data: ObjectiveUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
    sources: StatsSources,
) -> Objective:
    """`programmes` and `projects`, when sent, replace the whole list, checked as on
    creation (only a list that changes is)."""
    row = await service.update_objective(change, objective_id, data, expected_version, sources)
    tag_response(response, row.version)
    return Objective.model_validate(row)
