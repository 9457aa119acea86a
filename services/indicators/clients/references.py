"""What the framework and the action plans name in the other services, checked there when
saved: registry programmes by code, funding projects and organisations by IATI identifier
(the values the services' `/stats/catalog` publish for their `programme`, `project` and
`partner` dimensions), and the funding service's exchange rate in force on a day. A service
that cannot be reached is the request's 503 naming it (shared/service_client.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from services.indicators.clients.stats import StatsClient
from shared.errors import ProblemError
from shared.service_client import UpstreamProblem


class UnknownReference(ProblemError):
    status, type, title = 422, "unknown-reference", "Unknown programme, project or organisation"


class NoExchangeRate(ProblemError):
    status, type, title = 422, "no-exchange-rate", "No exchange rate"


@dataclass(frozen=True)
class Named:
    """Values sent at `path` that must be values of `dimension` in `source`'s catalogue;
    `what` says what they are in messages ("registry programme")."""

    source: StatsClient
    dimension: str
    values: Sequence[str]
    path: str
    what: str
    # False: one value sent on its own (its path has no index).
    listed: bool = True

    def at(self, index: int) -> str:
        return f"{self.path}.{index}" if self.listed else self.path


async def check_named(*checks: Named) -> None:
    """A 422 naming every value no service knows; one catalogue per service, asked
    concurrently, and none when nothing is named."""
    asked = [check for check in checks if check.values]
    sources = list({id(check.source): check.source for check in asked}.values())
    catalogs = await asyncio.gather(*(source.catalog() for source in sources))
    by_source = {id(source): catalog for source, catalog in zip(sources, catalogs, strict=True)}
    errors: list[dict[str, Any]] = []
    for check in asked:
        catalog = by_source[id(check.source)]
        known = {
            str(value.value)
            for dimension in catalog.dimensions
            if dimension.name == check.dimension
            for value in dimension.values or ()
        }
        errors += [
            {"path": check.at(index), "message": f"unknown {check.what}: {value}"}
            for index, value in enumerate(check.values)
            if value not in known
        ]
    if errors:
        raise UnknownReference(
            "Some programmes, projects or organisations are not known to the services "
            "that keep them.",
            errors=errors,
        )


class RateInForce(BaseModel):
    currency: str
    rate_date: date | None
    rate_to_djf: Decimal


async def rate_in_force(funding: StatsClient, currency: str, day: date, path: str) -> Decimal:
    """DJF per unit of `currency` on `day`, as the funding service converts that day's
    amounts; a 422 naming `path` when it has no rate that early."""
    try:
        rate = await funding.client.get(
            "/api/v1/funding/exchange-rates/in-force",
            RateInForce,
            params={"currency": currency, "on": day.isoformat()},
        )
    except UpstreamProblem as problem:
        if problem.upstream_status != 422:
            raise
        raise NoExchangeRate(
            f"The funding service has no {currency} exchange rate on or before "
            f"{day.isoformat()}: record one there first.",
            errors=[{"path": path, "message": f"no {currency} rate on or before {day}"}],
        ) from None
    return rate.rate_to_djf
