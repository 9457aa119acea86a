"""Exchange rates: recorded once per currency and date, uploaded a year at a time, and the
one conversion rule every amount follows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from shared.db import Database
from shared.money import Money
from tests.funding.payloads import RATES, rate_body, record_rates, usd_rate
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def _upload(funding: httpx.AsyncClient, officer: dict[str, str], text: str) -> httpx.Response:
    return await funding.post(
        f"{RATES}/upload", files={"file": ("rates.csv", text.encode(), "text/csv")}, headers=officer
    )


async def test_a_rate_is_recorded_once_per_currency_and_date(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    body = usd_rate()
    created = await funding.post(RATES, json=body, headers=officer)
    assert created.status_code == 201, created.text
    assert Decimal(str(created.json()["rate_to_djf"])) == Decimal("177.721")
    again = await funding.post(RATES, json={**body, "rate_to_djf": "178"}, headers=officer)
    assert again.status_code == 409
    assert again.json()["existing_rate"] == "177.7210000000"


async def test_bad_rates_are_refused_naming_the_field(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    base = usd_rate()
    for change, path in (
        ({"currency": "XYZ"}, "body.currency"),
        ({"currency": "DJF"}, "body.currency"),
        ({"rate_to_djf": "0"}, "body.rate_to_djf"),
        ({"rate_to_djf": "-1"}, "body.rate_to_djf"),
        ({"rate_date": "2026-02-30"}, "body.rate_date"),
        # A JSON number with decimals is a binary float: its digits are lost already.
        ({"rate_to_djf": 177.721}, "body.rate_to_djf"),
        ({"rate_to_djf": "1.7e2"}, "body.rate_to_djf"),
        ({"rate_to_djf": True}, "body.rate_to_djf"),
        # Dates are written YYYY-MM-DD: 0 is not 1970-01-01, nor a timestamp a date.
        ({"rate_date": 0}, "body.rate_date"),
        ({"rate_date": "2026-01-01T00:00:00"}, "body.rate_date"),
    ):
        response = await funding.post(RATES, json={**base, **change}, headers=officer)
        assert response.status_code == 422, change
        assert path in [error["path"] for error in response.json()["errors"]], change


async def test_a_rate_sent_as_a_string_keeps_every_digit(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    body = {"currency": "KWD", "rate_date": "2026-01-01", "source": "BCD"}
    exact = await funding.post(
        RATES, json={**body, "rate_to_djf": "1234567890.123456789"}, headers=officer
    )
    assert exact.status_code == 201, exact.text
    assert exact.json()["rate_to_djf"] == "1234567890.1234567890"
    # As a JSON number it would have been 1234567890.1234567: refused, saying what to send.
    refused = await funding.post(
        RATES,
        content=b'{"currency": "KWD", "rate_date": "2026-01-02", "source": "BCD", '
        b'"rate_to_djf": 1234567890.123456789}',
        headers={**officer, "Content-Type": "application/json"},
    )
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["path"] == "body.rate_to_djf"
    assert "string" in error["message"]
    # A whole number is exact as a JSON number.
    whole = await funding.post(
        RATES, json={**body, "rate_date": "2026-01-03", "rate_to_djf": 3500}, headers=officer
    )
    assert whole.status_code == 201, whole.text
    assert Decimal(whole.json()["rate_to_djf"]) == 3500


async def test_a_year_of_rates_uploads_all_or_nothing(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    good = (
        "currency,rate_date,rate_to_djf,source\n"
        "USD,2026-01-01,177.721,BCD\n"
        "EUR,2026-01-01,193.5,BCD\n"
    )
    uploaded = await _upload(funding, officer, good)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["created"] == 2

    # The same file again changes nothing; a row with another rate refuses the whole file.
    again = await _upload(funding, officer, good)
    assert again.status_code == 201, again.text
    assert again.json() == {"created": 0, "unchanged": 2, "rates": []}
    bad = (
        "currency;rate_date;rate_to_djf;source\nGBP;2026-01-01;225,4;BCD\nUSD;2026-01-01;180;BCD\n"
    )
    refused = await _upload(funding, officer, bad)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["path"] == "file.row.3"
    listed = (await funding.get(RATES, params={"currency": "GBP"}, headers=officer)).json()
    assert listed["items"] == [], "nothing of a refused file is kept"

    unreadable = "currency,rate_date,rate_to_djf,source\nUSD,01/13/2026,abc,BCD\n"
    invalid = await _upload(funding, officer, unreadable)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["path"] == "file.row.2"


async def test_a_row_with_more_or_fewer_fields_than_the_header_refuses_the_file(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    # 177,721 in a comma-separated file is two fields: read as it is, the rate would be 177
    # and the source "721".
    text = (
        "currency,rate_date,rate_to_djf,source\n"
        "EUR,2026-01-01,193.5,BCD\n"
        "USD,2026-01-01,177,721,BCD\n"
        "GBP,2026-01-01,225.4\n"
    )
    refused = await _upload(funding, officer, text)
    assert refused.status_code == 422, refused.text
    errors = {error["path"]: error["message"] for error in refused.json()["errors"]}
    assert errors == {
        "file.row.3": "5 fields, expected 4: a decimal comma in a comma-separated file? "
        "quote the rate or separate with ';'",
        "file.row.4": "3 fields, expected 4",
    }
    listed = (await funding.get(RATES, headers=officer)).json()
    assert listed["items"] == [], "nothing of a refused file is kept"

    # Quoted, or in a semicolon-separated file, the decimal comma is the rate's.
    quoted = await _upload(
        funding, officer, 'currency,rate_date,rate_to_djf,source\nUSD,2026-01-01,"177,721",BCD\n'
    )
    assert quoted.status_code == 201, quoted.text
    semicolons = await _upload(
        funding, officer, "currency;rate_date;rate_to_djf;source\nEUR;2026-01-01;193,5;BCD\n"
    )
    assert semicolons.status_code == 201, semicolons.text
    rates = {
        r["currency"]: Decimal(r["rate_to_djf"])
        for r in (await funding.get(RATES, headers=officer)).json()["items"]
    }
    assert rates == {"EUR": Decimal("193.5"), "USD": Decimal("177.721")}


async def test_a_rates_file_over_the_upload_limit_is_refused(
    funding: httpx.AsyncClient, funding_app: FastAPI, officer: dict[str, str]
) -> None:
    text = "currency,rate_date,rate_to_djf,source\nUSD,2026-01-01,177.721,BCD\n"
    settings = funding_app.state.settings
    funding_app.state.settings = settings.model_copy(update={"upload_max_bytes": len(text) - 1})
    try:
        refused = await _upload(funding, officer, text)
    finally:
        funding_app.state.settings = settings
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await funding.get(RATES, headers=officer)).json()["items"] == []
    assert (await _upload(funding, officer, text)).status_code == 201


@contextmanager
def statements_run(database: Database) -> Iterator[list[str]]:
    """The SQL statements the funding database receives meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# Seventeen currencies' daily rates for a year: 6,205 rows, more values than one statement
