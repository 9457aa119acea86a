"""The names an expression may use: the measures the services and the reference data
publish, with the dimensions each can be filtered or broken down by, and the indicators
already defined (an expression may use another indicator's value by its code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# Where a measure is computed: a service's `/stats`, or this service's reference data.
Source = Literal["beneficiaries", "funding", "reference"]
# count and sum add up across cells; a level (a poverty line) does not: it is one figure.
Kind = Literal["count", "sum", "level"]


@dataclass(frozen=True)
class Dimension:
    name: str
    # The values it takes, or None when the set is open (periods, displacement statuses).
    values: frozenset[str] | None = None


@dataclass(frozen=True)
class MeasureInfo:
    name: str
    source: Source
    kind: Kind
    unit: str
    description: str
    dimensions: Mapping[str, Dimension] = field(default_factory=dict)
    # Parameters the source requires beside the filters (poverty_lines: given by this
    # service, the national line of each area in the period's year).
    parameters: frozenset[str] = frozenset()
    # Measures of one source and batch can be asked in one request (the registry's
    # individuals and poverty measures); None: asked alone.
    batch: str | None = None


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator already defined, as another expression sees it."""

    code: str
    # The indicator codes its own expressions use: the edges a cycle would run along.
    uses: frozenset[str] = frozenset()
    disaggregations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Names:
    measures: Mapping[str, MeasureInfo] = field(default_factory=dict)
    indicators: Mapping[str, IndicatorRef] = field(default_factory=dict)
    # The services' labels of dimension values (region codes to names...), by dimension:
    # what results formats show beside the codes.
    value_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
