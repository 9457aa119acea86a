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
    PERSON_MEASURES,
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
    measures = _measures(query)
    _check_poverty_line(query, measures)
    filters = query.dimension_filters()
    check_codes = {name: filters[name] for name in CODE_DIMENSIONS if name in filters}
    await _limit_to_allowed_regions(session, filters, principal)

    as_of = query.as_of or today()
    spec = StatsSpec(
        measures=measures,
        group_by=tuple(query.group_by),
        as_of=as_of,
        pmt_edges=edges,
        filters=filters,
        pmt_min=query.pmt_min,
        pmt_max=query.pmt_max,
        registered_from=query.registered_from,
        registered_to=query.registered_to,
        poverty_line=query.poverty_line,
        poverty_lines=query.lines_by_area(),
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
    shown = disclosure.shaped(measures, counts, principal, settings)
    several = bool(query.measures)
    return StatsAnswer(
        measure=None if several else query.measure,
        measures=query.measures if several else None,
        group_by=list(query.group_by),
        filters=_applied(filters, query),
        as_of=as_of,
        rows=[
            {**row, **(figures if several else _as_count(figures, measures[0]))}
            for row, figures in zip(counts.rows, shown.figures, strict=True)
        ],
        total=None if several else shown.totals[measures[0]],
        totals=shown.totals if several else None,
        disclosure_control=shown.control,
    )


def _as_count(figures: dict[str, Any], measure: str) -> dict[str, Any]:
    """One measure's figure as `count` (and its `suppressed` flag)."""
    return {"count" if name == measure else name: value for name, value in figures.items()}


def _measures(query: StatsQuery) -> tuple[str, ...]:
    """The measure asked, or the measures asked together (all of the same units)."""
    if (query.measure is None) == (not query.measures):
        raise UnprocessableEntity(
            "Ask one measure, or several measures.",
            errors=[{"path": "query.measure", "message": "give measure or measures, not both"}],
        )
    if query.measure is not None:
        return (query.measure,)
    if not set(query.measures) <= PERSON_MEASURES:
        raise UnprocessableEntity(
            "These measures cannot be counted together.",
            errors=[
                {
                    "path": "query.measures",
                    "message": "only measures of individuals go together: "
                    + ", ".join(sorted(PERSON_MEASURES)),
                }
            ],
        )
    return tuple(query.measures)


def _check_poverty_line(query: StatsQuery, measures: tuple[str, ...]) -> None:
    needed = any(measure in LINE_MEASURES for measure in measures)
    given = [name for name in ("poverty_line", "poverty_lines") if getattr(query, name)]
    message = None
    if len(given) > 1:
        message = "give poverty_line or poverty_lines, not both"
    elif needed and not given:
        message = "required by " + ", ".join(m for m in measures if m in LINE_MEASURES)
    elif given and not needed:
        message = "only the poverty measures take a line: " + ", ".join(sorted(LINE_MEASURES))
    if message is not None:
        path = "query." + (given[-1] if given else "poverty_lines")
        raise UnprocessableEntity(
            "Invalid poverty line.", errors=[{"path": path, "message": message}]
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
    if query.poverty_lines:
        applied["poverty_lines"] = list(query.poverty_lines)
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
                parameters=["poverty_lines"] if name in LINE_MEASURES else [],
                batch="individuals" if name in PERSON_MEASURES else None,
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
