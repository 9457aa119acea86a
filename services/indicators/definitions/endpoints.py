"""`/definitions`: indicators and the versions of their definitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from services.indicators.access import Reader
from services.indicators.context import EditorChange, Idempotent, StatsSources
from services.indicators.definitions import pack, repository, service
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


class PackLoaded(BaseModel):
    created: list[str]
    existing: list[str] = Field(description="Already defined: left as they are.")
    refused: list[dict[str, Any]] = Field(
        description="Not supported by the services' catalogues yet (e.g. a programme the "
        "registry does not have): code, detail and errors, as a definition's 422 gives them."
    )


@router.post(
    "/definitions/standard-pack",
    response_model=PackLoaded,
    description="me_officer or admin. Defines the indicators of the standard pack not "
    "defined yet (SDG 1.3.1 proxy, refugee households and coverage, households paid, "
    "transfers, payment success, disbursement rate, funds mobilised, adequacy, FGT P0-P2), "
    "each checked as any definition is. 503 naming a service that cannot be reached, and "
    "nothing saved.",
)
async def load_standard_pack(change: EditorChange, sources: StatsSources) -> PackLoaded:
    outcome = await pack.load(change, sources)
    return PackLoaded(created=outcome.created, existing=outcome.existing, refused=outcome.refused)


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
