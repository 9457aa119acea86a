"""The figures the asks need: the services' `/stats`, asked all at once (concurrently, one
request per ask, or per batch of measures of people: batches.py), and the reference data,
read from this service's tables."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.catalog.reference import POVERTY_LINE
from services.indicators.clients.stats import StatsAnswer, StatsClient
from services.indicators.clients.together import together
from services.indicators.context import Sources
from services.indicators.models import PovertyLine
from services.indicators.reference import repository as reference
from services.indicators.values.asks import AreaLines, Ask
from services.indicators.values.batches import batch_filters, batched
from services.indicators.vocabulary import AREAS

CellKey = tuple[str | None, ...]


@dataclass
class Answer:
    """One ask's figures: by cell of its grouping, and overall; or why there are none."""

    cells: dict[CellKey, Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)
    as_of: date | None = None
    reason: str | None = None


def text(value: Any) -> str | None:
    """A dimension value as expressions and cells write it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Dimensions by which a unit may fall in several groups (a household in two programmes):
# a breakdown by them is never summed from a finer one...
_OVERLAPPING = {"beneficiaries": frozenset({"programme", "enrollment_status"})}
# ...except in measures whose unit is a household in one programme, with one status in it.
_ONE_PROGRAMME_PER_UNIT = frozenset(
    {("beneficiaries", "enrollments"), ("beneficiaries", "pmt_eligible")}
)


def _overlapping(ask: Ask) -> frozenset[str]:
    if (ask.source, ask.measure) in _ONE_PROGRAMME_PER_UNIT:
        return frozenset()
    return _OVERLAPPING.get(ask.source, frozenset())


MAX_GROUPING = 5


def merged(asks: Iterable[Ask]) -> dict[Ask, Ask]:
    """Breakdowns by one dimension each (region, then sex...: what a snapshot asks) of one
    measure, or of measures of one batch, with the same filters, read from one grouping
    by all of those dimensions: each is a sum over the others, exact for counts and sums
    whenever every unit has one value of each."""
    singles: dict[tuple[object, ...], list[Ask]] = {}
    for ask in asks:
        if ask.source == "reference" or len(ask.group_by) != 1:
            continue
        if ask.group_by[0] not in _overlapping(ask):
            singles.setdefault(ask.batch_key(), []).append(ask)
    read_from: dict[Ask, Ask] = {}
    for group in singles.values():
        dimensions = sorted({ask.group_by[0] for ask in group})
        for start in range(0, len(dimensions), MAX_GROUPING):
            chunk = tuple(dimensions[start : start + MAX_GROUPING])
            if len(chunk) > 1:
                read_from.update(
                    {ask: replace(ask, group_by=chunk) for ask in group if ask.group_by[0] in chunk}
                )
    return read_from


def needed(asks: Iterable[Ask]) -> set[Ask]:
    """The asks to send: breakdowns merged (see `merged`), and an ungrouped ask to a
    service left out when a grouped twin gives its total. (The reference data is read
    here, and a table may give a total that it cannot break down.)"""
    every = set(asks)
    read_from = merged(every)
    sent = {read_from.get(ask, ask) for ask in every}
    grouped = {ask.ungrouped() for ask in sent if ask.group_by and ask.source != "reference"}
    return {ask for ask in sent if ask.group_by or ask not in grouped}


class PovertyLines:
    """The poverty lines a run reads, each year's read once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._years: dict[int, Sequence[PovertyLine]] = {}

    async def of(self, year: int) -> Sequence[PovertyLine]:
        if year not in self._years:
            self._years[year] = await reference.list_poverty_lines(self.session, year)
        return self._years[year]

    async def by_area(self, year: int) -> AreaLines:
        """The national line of each area in `year`, in DJF: the area's own, or else the
        country's (area all)."""
        national = {
            line.area: line.amount_minor for line in await self.of(year) if line.kind == "national"
        }
        found = {area: national.get(area, national.get("all")) for area in AREAS}
        return AreaLines(
            tuple((area, amount) for area, amount in found.items() if amount is not None),
            ", ".join(area for area, amount in found.items() if amount is None),
        )


