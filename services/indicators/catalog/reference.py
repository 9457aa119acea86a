"""The measures this service's own reference data publishes."""

from __future__ import annotations

from services.indicators.expressions.names import Dimension, MeasureInfo
from services.indicators.vocabulary import (
    POPULATION_DIMENSIONS,
    POVERTY_LINE_AREAS,
    POVERTY_LINE_KINDS,
)

POPULATION = "population"
POVERTY_LINE = "poverty_line"

_YEAR = Dimension("year")

REFERENCE_MEASURES: dict[str, MeasureInfo] = {
    POPULATION: MeasureInfo(
        POPULATION,
        "reference",
        "count",
        "people",
        "People living in Djibouti (refugees included), from the population tables uploaded "
        "with their source; summed over the cells the filters select.",
        {
            **{
                name: Dimension(name, frozenset(values))
                for name, values in POPULATION_DIMENSIONS.items()
            },
            "year": _YEAR,
        },
    ),
    POVERTY_LINE: MeasureInfo(
        POVERTY_LINE,
        "reference",
        "level",
        "DJF per person per year",
        "The poverty line (kind national or extreme) of a year, for the country (area=all) "
        "or an area: one figure, never summed; filters must select exactly one line.",
        {
            "year": _YEAR,
            "area": Dimension("area", frozenset(POVERTY_LINE_AREAS)),
            "kind": Dimension("kind", frozenset(POVERTY_LINE_KINDS)),
        },
    ),
}
