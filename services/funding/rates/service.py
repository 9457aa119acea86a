"""Exchange rates, and the one way the funding service converts money.

Every amount is kept in its own currency and also in DJF and in USD, each at the rate in
force on its value date: the latest rate on or before that date. A value date before any
rate of its currency is refused (422), never guessed. The conversion goes through DJF, the
rates' own unit, exactly, and rounds once to the target's minor unit, half away from zero
(shared/money.Money.convert_through): the rule a partner's statement or a spreadsheet check
arrives at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.models import Agreement, Transaction
from services.funding.models import ExchangeRate as ExchangeRateRow
from services.funding.rates import repository
from services.funding.rates.schemas import ExchangeRate, ExchangeRateCreate, RatesUpload, RateUsed
from services.funding.vocabulary import DJF, USD
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, UnprocessableEntity
from shared.money import Money
from shared.pagination import Page, PageParams, page_of
from shared.tabular import csv_delimiter


@dataclass(frozen=True)
class Rate:
    """DJF per unit of `currency`, in force from `rate_date` (None: DJF itself)."""

    currency: str
    rate_to_djf: Decimal
    rate_date: date | None

    def used(self) -> RateUsed:
        return RateUsed(
            currency=self.currency, rate_date=self.rate_date, rate_to_djf=self.rate_to_djf
        )


DJF_RATE = Rate(DJF, Decimal(1), None)


@dataclass(frozen=True)
class Converted:
    """An amount with its DJF and USD equivalents and the rates that gave them."""

    amount: Money
    djf: Money
    usd: Money
    rate: Rate
    usd_rate: Rate


class NoRate(UnprocessableEntity):
    type, title = "no-exchange-rate", "No exchange rate"


async def rate_on(session: AsyncSession, currency: str, day: date, path: str = "body") -> Rate:
    """The rate of `currency` in force on `day`; 422 naming `path` when there is none."""
    if currency == DJF:
        return DJF_RATE
    found = await repository.rate_on(session, currency, day)
    if found is None:
        raise NoRate(
            f"No {currency} exchange rate on or before {day.isoformat()}: record one first "
            "(POST /exchange-rates).",
            errors=[{"path": path, "message": f"no {currency} rate on or before this date"}],
        )
    return Rate(currency, found.rate_to_djf, found.rate_date)


def convert(amount: Money, source: Rate, target: Rate) -> Money:
    """`amount` (in `source`'s currency) in `target`'s currency."""
    if source.currency == target.currency:
        return amount
    return amount.convert_through(source.rate_to_djf, target.rate_to_djf, target.currency)


def converted_with(amount: Money, rate: Rate, usd: Rate) -> Converted:
    """`amount` (in `rate`'s currency) in DJF and in USD with these rates."""
    return Converted(amount, convert(amount, rate, DJF_RATE), convert(amount, rate, usd), rate, usd)


def stored_rates(row: Agreement | Transaction) -> tuple[Rate, Rate]:
    """The rates stored with an amount's DJF and USD equivalents: its currency's, then USD's."""
    return (
        Rate(row.currency, row.rate_to_djf, row.rate_date),
        Rate(USD, row.usd_rate_to_djf, row.usd_rate_date),
    )


async def in_djf_and_usd(
    session: AsyncSession, amount: Money, day: date, path: str = "body"
) -> Converted:
    """`amount` valued on `day` in DJF and in USD."""
    rate = await rate_on(session, amount.currency, day, path)
    return converted_with(amount, rate, await rate_on(session, USD, day, path))


async def convert_on(
    session: AsyncSession, amount: Money, currency: str, day: date, path: str = "body"
) -> Money:
    """`amount` in `currency` at the rates in force on `day`."""
    if amount.currency == currency:
        return amount
    source = await rate_on(session, amount.currency, day, path)
    return convert(amount, source, await rate_on(session, currency, day, path))


# Recording rates


async def record(
    session: AsyncSession, principal: Principal, audit: AuditTrail, data: ExchangeRateCreate
) -> ExchangeRate:
    """One rate; a rate already recorded for that currency and date is a 409 (amounts
    were converted with it: a correction is a rate of another date)."""
    if data.currency == DJF:
        raise UnprocessableEntity(
            "DJF is the unit of every rate: it has none of its own.",
            errors=[{"path": "body.currency", "message": "DJF has no rate"}],
        )
    created = await repository.add_new(session, [_new(data)], principal.subject)
    if not created:
        key = (data.currency, data.rate_date)
        existing = (await repository.recorded(session, [key])).get(key)
        raise Conflict(
            f"A {data.currency} rate for {data.rate_date.isoformat()} is recorded already.",
            existing_rate=str(existing) if existing is not None else None,
        )
    await _audit(session, principal, audit, created)
    return ExchangeRate.model_validate(created[0])


def _new(data: ExchangeRateCreate) -> repository.NewRate:
    return repository.NewRate(data.currency, data.rate_date, data.rate_to_djf, data.source)


async def _audit(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    rates: Sequence[ExchangeRateRow],
) -> None:
    await audit.record_writes(
        session,
        [
            audit.row(
                principal,
                "create",
                "exchange_rate",
                rate.id,
                detail={
                    "currency": rate.currency,
                    "rate_date": rate.rate_date.isoformat(),
                    "after": str(rate.rate_to_djf),
                },
            )
            for rate in rates
        ],
    )


_COLUMNS = ("currency", "rate_date", "rate_to_djf", "source")
# Where csv.DictReader puts the values of a row beyond its header's columns (those a short
# row has no value for are None: a value given, even empty, is a string).
_BEYOND_HEADER = "\x00beyond header"


async def upload(
    session: AsyncSession, principal: Principal, audit: AuditTrail, content: bytes
) -> RatesUpload:
    """A CSV of rates (currency, rate_date, rate_to_djf, source; a year of daily rates, say),
    all or nothing: a bad row refuses the file, naming the row. Rows already recorded with
    the same rate are left as they are; with another rate, they are refused. A few
    statements whatever the file's size: one insert, one look-up of the rows already there."""
    rows = _parse_csv(content)
    created = await repository.add_new(session, [_new(row) for _, row in rows], principal.subject)
    made = {(rate.currency, rate.rate_date) for rate in created}
    others = [(number, row) for number, row in rows if (row.currency, row.rate_date) not in made]
    existing = await repository.recorded(
        session, [(row.currency, row.rate_date) for _, row in others]
    )
    errors = []
    for number, row in others:
        recorded = existing.get((row.currency, row.rate_date))
        if recorded != row.rate_to_djf:
            errors.append(
                {
                    "path": f"file.row.{number}",
                    "message": f"another rate is recorded for this date: {recorded}",
                }
            )
    if errors:
        raise Conflict("Some rates differ from those recorded for their dates.", errors=errors)
    await _audit(session, principal, audit, created)
    return RatesUpload(
        created=len(created),
        unchanged=len(others),
        rates=[ExchangeRate.model_validate(rate) for rate in created],
    )


def _parse_csv(content: bytes) -> list[tuple[int, ExchangeRateCreate]]:
    """The file's rates, each with the number of the line it ends on (the header is 1)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnprocessableEntity(
            "The file is not UTF-8 text.", errors=[{"path": "file", "message": "not UTF-8"}]
        ) from exc
    delimiter = csv_delimiter(text[:2048])
    reader = csv.DictReader(
        io.StringIO(text), delimiter=delimiter, restkey=_BEYOND_HEADER, restval=None
    )
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in _COLUMNS if column not in header]
    if missing:
        raise UnprocessableEntity(
            "Columns are missing: " + ", ".join(missing) + ".",
            errors=[{"path": "file.header", "message": f"missing {column}"} for column in missing],
        )
    rows: list[tuple[int, ExchangeRateCreate]] = []
    errors = []
    seen: set[tuple[str, date]] = set()
    for raw in reader:
        number = reader.line_num
        where = f"file.row.{number}"
        shape = _shape_error(raw, len(header), delimiter)
        if shape is not None:
            errors.append({"path": where, "message": shape})
            continue
        record = {key.strip().lower(): (value or "").strip() for key, value in raw.items() if key}
        # A decimal comma is taken where the file's separator leaves it unambiguous (";"
        # files, or a quoted value).
        values = {c: record[c] for c in _COLUMNS}
        values["rate_to_djf"] = values["rate_to_djf"].replace(",", ".")
        try:
            row = ExchangeRateCreate.model_validate(values)
        except ValidationError as exc:
            errors.append({"path": where, "message": _first_error(exc)})
            continue
        if (row.currency, row.rate_date) in seen:
            errors.append({"path": where, "message": "this date is given twice"})
            continue
        if row.currency == DJF:
            errors.append({"path": where, "message": "DJF has no rate"})
            continue
        seen.add((row.currency, row.rate_date))
        rows.append((number, row))
    if errors:
        raise UnprocessableEntity("Some rows are invalid: nothing was saved.", errors=errors)
    if not rows:
        raise UnprocessableEntity(
            "The file has no rates.", errors=[{"path": "file", "message": "no rows"}]
        )
    return rows


def _shape_error(raw: dict[str, Any], expected: int, delimiter: str) -> str | None:
    """Why a row does not have as many fields as the header, if it does not: its values
    would otherwise land in the wrong columns (177,721 read as 177 with source 721)."""
    beyond = raw.get(_BEYOND_HEADER)
    if beyond:
        message = f"{expected + len(beyond)} fields, expected {expected}"
        if delimiter == ",":
            message += (
                ": a decimal comma in a comma-separated file? quote the rate or separate with ';'"
            )
        return message
    missing = sum(1 for value in raw.values() if value is None)
    if missing:
        return f"{expected - missing} fields, expected {expected}"
    return None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"


async def list_rates(
    session: AsyncSession, currency: str | None, params: PageParams
) -> Page[ExchangeRate]:
    rows = await repository.list_rates(session, currency, params)
    page = page_of(rows, params, key=lambda rate: [rate.currency, rate.rate_date])
    return Page[ExchangeRate](
        items=[ExchangeRate.model_validate(rate) for rate in page.items],
        next_cursor=page.next_cursor,
    )
