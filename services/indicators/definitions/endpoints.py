"""`/definitions`: indicators and the versions of their definitions."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.indicators.access import Reader
from services.indicators.context import EditorChange, Idempotent, StatsSources
from services.indicators.definitions import repository, service
from services.indicators.definitions.schemas import (
    DefinitionVersion,
    IndicatorCreate,
    IndicatorDefinition,
    IndicatorUpdate,
)
from services.indicators.models import Indicator, IndicatorVersion
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag

router = APIRouter(prefix="/api/v1/indicators", tags=["definitions"])

_CHECKED = (
    "The expressions are checked against the registry's and funding's `/stats/catalog` and "
    "the reference data: a syntax error, an unknown measure, dimension or value, a type "
    "error, a cycle through other indicators or an expression nested too deep is a 422 "
    "naming the field and the line and column (`errors[]`); a service that cannot be "
    "reached is a 503 naming it, and nothing is saved."
)


def definition_view(
    indicator: Indicator, definition: IndicatorVersion, response: Response
) -> IndicatorDefinition:
    response.headers["ETag"] = etag(indicator.version)
    return IndicatorDefinition.model_validate(
        {
            **DefinitionVersion.model_validate(definition).model_dump(),
            "id": indicator.id,
            "code": indicator.code,
        }
    )


@router.post(
    "/definitions",
    status_code=status.HTTP_201_CREATED,
    response_model=IndicatorDefinition,
    responses={409: {"description": "The code is taken"}},
    description="me_officer or admin. " + _CHECKED,
)
async def create_indicator(
    data: IndicatorCreate,
    response: Response,
    change: EditorChange,
    sources: StatsSources,
    idempotent: Idempotent,
) -> IndicatorDefinition | Response:
    async def create() -> IndicatorDefinition:
        indicator, definition = await service.create(change, sources, data)
        response.headers["Location"] = f"{router.prefix}/definitions/{indicator.code}"
        return definition_view(indicator, definition, response)

    return await idempotent.run(data, create, status_code=201)


@router.get("/definitions", response_model=list[IndicatorDefinition])
async def list_indicators(
    session: ReadSession, _: Reader, response: Response
) -> list[IndicatorDefinition]:
    """Every indicator with its current definition, by code."""
    return [
        definition_view(indicator, definition, Response())
        for indicator, definition in await repository.current(session)
    ]


@router.get("/definitions/{code}", response_model=IndicatorDefinition)
async def get_indicator(
    code: str, session: ReadSession, _: Reader, response: Response
) -> IndicatorDefinition:
    """The current definition, its version as `ETag`."""
    indicator, definition = await service.get(session, code)
    return definition_view(indicator, definition, response)


@router.patch(
    "/definitions/{code}",
    response_model=IndicatorDefinition,
    description="A new version of the definition (the earlier ones stay). `If-Match` is "
    "required: 428 without it, 412 when it changed since you read it. " + _CHECKED,
)
async def update_indicator(
    code: str,
    data: IndicatorUpdate,
    response: Response,
    change: EditorChange,
    sources: StatsSources,
    expected_version: ExpectedVersion,
) -> IndicatorDefinition:
    indicator, definition = await service.update(change, sources, code, data, expected_version)
    return definition_view(indicator, definition, response)


@router.get("/definitions/{code}/versions", response_model=list[DefinitionVersion])
async def list_versions(code: str, session: ReadSession, _: Reader) -> list[DefinitionVersion]:
    """Every version of the definition, newest first."""
    return [
        DefinitionVersion.model_validate(row) for row in await service.versions_of(session, code)
    ]


@router.get("/definitions/{code}/versions/{version}", response_model=DefinitionVersion)
async def get_version(
    code: str, version: int, session: ReadSession, _: Reader
) -> DefinitionVersion:
    return DefinitionVersion.model_validate(await service.version_of(session, code, version))
