"""Reference data: population tables uploaded with their source, and poverty lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators import records
from services.indicators.context import Change
from services.indicators.models import PopulationUpload, PovertyLine
from services.indicators.reference import repository
from services.indicators.reference.population_csv import PopulationFileError, read_population
from services.indicators.reference.schemas import PovertyLineCreate, PovertyLineUpdate
from services.indicators.vocabulary import POPULATION_DIMENSIONS
from shared.errors import Conflict, ProblemError, UnprocessableEntity
from shared.repository import flush_unique
from shared.versioning import require_version


class InvalidPopulationFile(ProblemError):
    status, type, title = 422, "invalid-population-file", "Invalid population file"


async def upload_population(
    change: Change, content: bytes, source: str, filename: str | None
) -> PopulationUpload:
    try:
        table = read_population(content)
    except PopulationFileError as problem:
        raise InvalidPopulationFile(
            "The population file has problems; nothing was saved.", errors=problem.errors
        ) from None
    upload = PopulationUpload(
        id=uuid.uuid4(),
        source=source,
        filename=filename,
        years=table.years,
        dimensions=table.dimensions,
        rows=len(table.cells),
        people=table.people,
        uploaded_by=change.principal.subject,
    )
    await repository.replace_population(change.session, upload, table.cells)
    await change.audit.record_write(
        change.session,
        change.principal,
        "create",
        "population",
        upload.id,
        detail={"years": table.years, "dimensions": table.dimensions, "rows": upload.rows},
    )
    return upload


async def population(
    session: AsyncSession, year: int | None, group_by: list[str]
) -> list[dict[str, Any]]:
    unknown = [name for name in group_by if name not in POPULATION_DIMENSIONS]
    if unknown:
        raise UnprocessableEntity(
            "Unknown dimension.",
            errors=[
                {
                    "path": "query.group_by",
                    "message": "expected any of: " + ", ".join(POPULATION_DIMENSIONS),
                }
            ],
        )
    filters = {} if year is None else {"year": [year]}
    return await repository.population(session, ["year", *group_by], filters)


async def create_poverty_line(change: Change, data: PovertyLineCreate) -> PovertyLine:
    values = data.model_dump()
    row = PovertyLine(
        id=uuid.uuid4(),
        year=values["year"],
        area=values["area"],
        kind=values["kind"],
        amount_minor=values["amount"],
        currency="DJF",
        source=values["source"],
        created_by=change.principal.subject,
    )

    def conflict() -> Conflict:
        return Conflict(
            "This poverty line is recorded already: change it instead.",
            errors=[{"path": "body", "message": "a line of this year, area and kind exists"}],
        )

    await flush_unique(change.session, lambda: repository.add(change.session, row), conflict)
    await change.audit.record_write(
        change.session, change.principal, "create", "poverty_line", row.id, detail={"after": values}
    )
    return row


async def update_poverty_line(
    change: Change, line_id: uuid.UUID, data: PovertyLineUpdate, expected_version: int | None
) -> PovertyLine:
    row = await repository.poverty_lines.get_for_update(change.session, line_id)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set, exclude_none=True)
    columns = {"amount_minor" if name == "amount" else name: value for name, value in sent.items()}
    await records.apply_changes(change, row, "poverty_line", columns)
    return row


async def poverty_lines(session: AsyncSession, year: int | None) -> Sequence[PovertyLine]:
    return await repository.list_poverty_lines(session, year)
