"""`GET /values`: indicator values computed now, from the services' live figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.indicators.access import Reader
from services.indicators.context import Settings, StatsSources
from services.indicators.values import service
from services.indicators.values.disclosure import for_reader
from services.indicators.values.formats.language import ChosenLanguage
from services.indicators.values.formats.respond import (
    FORMAT_HELP,
    RESPONSES,
    FormatQuery,
    json_labels,
    rendered,
)
from services.indicators.values.periods import PERIOD_HELP, PERIOD_PATTERN, parse_period
from services.indicators.values.schemas import ValuesAnswer
from shared.db import ReadSession
from shared.errors import UnprocessableEntity
from shared.stats import split_values

router = APIRouter(prefix="/api/v1/indicators", tags=["values"])
_OWN_PARAMETERS = {"indicator", "period", "by", "format", "lang"}

DESCRIPTION = (
    """
Computed fresh on each request from the registry's and funding's `/stats` (one request per
distinct measure, filters and grouping, sent concurrently) and the reference data.

- `indicator`: one or more codes, comma-separated.
- `period`: """
    + PERIOD_HELP
    + """ The registry is counted as it stood at the period's end
  (ages on that day, households registered by then; statuses are today's); funding's
  payment measures are those of the payrolls of the period (of its year for a year);
  ledger measures those of its year up to its end; population and poverty lines those of
  its year.
- `by`: up to 5 dimensions, comma-separated, to break the values down by; each must be
  among every indicator's disaggregations (else 422).
- `<dimension>=value[,value]`: only that part of the population (e.g. `region=DJ-OB`);
  the dimension must be a disaggregation of every indicator (else 422).

Each indicator gives its overall value (cell `{}`), then one per cell of the breakdown that
has figures. A zero or missing denominator gives no value and a `reason`, never an error.
A value computed from a count of fewer people than the registry's small-cell threshold is
`flagged`; analysts see it without its figures (`suppressed`). A service that cannot be
reached: 503 naming it.

- `format`: """
    + FORMAT_HELP
    + """ JSON rows come with `labels`: the names of the indicators, the dimensions and
  the values in the cells.
"""
)


@router.get("/values", response_model=ValuesAnswer, description=DESCRIPTION, responses=RESPONSES)
async def get_values(
    request: Request,
    session: ReadSession,
    principal: Reader,
    sources: StatsSources,
    settings: Settings,
    indicator: Annotated[str, Query(min_length=1, max_length=2000)],
    period: Annotated[str, Query(max_length=10, pattern=PERIOD_PATTERN)],
    lang: ChosenLanguage,
    by: Annotated[str | None, Query(max_length=300)] = None,
    format: FormatQuery = "json",
) -> ValuesAnswer | Response:
    try:
        parsed_period = parse_period(period)
    except ValueError as problem:
        raise UnprocessableEntity(
            "Invalid period.", errors=[{"path": "query.period", "message": str(problem)}]
        ) from None
    breakdown = tuple(_listed(by))
    if len(breakdown) > 5:
        raise UnprocessableEntity(
            "Too many dimensions.",
            errors=[{"path": "query.by", "message": "at most 5 dimensions"}],
        )
    chosen = {
        name: _listed(request.query_params.getlist(name))
        for name in request.query_params
        if name not in _OWN_PARAMETERS
    }
    codes = _listed(indicator)
    run = await service.values(
        session,
        sources,
        settings.small_cell_threshold,
        service.ValuesRequest(parsed_period, codes, [(), breakdown] if breakdown else [()], chosen),
    )
    shown = [for_reader(value, principal) for value in run.values]
    if format != "json":
        return rendered(format, shown, run.labels, lang, link=str(request.url), filename="values")
    return ValuesAnswer(
        period=parsed_period.text,
        by=list(breakdown),
        filters=chosen,
        small_cell_threshold=run.threshold,
        values=shown,
        labels=json_labels(shown, run.labels, lang),
    )


def _listed(value: str | list[str] | None) -> list[str]:
    """`a,b` or repeated parameters, each value once, in order, empty ones dropped."""
    return list(dict.fromkeys(part for part in split_values(value) if part))
