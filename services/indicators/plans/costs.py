"""A planned cost in DJF and USD, converted the funding service's way: at its rates in force
on the action's first day (1 January of its first year), through DJF, rounded once half a
minor unit away from zero (shared/money.Money.convert_through), so that planned and
committed amounts of one day convert alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.indicators.clients.references import rate_in_force
from services.indicators.clients.stats import StatsClient
from shared.money import Money

DJF, USD = "DJF", "USD"


@dataclass(frozen=True)
class Converted:
    djf: Money
    usd: Money


def costing_day(start_year: int) -> date:
    return date(start_year, 1, 1)


async def in_djf_and_usd(funding: StatsClient, cost: Money, start_year: int) -> Converted:
    """`cost` in DJF and USD; a 422 naming `body.planned_cost` when the funding service has
    no rate of its currency or of USD that early."""
    day = costing_day(start_year)
    currencies = [code for code in dict.fromkeys((cost.currency, USD)) if code != DJF]
    rates = await asyncio.gather(
        *(rate_in_force(funding, code, day, "body.planned_cost") for code in currencies)
    )
    to_djf: dict[str, Decimal] = {DJF: Decimal(1), **dict(zip(currencies, rates, strict=True))}
    return Converted(
        djf=cost.convert_through(to_djf[cost.currency], 1, DJF),
        usd=cost.convert_through(to_djf[cost.currency], to_djf[USD], USD),
    )
