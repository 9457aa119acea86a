"""Statistics requests: the caller's region limits, the checks that need the settings or the
database, and the answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import allowed_regions
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.stats import disclosure, repository
from services.beneficiaries.stats.catalog import (
    CONSUMPTION_MEASURES,
    DIMENSIONS,
    FIXED_VALUES,
    LINE_MEASURES,
    MAX_DIMENSIONS,
    MEASURES,
    RANGE_FILTERS,
    SUM_UNITS,
    UNSCORED,
    VALUE_LABELS,
    Dimension,
    pmt_band_values,
    pmt_bands,
)
from services.beneficiaries.stats.repository import CODE_DIMENSIONS, StatsSpec
from services.beneficiaries.stats.schemas import (
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
from shared.errors import Forbidden, UnprocessableEntity


async def statistics(
    session: AsyncSession,
    query: StatsQuery,
    principal: Principal,
    settings: BeneficiariesSettings,
) -> StatsAnswer:
    edges = tuple(settings.pmt_band_edges)
    bands = pmt_band_values(list(edges))
    if not set(query.pmt_band) <= set(bands):
        raise UnprocessableEntity(
            "Unknown PMT band.",
            errors=[{"path": "query.pmt_band", "message": "expected one of: " + ", ".join(bands)}],
        )
    disclosure.check_query(query, principal)
    _check_poverty_line(query)
    filters = query.dimension_filters()
    check_codes = {name: filters[name] for name in CODE_DIMENSIONS if name in filters}
    await _limit_to_allowed_regions(session, filters, principal)

    as_of = query.as_of or today()
    spec = StatsSpec(
        measure=query.measure,
        group_by=tuple(query.group_by),
        as_of=as_of,
        pmt_edges=edges,
        filters=filters,
        pmt_min=query.pmt_min,
        pmt_max=query.pmt_max,
        registered_from=query.registered_from,
        registered_to=query.registered_to,
        poverty_line=query.poverty_line,
        check_codes=check_codes,
    )
    counts = await repository.count(session, spec)
    if counts.unknown_codes:
        raise UnprocessableEntity(
            "Unknown codes in the filters.",
            errors=[
                {"path": f"query.{name}", "message": "unknown code: " + ", ".join(codes)}
                for name, codes in counts.unknown_codes.items()
            ],
        )
    answer = StatsAnswer(
        measure=query.measure,
        group_by=list(query.group_by),
        filters=_applied(filters, query),
        as_of=as_of,
        rows=counts.rows,
        total=counts.total,
    )
    return disclosure.shaped(answer, counts.units, counts.total_units, principal, settings)


def _check_poverty_line(query: StatsQuery) -> None:
    needed = query.measure in LINE_MEASURES
    if needed != (query.poverty_line is not None):
        message = (
            f"required by {query.measure}"
            if needed
            else "only poor_individuals, poverty_gap and poverty_gap_squared take it"
        )
        raise UnprocessableEntity(
            "Invalid poverty line.",
            errors=[{"path": "query.poverty_line", "message": message}],
        )


async def _limit_to_allowed_regions(
    session: AsyncSession, filters: dict[str, tuple[Any, ...]], principal: Principal
) -> None:
    """A registrar limited to regions counts only there: asking for another region, or a
    commune or locality of one, is refused (a zero would read as "nobody there"); asking
    for none means theirs."""
    regions = allowed_regions(principal)
    if regions is None:
        return
    places = {code for name in ("commune", "locality") for code in filters.get(name, ())}
    areas_asked = await areas.get_many(session, places)
    outside = sorted(
        {code for code in filters.get("region", ()) if code not in regions}
        | {code for code, area in areas_asked.items() if area.region_code not in regions}
    )
    if outside:
        raise Forbidden(f"Your account may not read statistics of {', '.join(outside)}.")
    if "region" not in filters:
        filters["region"] = tuple(regions)


def _applied(filters: dict[str, tuple[Any, ...]], query: StatsQuery) -> dict[str, FilterValue]:
    applied: dict[str, FilterValue] = {}
    for name, values in filters.items():
        applied[name] = values[0] if DIMENSIONS[name].boolean else list(values)
    for name in (*RANGE_FILTERS, "poverty_line"):
        value = getattr(query, name)
        if value is not None:
            applied[name] = value
    return applied


async def catalog(
    session: AsyncSession, settings: BeneficiariesSettings, principal: Principal
) -> StatsCatalog:
    references = await repository.reference_values(session)
    dimensions = []
    for dimension in DIMENSIONS.values():
        values = _values_of(dimension, references, settings)
        dimensions.append(
            CatalogDimension(
                name=dimension.name,
                level=dimension.level,
                description=dimension.description,
                values=values,
            )
        )
    filters = [
        CatalogFilter(
            name=dimension.name,
            type="boolean" if dimension.boolean else "list[string]",
            description=f"Only units whose {dimension.name} is one of the values given "
            "(same values and same household/head/person meaning as the dimension).",
        )
        for dimension in DIMENSIONS.values()
    ]
    filters += [
        CatalogFilter(name=name, type=kind, description=description)
        for name, (kind, description) in RANGE_FILTERS.items()
    ]
    return StatsCatalog(
        measures=[
            CatalogMeasure(
                name=name,  # type: ignore[arg-type]
                description=text,
                kind="sum" if name in SUM_UNITS else "count",
                unit=SUM_UNITS.get(name, "people" if name in CONSUMPTION_MEASURES else name),
                parameters=["poverty_line"] if name in LINE_MEASURES else [],
            )
            for name, text in MEASURES.items()
        ],
        dimensions=dimensions,
        filters=filters,
        max_dimensions=MAX_DIMENSIONS,
        disclosure_control=disclosure.rule(principal, settings),
    )


def _values_of(
    dimension: Dimension,
    references: dict[str, list[repository.ReferenceValue]],
    settings: BeneficiariesSettings,
) -> list[CatalogValue] | None:
    if dimension.boolean:
        return [CatalogValue(value=True, label="yes"), CatalogValue(value=False, label="no")]
    if dimension.values == "fixed":
        return [
            CatalogValue(value=value, label=VALUE_LABELS.get(value, value.replace("_", " ")))
            for value in FIXED_VALUES[dimension.name]
        ]
    if dimension.values == "settings":
        bands = pmt_bands(list(settings.pmt_band_edges))
        return [CatalogValue(value=band.value, label=band.label) for band in bands] + [
            CatalogValue(value=UNSCORED, label=VALUE_LABELS[UNSCORED])
        ]
    if dimension.values in ("admin_area", "programme"):
        return [
            CatalogValue(value=reference.code, label=reference.label)
            for reference in references[dimension.name]
        ]
    return None
