"""Computing indicator values: the definitions (and the indicators they use), the figures
they need fetched at once, then the values cell by cell with their status."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.catalog import service as catalog
from services.indicators.context import Sources
from services.indicators.definitions import repository as definitions
from services.indicators.expressions.names import Names
from services.indicators.expressions.parser import parse
from services.indicators.models import Indicator, IndicatorVersion
from services.indicators.status import Milestone, judge
from services.indicators.targets import repository as milestones
from services.indicators.values.asks import Ask
from services.indicators.values.compute import (
    PLACES,
    Computed,
    Definition,
    Setting,
    compute,
    terms_of,
)
from services.indicators.values.disclosure import small_cell_threshold
from services.indicators.values.fetch import CellKey, PovertyLines, fetch
from services.indicators.values.formats.labels import Labels
from services.indicators.values.formats.shape import dimensions_of
from services.indicators.values.periods import Period
from services.indicators.values.schemas import IndicatorValue
from shared.clock import today
from shared.errors import UnprocessableEntity


@dataclass(frozen=True)
class ValuesRequest:
    period: Period
    # None: every indicator defined.
    indicators: Sequence[str] | None
    # Each breakdown gives a value per cell; () the overall value.
    breakdowns: Sequence[tuple[str, ...]]
    chosen: Mapping[str, Sequence[str]]
    # Instead of `breakdowns`: each indicator overall and by each of its disaggregations
    # in turn (what a snapshot freezes).
    each_disaggregation: bool = False


@dataclass(frozen=True)
class Run:
    values: list[IndicatorValue]
    threshold: int
    # The names of the indicators and of the cells' values.
    labels: Labels


async def values(
    session: AsyncSession, sources: Sources, default_threshold: int, request: ValuesRequest
) -> Run:
    current = {
        indicator.code: (indicator, version)
        for indicator, version in await definitions.current(session)
    }
    wanted = list(current) if request.indicators is None else list(request.indicators)
    _check_known(wanted, current)
    _check_dimensions(wanted, current, request)
    names = await catalog.names(session, sources)
    _check_values(request.chosen, names)
    threshold = small_cell_threshold(sources.registry, default_threshold)
    order = _dependency_order(wanted, current)
    parsed = {code: _definition(*current[code]) for code in order}
    lines = PovertyLines(session)
    setting = Setting(
        request.period,
        request.chosen,
        names.measures,
        threshold,
        today(),
        await lines.by_area(request.period.year),
    )
    own = {code: _breakdowns(request, current[code][1]) for code in wanted}
    needs = _needs(order, own, parsed)
    plans = {
        (code, breakdown): terms_of(parsed[code], breakdown, setting)
        for code in order
        for breakdown in needs[code]
    }
    asks: set[Ask] = {
        term.ask for terms in plans.values() for term in terms.values() if term.ask is not None
    }
    answers = await fetch(session, sources, asks, lines)
    computed_at = datetime.now(UTC)

    found: dict[tuple[str, tuple[str, ...]], dict[CellKey, Computed]] = {}
    for breakdown in sorted({b for code in order for b in needs[code]}):
        done: dict[str, dict[CellKey, Computed]] = {}
        for code in order:
            if breakdown in needs[code]:
                done[code] = compute(
                    parsed[code], breakdown, plans[(code, breakdown)], answers, done, setting
                )
                found[(code, breakdown)] = done[code]
    marks = await _milestones(session, [current[code][0] for code in wanted])
    shown = [
        _shown(cell, current[code][1], request.period, marks.get(code, {}), computed_at)
        for code in wanted
        for breakdown in own[code]
        for cell in found[(code, breakdown)].values()
    ]
    labels = Labels(
        {code: {"fr": current[code][1].name_fr, "en": current[code][1].name_en} for code in wanted},
        names.value_labels,
    )
    return Run(shown, threshold, labels.only(dimensions_of(shown)))


def _breakdowns(request: ValuesRequest, definition: IndicatorVersion) -> list[tuple[str, ...]]:
    if request.each_disaggregation:
        return [(), *((name,) for name in definition.disaggregations)]
    return list(request.breakdowns)


def _needs(
    order: Sequence[str],
    own: Mapping[str, list[tuple[str, ...]]],
    parsed: Mapping[str, Definition],
) -> dict[str, set[tuple[str, ...]]]:
    """The breakdowns each indicator is computed in: its own, and those of the indicators
    that use it (their disaggregations are among its own: checked when saved)."""
    needs = {code: set(own.get(code, ())) for code in order}
    for code in reversed(order):
        for used in parsed[code].uses:
            if used in needs:
                needs[used] |= needs[code]
    return needs


def _check_known(wanted: Sequence[str], current: Mapping[str, Any]) -> None:
    unknown = [code for code in wanted if code not in current]
    if unknown:
        raise UnprocessableEntity(
            "Unknown indicator.",
            errors=[{"path": "query.indicator", "message": "unknown: " + ", ".join(unknown)}],
        )


def _check_dimensions(
    wanted: Sequence[str],
    current: Mapping[str, tuple[Indicator, IndicatorVersion]],
    request: ValuesRequest,
) -> None:
    errors = []
    breakdowns = [] if request.each_disaggregation else request.breakdowns
    asked = {*itertools.chain.from_iterable(breakdowns), *request.chosen}
    for dimension in sorted(asked):
        refusing = [code for code in wanted if dimension not in current[code][1].disaggregations]
        if refusing:
            path = f"query.{dimension}" if dimension in request.chosen else "query.by"
            errors.append(
                {
                    "path": path,
                    "message": f"{', '.join(refusing)} may not be disaggregated by {dimension}",
                }
            )
    if errors:
        raise UnprocessableEntity("A dimension the indicator does not allow.", errors=errors)


def _check_values(chosen: Mapping[str, Sequence[str]], names: Names) -> None:
    errors = []
    for dimension, values in chosen.items():
        known: set[str] = set()
        open_set = False
        for info in names.measures.values():
            found = info.dimensions.get(dimension)
            if found is not None:
                if found.values is None:
                    open_set = True
                else:
                    known |= found.values
        unknown = [value for value in values if not open_set and value not in known]
        if unknown:
            errors.append({"path": f"query.{dimension}", "message": "unknown value"})
    if errors:
        raise UnprocessableEntity("Unknown values in the filters.", errors=errors)


def _dependency_order(
    wanted: Sequence[str], current: Mapping[str, tuple[Indicator, IndicatorVersion]]
) -> list[str]:
    """The indicators wanted and those they use, each after those it uses (definitions
    never form a cycle: they are checked when saved)."""
    order: list[str] = []
    stack = [(code, False) for code in reversed(wanted)]
    while stack:
        code, expanded = stack.pop()
        if code in order or code not in current:
            continue
        if expanded:
            order.append(code)
            continue
        stack.append((code, True))
        stack.extend((used, False) for used in current[code][1].uses_indicators)
    return order


def _definition(indicator: Indicator, version: IndicatorVersion) -> Definition:
    return Definition(
        code=indicator.code,
        version=version.version,
        factor=version.factor,
        numerator=parse(version.numerator),
        denominator=None if version.denominator is None else parse(version.denominator),
        direction=version.direction,
        uses=tuple(version.uses_indicators),
    )


Marks = dict[tuple[tuple[str, str], ...], dict[str, list[Milestone]]]


async def _milestones(session: AsyncSession, indicators: Sequence[Indicator]) -> dict[str, Marks]:
    codes = {indicator.id: indicator.code for indicator in indicators}
    found: dict[str, Marks] = {}
    for row in await milestones.of(session, list(codes)):
        cell = tuple(sorted(row.cell.items()))
        kinds = found.setdefault(codes[row.indicator_id], {}).setdefault(cell, {})
        kinds.setdefault(row.kind, []).append(Milestone(row.year, row.value))
    return found


def _shown(
    computed: Computed,
    definition: IndicatorVersion,
    period: Period,
    marks: Marks,
    computed_at: datetime,
) -> IndicatorValue:
    status = target = target_year = expected = None
    if computed.value is not None:
        cell = tuple(sorted(computed.cell.items()))
        kinds = marks.get(cell, {})  # type: ignore[arg-type]
        judgement = judge(
            computed.value,
            period.year,
            definition.direction,
            kinds.get("baseline", []),
            kinds.get("target", []),
        )
        status = judgement.status
        if judgement.expected is not None:
            expected = judgement.expected.quantize(PLACES, ROUND_HALF_UP)
        if judgement.target is not None:
            target, target_year = judgement.target.value, judgement.target.year
    return IndicatorValue(
        indicator=computed.indicator,
        version=computed.version,
        period=period.text,
        cell=computed.cell,
        value=computed.value,
        numerator=computed.numerator,
        denominator=computed.denominator,
        reason=computed.reason,
        unit=definition.unit,
        status=status,
        target=target,
        target_year=target_year,
        expected=expected,
        flagged=computed.flagged,
        inputs_as_of=computed.inputs_as_of,
        computed_at=computed_at,
    )