async def fetch(
    session: AsyncSession, sources: Sources, asks: set[Ask], lines: PovertyLines
) -> dict[Ask, Answer]:
    """Every ask's answer. A service that cannot be reached raises its 503 (or 504, 502)
    naming it, and nothing is computed."""
    sent = sorted(needed(asks), key=repr)
    clients = {"beneficiaries": sources.registry, "funding": sources.funding}
    requests = batched([ask for ask in sent if ask.source != "reference"])
    answers = await together([_request(clients[batch[0].source], batch) for batch in requests])
    found: dict[Ask, Answer] = {}
    for batch, answer in zip(requests, answers, strict=True):
        for ask in batch:
            found[ask] = _from_service(answer, ask.measure if len(batch) > 1 else None)
    for ask in sent:
        if ask.source == "reference":
            found[ask] = await _from_reference(session, ask, lines)
    for ask, combined in merged(asks).items():
        if ask in asks:
            found[ask] = _marginal(found[combined], combined.group_by.index(ask.group_by[0]))
    for ask in asks:
        if ask not in found:
            twin = next(a for a in found if a.group_by and a.ungrouped() == ask)
            found[ask] = Answer(total=found[twin].total, as_of=found[twin].as_of)
    return found


def _marginal(answer: Answer, position: int) -> Answer:
    cells: dict[CellKey, Decimal] = {}
    for key, figure in answer.cells.items():
        cell = (key[position],)
        cells[cell] = cells.get(cell, Decimal(0)) + figure
    return Answer(cells, answer.total, answer.as_of, answer.reason)


def _request(client: StatsClient, batch: list[Ask]) -> Awaitable[StatsAnswer]:
    """One ask's request, or one request for a batch of measures of people."""
    first = batch[0]
    if len(batch) == 1:
        return client.stats(first.measure, first.group_by, dict(first.filters))
    return client.stats_together(
        [ask.measure for ask in batch], first.group_by, batch_filters(batch)
    )


def _from_service(answer: StatsAnswer, measure: str | None = None) -> Answer:
    """One measure's figures: the answer's (`count` or `value`), or `measure`'s of an
    answer to several."""
    cells: dict[CellKey, Decimal] = {}
    for row in answer.rows:
        figure = row.get("count", row.get("value")) if measure is None else row.get(measure)
        key = tuple(text(row.get(name)) for name in answer.group_by)
        cells[key] = _decimal(figure)
    total = answer.total if measure is None else (answer.totals or {}).get(measure)
    return Answer(cells, _decimal(total), answer.as_of)


def _decimal(figure: object) -> Decimal:
    """A figure as published: a whole number, or a sum of fractions to 6 places (read from
    its shortest text, which is the text the service wrote)."""
    if isinstance(figure, float):
        return Decimal(repr(figure))
    return Decimal(int(figure or 0))  # type: ignore[call-overload]


async def _from_reference(session: AsyncSession, ask: Ask, lines: PovertyLines) -> Answer:
    filters = dict(ask.filters)
    if ask.measure == POVERTY_LINE:
        return await _poverty_line(lines, filters)
    years = [int(year) for year in filters["year"]]
    used = {*filters, *dict(ask.excluded), *ask.group_by} - {"year"}
    for year in years:
        dimensions = await reference.broken_down_by(session, year)
        if dimensions is None:
            return Answer(reason=f"no population figures for {year}")
        lacking = sorted(used - dimensions)
        if lacking:
            return Answer(
                reason=f"the population figures of {year} are not broken down by "
                + ", ".join(lacking)
            )
    rows = await reference.population(
        session,
        list(ask.group_by),
        {
            name: [int(v) for v in values] if name == "year" else list(values)
            for name, values in filters.items()
        },
        dict(ask.excluded),
    )
    cells: dict[CellKey, Decimal] = {}
    total = Decimal(0)
    for row in rows:
        people = Decimal(int(row["people"] or 0))
        key = tuple(text(row[name]) for name in ask.group_by)
        cells[key] = cells.get(key, Decimal(0)) + people
        total += people
    return Answer(cells, total)


async def _poverty_line(lines: PovertyLines, filters: dict[str, tuple[str, ...]]) -> Answer:
    """One line: of the filters' year, area (all unless filtered) and kind (national
    unless filtered)."""
    areas = filters.get("area", ("all",))
    kinds = filters.get("kind", ("national",))
    found = [
        line
        for year in filters["year"]
        for line in await lines.of(int(year))
        if line.area in areas and line.kind in kinds
    ]
    if len(found) != 1:
        wanted = f"{'/'.join(kinds)} line of {'/'.join(filters['year'])} ({'/'.join(areas)})"
        if not found:
            return Answer(reason=f"no {wanted}")
        return Answer(reason=f"more than one {wanted}: filter the area or kind")
    return Answer(total=Decimal(found[0].amount_minor))
