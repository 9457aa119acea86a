"""`/reference`: population tables (CSV upload with their source) and poverty lines, the
figures `#{population|...}` and `#{poverty_line|...}` stand for in expressions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from services.indicators.access import Reader
from services.indicators.context import EditorChange, Settings
from services.indicators.reference import repository, service
from services.indicators.reference.schemas import (
    PopulationRow,
    PopulationUpload,
    PovertyLine,
    PovertyLineCreate,
    PovertyLineUpdate,
)
from services.indicators.vocabulary import POPULATION_DIMENSIONS
from shared.db import ReadSession
from shared.etag import ExpectedVersion, etag
from shared.stats import QueryValues, split_values
from shared.uploads import read_upload

router = APIRouter(prefix="/api/v1/indicators/reference", tags=["reference data"])


@router.post("/population", status_code=status.HTTP_201_CREATED, response_model=PopulationUpload)
async def upload_population(
    file: Annotated[
        UploadFile,
        File(
            description="CSV: year, people, and any of region, area, sex, age_group, legal_status."
        ),
    ],
    source: Annotated[
        str,
        Form(
            min_length=1,
            max_length=300,
            pattern=r"\S",
            description="Where the figures come from, e.g. INSTAD, projections 2024.",
        ),
    ],
    change: EditorChange,
    settings: Settings,
) -> PopulationUpload:
    """me_officer or admin. The figures replace those of earlier uploads for the same
    years, all at once; a file with any problem (a column, a value, a duplicate cell) is a
    422 listing the problems by line and column, and nothing of it is kept. Headers may be
    English or French (annee, population, milieu, sexe, groupe_age, statut), values codes
    or words (Obock, urbain, femme, réfugié); 12 345 and 12,345 are both twelve thousand."""
    content = await read_upload(file, settings.upload_max_bytes)
    upload = await service.upload_population(change, content, source.strip(), file.filename)
    return PopulationUpload.model_validate(upload)


@router.get("/population/uploads", response_model=list[PopulationUpload])
async def list_population_uploads(session: ReadSession, _: Reader) -> list[PopulationUpload]:
    return [PopulationUpload.model_validate(row) for row in await repository.uploads(session)]


@router.get("/population", response_model=list[PopulationRow])
async def get_population(
    session: ReadSession,
    _: Reader,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    group_by: Annotated[
        QueryValues | None,
        Query(description="Dimensions, comma-separated: " + ", ".join(POPULATION_DIMENSIONS)),
    ] = None,
) -> list[PopulationRow]:
    """People by year and by the dimensions asked for."""
    rows = await service.population(session, year, split_values(group_by or []))
    return [PopulationRow.model_validate(row) for row in rows]


@router.post(
    "/poverty-lines",
    status_code=status.HTTP_201_CREATED,
    response_model=PovertyLine,
    responses={409: {"description": "The line of this year, area and kind exists"}},
)
async def create_poverty_line(
    data: PovertyLineCreate, response: Response, change: EditorChange
) -> PovertyLine:
    """me_officer or admin. DJF per person per year."""
    row = await service.create_poverty_line(change, data)
    response.headers["ETag"] = etag(row.version)
    response.headers["Location"] = f"{router.prefix}/poverty-lines/{row.id}"
    return PovertyLine.model_validate(row)


@router.get("/poverty-lines", response_model=list[PovertyLine])
async def list_poverty_lines(
    session: ReadSession, _: Reader, year: Annotated[int | None, Query(ge=1900, le=2200)] = None
) -> list[PovertyLine]:
    return [PovertyLine.model_validate(row) for row in await service.poverty_lines(session, year)]


@router.get("/poverty-lines/{line_id}", response_model=PovertyLine)
async def get_poverty_line(
    line_id: uuid.UUID, session: ReadSession, _: Reader, response: Response
) -> PovertyLine:
    row = await repository.poverty_lines.get(session, line_id)
    response.headers["ETag"] = etag(row.version)
    return PovertyLine.model_validate(row)


@router.patch("/poverty-lines/{line_id}", response_model=PovertyLine)
async def update_poverty_line(
    line_id: uuid.UUID,
    data: PovertyLineUpdate,
    response: Response,
    change: EditorChange,
    expected_version: ExpectedVersion,
) -> PovertyLine:
    """`If-Match` is required: 428 without it, 412 when it changed since you read it."""
    row = await service.update_poverty_line(change, line_id, data, expected_version)
    response.headers["ETag"] = etag(row.version)
    return PovertyLine.model_validate(row)
