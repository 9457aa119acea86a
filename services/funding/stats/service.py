"""Statistics requests: the checks that need the database (partners, projects and programmes
named), the answers, and the catalogue."""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_name
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.config import FundingSettings
from services.funding.stats import disclosure, repository
from services.funding.stats.catalog import (
    DIMENSIONS,
    FIXED_VALUES,
    MAX_DIMENSIONS,
    MEASURES,
    VALUE_LABELS,
    Dimension,
    dimensions_of,
)
from services.funding.stats.repository import StatsSpec
from services.funding.stats.schemas import (
    CatalogDimension,
    CatalogFilter,
    CatalogMeasure,
    CatalogValue,
    FilterValue,
    StatsAnswer,
    StatsCatalog,
    StatsQuery,
)
from shared.auth import Principal
from shared.clock import today
from shared.errors import UnprocessableEntity
from shared.money import CURRENCIES


async def statistics(
    session: AsyncSession, query: StatsQuery, principal: Principal, settings: FundingSettings
) -> StatsAnswer:
    filters = query.dimension_filters()
    applied: dict[str, FilterValue] = {name: list(values) for name, values in filters.items()}
    filters = await _named_to_ids(session, filters)
    as_of = query.as_of or today()
    spec = StatsSpec(
        measure=query.measure, group_by=tuple(query.group_by), as_of=as_of, filters=filters
    )
    found = await repository.figures(session, spec)
    answer = StatsAnswer(
        measure=query.measure,
        group_by=list(query.group_by),
        filters=applied,
        as_of=as_of,
        rows=[],  # the rows as the caller may read them: disclosure.shaped
        total=found.total,
    )
    return disclosure.shaped(answer, found, principal, settings)


async def _named_to_ids(
    session: AsyncSession, filters: dict[str, tuple[Any, ...]]
) -> dict[str, tuple[Any, ...]]:
    """Partners and projects named by IATI identifier -> their ids; a name or programme
    code the funding service does not know is a 422 naming the parameter, not a zero."""
    errors = []
    resolved = dict(filters)
    for name, lookup in (("partner", repository.organisations), ("project", repository.projects)):
        if name not in filters:
            continue
        references = await lookup(session, filters[name])
        known = {reference.value: reference.id for reference in references}
        unknown = [value for value in filters[name] if value not in known]
        if unknown:
            errors.append({"path": f"query.{name}", "message": "unknown: " + ", ".join(unknown)})
        resolved[name] = tuple(known[value] for value in filters[name] if value in known)
    if "programme" in filters:
        programmes = set(await repository.programme_codes(session))
        unknown = [code for code in filters["programme"] if code not in programmes]
        if unknown:
            errors.append(
                {"path": "query.programme", "message": "unknown code: " + ", ".join(unknown)}
            )
    if errors:
        raise UnprocessableEntity("Unknown values in the filters.", errors=errors)
    return resolved


async def catalog(
    session: AsyncSession, principal: Principal, settings: FundingSettings
) -> StatsCatalog:
    dimensions = [
        CatalogDimension(
            name=dimension.name,
            level=dimension.level,
            description=dimension.description,
            measures=[name for name in MEASURES if dimension.applies_to(name)],
            values=await _values_of(session, dimension),
        )
        for dimension in DIMENSIONS.values()
    ]
    filters = [
        CatalogFilter(
            name=dimension.name,
            type="list[integer]" if dimension.integer else "list[string]",
            description=f"Only what has one of the {dimension.name} values given (the "
            "dimension's values and meaning); for the measures the dimension applies to.",
        )
        for dimension in DIMENSIONS.values()
    ]
    return StatsCatalog(
        measures=[
            CatalogMeasure(
                name=spec.name,  # type: ignore[arg-type]
                kind=spec.kind,
                unit=spec.unit,
                description=spec.description,
                dimensions=dimensions_of(spec.name),
            )
            for spec in MEASURES.values()
        ],
        dimensions=dimensions,
        filters=filters,
        max_dimensions=MAX_DIMENSIONS,
        disclosure_control=disclosure.rule(principal, settings),
    )


async def _values_of(session: AsyncSession, dimension: Dimension) -> list[CatalogValue] | None:
    if dimension.values == "fixed":
        return [
            CatalogValue(value=value, label=VALUE_LABELS.get(value, value))
            for value in FIXED_VALUES[dimension.name]
        ]
    if dimension.values in ("organisation", "project"):
        lookup = (
            repository.organisations if dimension.values == "organisation" else repository.projects
        )
        return [
            CatalogValue(value=reference.value, label=reference.label, id=str(reference.id))
            for reference in await lookup(session)
        ]
    if dimension.values == "programme":
        codes = await repository.programme_codes(session)
        return [CatalogValue(value=code, label=code) for code in codes]
    if dimension.values == "currency":
        return [
            CatalogValue(value=code, label=get_currency_name(code, locale="en"))
            for code in sorted(CURRENCIES)
        ]
    return None
