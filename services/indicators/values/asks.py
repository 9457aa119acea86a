"""What a measure of an expression asks its source for one breakdown of one period: the
measure, its filters (the expression's, the caller's, and the period's), and the grouping.
Two terms that ask the same thing share one request; a term without grouping reads the
total of a grouped request of the same measure and filters, so a breakdown costs one
request per distinct measure, never one per cell."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from services.indicators.expressions.names import MeasureInfo, Source
from services.indicators.expressions.nodes import Measure
from services.indicators.values.periods import Period

Pairs = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class AreaLines:
    """The poverty line of each area (DJF per person per year), as the registry reads each
    person against the line of their household's area; `missing` names the areas that
    have none."""

    lines: tuple[tuple[str, int], ...] = ()
    missing: str = ""

    def parameter(self) -> tuple[str, ...]:
        return tuple(f"{area}:{amount}" for area, amount in self.lines)


@dataclass(frozen=True)
class Ask:
    source: Source
    measure: str
    # Dimension filters (values to keep) and the source's own parameters (as_of...).
    filters: Pairs
    group_by: tuple[str, ...] = ()
    # Values to leave out: the reference data only (the services take lists to keep).
    excluded: Pairs = ()
    # Measures of one batch are asked of their source together (MeasureInfo.batch)...
    batch: str | None = None
    # ...their filters but these (the source's parameters, poverty_lines) the same.
    parameter_names: tuple[str, ...] = ()

    def ungrouped(self) -> Ask:
        return replace(self, group_by=())

    def batch_key(self) -> tuple[object, ...]:
        """Asks with the same key and grouping can be read from one request: the same
        measure and filters, or measures of one batch with the same filters."""
        if self.batch is None:
            return (self.source, "measure", self.measure, self.filters, self.excluded)
        common = tuple(pair for pair in self.filters if pair[0] not in self.parameter_names)
        return (self.source, "batch", self.batch, common, self.excluded)


@dataclass(frozen=True)
class Term:
    """How one measure is read: from `ask`, or zero everywhere (`empty`: the filters
    contradict each other), or nowhere (`reason`)."""

    ask: Ask | None = None
    empty: bool = False
    reason: str | None = None


def term_for(
    node: Measure,
    info: MeasureInfo,
    period: Period,
    breakdown: Sequence[str],
    chosen: Mapping[str, Sequence[str]],
    today: date,
    poverty_lines: AreaLines | None = None,
) -> Term:
    """`poverty_lines`: the national line of each area in the period's year (or why there
    is none), for the measures that need them."""
    lines_needed = "poverty_lines" in info.parameters
    if lines_needed and (poverty_lines is None or poverty_lines.missing):
        where = "" if poverty_lines is None else f" for {poverty_lines.missing}"
        return Term(reason=f"{node.text()}: no national poverty line of {period.year}{where}")
    keep: dict[str, set[str]] = {}
    leave_out: dict[str, set[str]] = {}
    for item in node.filters:
        if item.operator != "!=":
            keep[item.dimension] = set(item.values)
        elif info.source == "reference":
            leave_out[item.dimension] = set(item.values)
        else:
            known = info.dimensions[item.dimension].values
            if known is None:
                return Term(
                    reason=f"{node.text()}: {item.dimension} takes open values, which != "
                    "cannot be asked of the service"
                )
            keep[item.dimension] = set(known) - set(item.values)
    for dimension, values in chosen.items():
        keep[dimension] = keep[dimension] & set(values) if dimension in keep else set(values)
    if any(not values for values in keep.values()):
        return Term(empty=True)
    filters = {name: tuple(sorted(values)) for name, values in keep.items()}
    filters.update(_period_filters(info, period, filters, today))
    if lines_needed and poverty_lines is not None:
        filters["poverty_lines"] = poverty_lines.parameter()
    group_by = () if info.kind == "level" else tuple(breakdown)
    return Term(
        Ask(
            info.source,
            info.name,
            tuple(sorted(filters.items())),
            group_by,
            tuple(sorted((name, tuple(sorted(v))) for name, v in leave_out.items())),
            info.batch,
            tuple(sorted(info.parameters)),
        )
    )


def _period_filters(
    info: MeasureInfo, period: Period, filters: Mapping[str, object], today: date
) -> dict[str, tuple[str, ...]]:
    """The registry: as it stood at the period's end (ages on that day, households
    registered by then); funding: payments of the period (of its year for a yearly
    value), the ledger of its year up to its end; the reference data: its year. A filter
    the expression sets itself (year=2020) is left as it is."""
    as_of = min(period.end, today).isoformat()
    year = str(period.year)
    if info.source == "beneficiaries":
        return {"as_of": (as_of,), "registered_to": (period.end.isoformat(),)}
    if info.source == "funding":
        found: dict[str, tuple[str, ...]] = {"as_of": (as_of,)}
        if period.kind != "year" and "period" in info.dimensions:
            if "period" not in filters:
                found["period"] = (period.text,)
        elif "year" not in filters:
            found["year"] = (year,)
        return found
    return {} if "year" in filters else {"year": (year,)}
