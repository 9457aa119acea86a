"""Indicator definitions: created and changed by M&E officers, each change a new version
(the earlier ones kept: a value keeps the version it was computed with), each checked
against what the services and the reference data publish when it is saved."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.catalog import service as catalog
from services.indicators.context import Change, Sources
from services.indicators.definitions import repository
from services.indicators.definitions.schemas import IndicatorCreate, IndicatorUpdate
from services.indicators.definitions.validation import checked, parsed
from services.indicators.frameworks import repository as frameworks
from services.indicators.models import Indicator, IndicatorVersion
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.repository import flush_unique
from shared.versioning import created, require_version, touch

# What a version holds beside what it uses (worked out when it is checked).
DEFINITION_FIELDS = (
    "objective_id",
    "name_fr",
    "name_en",
    "description",
    "unit",
    "factor",
    "numerator",
    "denominator",
    "disaggregations",
    "periodicity",
    "direction",
    "source",
    "sdg_code",
)


async def get(session: AsyncSession, code: str) -> tuple[Indicator, IndicatorVersion]:
    indicator = await repository.by_code(session, code)
    if indicator is None:
        raise NotFound("No such indicator.")
    definition = await repository.version(session, indicator.id, indicator.version)
    assert definition is not None
    return indicator, definition


async def version_of(session: AsyncSession, code: str, number: int) -> IndicatorVersion:
    indicator, _ = await get(session, code)
    found = await repository.version(session, indicator.id, number)
    if found is None:
        raise NotFound("The indicator has no such version.")
    return found


async def versions_of(session: AsyncSession, code: str) -> Sequence[IndicatorVersion]:
    indicator, _ = await get(session, code)
    return await repository.versions(session, indicator.id)


async def create(
    change: Change, sources: Sources, data: IndicatorCreate
) -> tuple[Indicator, IndicatorVersion]:
    session = change.session
    values = data.model_dump(exclude={"code"})
    uses = await _validated(session, sources, data.code, values)
    indicator = Indicator(
        id=uuid.uuid4(),
        code=data.code,
        objective_id=data.objective_id,
        version=1,
        created_by=change.principal.subject,
    )
    definition = _version(indicator, 1, values, uses, change)

    def conflict() -> Conflict:
        return Conflict(
            "Another indicator has this code.",
            errors=[{"path": "body.code", "message": "another indicator has this code"}],
        )

    def write() -> None:
        repository.add(session, indicator)

    await flush_unique(session, write, conflict)
    created(session, indicator)
    repository.add(session, definition)
    await session.flush()
    await _audit(change, "create", indicator, {"after": values})
    return indicator, definition


async def update(
    change: Change,
    sources: Sources,
    code: str,
    data: IndicatorUpdate,
    expected_version: int | None,
) -> tuple[Indicator, IndicatorVersion]:
    session = change.session
    indicator = await repository.by_code(session, code, for_update=True)
    if indicator is None:
        raise NotFound("No such indicator.")
    require_version(expected_version, indicator.version)
    current = await repository.version(session, indicator.id, indicator.version)
    assert current is not None
    sent = data.model_dump(include=data.model_fields_set)
    changed = {name: value for name, value in sent.items() if getattr(current, name) != value}
    if not changed:
        return indicator, current
    values = {name: getattr(current, name) for name in DEFINITION_FIELDS} | changed
    uses = await _validated(session, sources, code, values)
    touch(session, indicator)
    indicator.objective_id = values["objective_id"]
    await session.flush()
    definition = _version(indicator, indicator.version, values, uses, change)
    repository.add(session, definition)
    await session.flush()
    before = {name: getattr(current, name) for name in changed}
    await _audit(change, "update", indicator, {"before": before, "after": changed})
    return indicator, definition


async def _validated(
    session: AsyncSession, sources: Sources, code: str, values: dict[str, Any]
) -> Any:
    trees = parsed(values["numerator"], values["denominator"])
    objective_id = values["objective_id"]
    if objective_id is not None and await frameworks.objectives.find(session, objective_id) is None:
        raise UnprocessableEntity(
            "No such objective.",
            errors=[{"path": "body.objective_id", "message": "no such objective"}],
        )
    names = await catalog.names(session, sources)
    return checked(trees, names, code, values["disaggregations"])


def _version(
    indicator: Indicator, number: int, values: dict[str, Any], uses: Any, change: Change
) -> IndicatorVersion:
    return IndicatorVersion(
        indicator_id=indicator.id,
        version=number,
        **{name: values[name] for name in DEFINITION_FIELDS},
        measures=uses.measures,
        uses_indicators=uses.indicators,
        created_by=change.principal.subject,
    )


async def _audit(change: Change, action: str, indicator: Indicator, detail: dict[str, Any]) -> None:
    await change.audit.record_write(
        change.session,
        change.principal,
        action,
        "indicator",
        indicator.id,
        detail={**to_jsonable_python(detail), "version": indicator.version},
    )