# may carry as bind parameters (asyncpg: 32,767) if each is one.
YEAR_CURRENCIES = (
    *("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "SAR"),
    *("AED", "ETB", "KES", "INR", "KWD", "QAR", "TRY", "SEK"),
)


def _year_of_rates() -> str:
    lines = ["currency,rate_date,rate_to_djf,source"]
    for index, currency in enumerate(YEAR_CURRENCIES):
        for day in range(365):
            rate = Decimal(100 + index) + Decimal(day) / 1000
            lines.append(f"{currency},{date(2026, 1, 1) + timedelta(days=day)},{rate},BCD")
    return "\n".join(lines) + "\n"


async def test_a_year_of_daily_rates_of_seventeen_currencies_uploads_and_re_uploads(
    funding: httpx.AsyncClient, officer: dict[str, str], funding_db: Database
) -> None:
    text = _year_of_rates()
    uploaded = await _upload(funding, officer, text)
    assert uploaded.status_code == 201, uploaded.text[:500]
    assert uploaded.json()["created"] == 17 * 365
    assert uploaded.json()["unchanged"] == 0
    on_day = await funding.get(RATES, params={"currency": "SEK", "limit": 1}, headers=officer)
    [first] = on_day.json()["items"]
    assert (first["rate_date"], Decimal(first["rate_to_djf"])) == ("2026-01-01", Decimal(116))

    # The same file again: every row is recorded already, found by one look-up, not 6,205.
    with statements_run(funding_db) as statements:
        again = await _upload(funding, officer, text)
    assert again.status_code == 201, again.text[:500]
    assert again.json() == {"created": 0, "unchanged": 17 * 365, "rates": []}
    assert len(statements) < 10, (len(statements), statements[:5])

    # One rate changed at the end of the year refuses the file, naming its row only.
    changed = text.replace("SEK,2026-12-31,116.364,BCD", "SEK,2026-12-31,116.365,BCD")
    refused = await _upload(funding, officer, changed)
    assert refused.status_code == 409
    assert refused.json()["errors"] == [
        {
            "path": f"file.row.{1 + 17 * 365}",
            "message": "another rate is recorded for this date: 116.3640000000",
        }
    ]


async def test_only_finance_officers_record_rates(
    funding: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    body = usd_rate()
    for role in ("analyst", "finance_approver", "registrar"):
        refused = await funding.post(RATES, json=body, headers=as_role(tokens, role))
        assert refused.status_code == 403, role
    listed = await funding.get(RATES, headers=as_role(tokens, "finance_officer"))
    assert listed.json()["items"] == [], "no rate was recorded"


def test_conversions_go_through_djf_and_round_once_half_away_from_zero() -> None:
    usd = Decimal("177.721")
    # 30,000 DJF is 168.8042... USD: 168.80.
    assert Money(30_000, "DJF").convert_through(1, usd, "USD") == Money(16880, "USD")
    # 1 USD at 177.5 DJF is 177.5 DJF: half a franc, rounded up, and down when negative.
    assert Money(100, "USD").convert_through(Decimal("177.5"), 1, "DJF") == Money(178, "DJF")
    assert Money(-100, "USD").convert_through(Decimal("177.5"), 1, "DJF") == Money(-178, "DJF")
    # EUR to USD through DJF, exactly: 100.00 EUR at 193.5 and 177.721 DJF is 108.88 USD.
    assert Money(10_000, "EUR").convert_through(Decimal("193.5"), usd, "USD") == Money(10888, "USD")


async def test_the_rate_in_force_on_a_day_is_the_latest_before_it(
    funding: httpx.AsyncClient, officer: dict[str, str], tokens: TokenFactory
) -> None:
    await record_rates(
        funding,
        officer,
        rate_body("EUR", "2008-01-01", "250"),
        rate_body("EUR", "2009-06-01", "260"),
    )
    service = tokens.bearer(sub="client:svc-indicators", roles=["service"])
    in_force = f"{RATES}/in-force"
    for day, rate, since in (
        ("2009-05-31", "250", "2008-01-01"),
        ("2009-06-01", "260", "2009-06-01"),
        ("2030-01-01", "260", "2009-06-01"),
    ):
        answer = await funding.get(in_force, params={"currency": "EUR", "on": day}, headers=service)
        assert answer.status_code == 200, answer.text
        assert (Decimal(answer.json()["rate_to_djf"]), answer.json()["rate_date"]) == (
            Decimal(rate),
            since,
        )
    djf = await funding.get(
        in_force, params={"currency": "DJF", "on": "2000-01-01"}, headers=service
    )
    assert (Decimal(djf.json()["rate_to_djf"]), djf.json()["rate_date"]) == (1, None)
    early = await funding.get(
        in_force, params={"currency": "EUR", "on": "2007-12-31"}, headers=service
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["path"] == "query.on"
    unknown = await funding.get(
        in_force, params={"currency": "XYZ", "on": "2009-01-01"}, headers=service
    )
    assert unknown.status_code == 422
    registrar = await funding.get(
        in_force,
        params={"currency": "EUR", "on": "2009-01-01"},
        headers=as_role(tokens, "registrar"),
    )
    assert registrar.status_code == 403
