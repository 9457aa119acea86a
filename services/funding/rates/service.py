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
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.rates import repository
from services.funding.rates.schemas import ExchangeRate, ExchangeRateCreate, RatesUpload, RateUsed
from services.funding.vocabulary import DJF, USD
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, UnprocessableEntity
from shared.money import Money
from shared.pagination import Page, PageParams, page_of


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


async def in_djf_and_usd(
    session: AsyncSession, amount: Money, day: date, path: str = "body"
) -> Converted:
    """`amount` valued on `day` in DJF and in USD."""
    rate = await rate_on(session, amount.currency, day, path)
    usd = await rate_on(session, USD, day, path)
    return Converted(amount, convert(amount, rate, DJF_RATE), convert(amount, rate, usd), rate, usd)


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
    created = await repository.add_new(session, [_row(data, principal)])
    if not created:
        existing = await repository.find(session, data.currency, data.rate_date)
        raise Conflict(
            f"A {data.currency} rate for {data.rate_date.isoformat()} is recorded already.",
            existing_rate=str(existing.rate_to_djf) if existing else None,
        )
    await _audit(session, principal, audit, created)
    return ExchangeRate.model_validate(created[0])


def _row(data: ExchangeRateCreate, principal: Principal) -> dict[str, object]:
    return {**data.model_dump(), "created_by": principal.subject}


async def _audit(
    session: AsyncSession, principal: Principal, audit: AuditTrail, rates: Sequence[object]
) -> None:
    await audit.record_writes(
        session,
        [
            audit.row(
                principal,
                "create",
                "exchange_rate",
                rate.id,  # type: ignore[attr-defined]
                detail={
                    "currency": rate.currency,  # type: ignore[attr-defined]
                    "rate_date": rate.rate_date.isoformat(),  # type: ignore[attr-defined]
                    "after": str(rate.rate_to_djf),  # type: ignore[attr-defined]
                },
            )
            for rate in rates
        ],
    )


_COLUMNS = ("currency", "rate_date", "rate_to_djf", "source")


async def upload(
    session: AsyncSession, principal: Principal, audit: AuditTrail, content: bytes
) -> RatesUpload:
    """A CSV of rates (currency, rate_date, rate_to_djf, source; a year of daily rates, say),
    all or nothing: a bad row refuses the file, naming the row. Rows already recorded with
    the same rate are left as they are; with another rate, they are refused."""
    rows = _parse_csv(content)
    created = await repository.add_new(
        session, [{**row.model_dump(), "created_by": principal.subject} for row in rows]
    )
    made = {(rate.currency, rate.rate_date) for rate in created}
    errors = []
    unchanged = 0
    for number, row in enumerate(rows, start=2):
        if (row.currency, row.rate_date) in made:
            continue
        existing = await repository.find(session, row.currency, row.rate_date)
        if existing is not None and existing.rate_to_djf == row.rate_to_djf:
            unchanged += 1
        else:
            errors.append(
                {"path": f"file.row.{number}", "message": "another rate is recorded for this date"}
            )
    if errors:
        raise Conflict("Some rates differ from those recorded for their dates.", errors=errors)
    await _audit(session, principal, audit, created)
    return RatesUpload(
        created=len(created),
        unchanged=unchanged,
        rates=[ExchangeRate.model_validate(rate) for rate in created],
    )


def _parse_csv(content: bytes) -> list[ExchangeRateCreate]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnprocessableEntity(
            "The file is not UTF-8 text.", errors=[{"path": "file", "message": "not UTF-8"}]
        ) from exc
    delimiter = ";" if text[:2048].count(";") > text[:2048].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in _COLUMNS if column not in header]
    if missing:
        raise UnprocessableEntity(
            "Columns are missing: " + ", ".join(missing) + ".",
            errors=[{"path": "file.header", "message": f"missing {column}"} for column in missing],
        )
    rows: list[ExchangeRateCreate] = []
    errors = []
    seen: set[tuple[str, date]] = set()
    for number, raw in enumerate(reader, start=2):
        record = {key.strip().lower(): (value or "").strip() for key, value in raw.items() if key}
        try:
            rate = Decimal(record["rate_to_djf"].replace(",", "."))
            row = ExchangeRateCreate.model_validate(
                {**{c: record[c] for c in _COLUMNS}, "rate_to_djf": rate}
            )
        except (InvalidOperation, ValidationError) as exc:
            errors.append({"path": f"file.row.{number}", "message": _first_error(exc)})
            continue
        if (row.currency, row.rate_date) in seen:
            errors.append({"path": f"file.row.{number}", "message": "this date is given twice"})
            continue
        if row.currency == DJF:
            errors.append({"path": f"file.row.{number}", "message": "DJF has no rate"})
            continue
        seen.add((row.currency, row.rate_date))
        rows.append(row)
    if errors:
        raise UnprocessableEntity("Some rows are invalid: nothing was saved.", errors=errors)
    if not rows:
        raise UnprocessableEntity(
            "The file has no rates.", errors=[{"path": "file", "message": "no rows"}]
        )
    return rows


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}"
    return "rate_to_djf: not a decimal number"


async def list_rates(
    session: AsyncSession, currency: str | None, params: PageParams
) -> Page[ExchangeRate]:
    rows = await repository.list_rates(session, currency, params)
    page = page_of(rows, params, key=lambda rate: [rate.currency, rate.rate_date])
    return Page[ExchangeRate](
        items=[ExchangeRate.model_validate(rate) for rate in page.items],
        next_cursor=page.next_cursor,
    )
