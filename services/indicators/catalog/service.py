"""The catalogue of names: the services' `/stats/catalog` (asked concurrently, each time:
they change as programmes and projects are added), the reference data's measures, and the
indicators defined here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.catalog import repository
from services.indicators.catalog.reference import REFERENCE_MEASURES
from services.indicators.clients.stats import StatsCatalog, StatsClient
from services.indicators.clients.together import together
from services.indicators.context import Sources
from services.indicators.expressions.names import Dimension, MeasureInfo, Names, Source
from shared.logs import get_logger

_log = get_logger("inds.indicators.catalog")


async def service_catalogs(sources: Sources) -> list[tuple[StatsClient, StatsCatalog]]:
    """Each service's catalogue, asked concurrently. A service that cannot be reached is
    this request's 503 naming it (shared/service_client.py)."""
    catalogs = await together([source.catalog() for source in sources.all()])
    return list(zip(sources.all(), catalogs, strict=True))


def service_measures(catalogs: list[tuple[StatsClient, StatsCatalog]]) -> dict[str, MeasureInfo]:
    """Every measure the services publish, and the reference data's."""
    measures: dict[str, MeasureInfo] = dict(REFERENCE_MEASURES)
    for source, catalog in catalogs:
        for info in measures_of(source, catalog):
            if info.name in measures:
                # The first publisher keeps the name; the other's measure cannot be named.
                _log.warning("measure published twice", measure=info.name, service=source.service)
                continue
            measures[info.name] = info
    return measures


def measures_of(source: StatsClient, catalog: StatsCatalog) -> list[MeasureInfo]:
    dimensions = {
        dimension.name: Dimension(
            dimension.name,
            None
            if dimension.values is None
            else frozenset(_text(value.value) for value in dimension.values),
        )
        for dimension in catalog.dimensions
    }
    service: Source = "beneficiaries" if source.service == "beneficiaries" else "funding"
    return [
        MeasureInfo(
            measure.name,
            service,
            "sum" if measure.kind == "sum" else "count",
            measure.unit,
            measure.description,
            {
                name: dimension
                for name, dimension in dimensions.items()
                if measure.dimensions is None or name in measure.dimensions
            },
            frozenset(measure.parameters),
            measure.batch,
        )
        for measure in catalog.measures
    ]


def value_labels(catalogs: list[tuple[StatsClient, StatsCatalog]]) -> dict[str, dict[str, str]]:
    """The labels the services give their dimensions' values (the first service's label
    when both publish a value)."""
    labels: dict[str, dict[str, str]] = {}
    for _, catalog in catalogs:
        for dimension in catalog.dimensions:
            known = labels.setdefault(dimension.name, {})
            for value in dimension.values or ():
                if value.label:
                    known.setdefault(_text(value.value), value.label)
    return labels


async def names(session: AsyncSession, sources: Sources) -> Names:
    """Everything an expression may name now."""
    catalogs = await service_catalogs(sources)
    return Names(
        measures=service_measures(catalogs),
        indicators=await repository.indicator_refs(session),
        value_labels=value_labels(catalogs),
    )


def _text(value: str | bool | int) -> str:
    # Expressions write values as text: booleans as the services read them in a query.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
