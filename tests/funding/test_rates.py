"""Exchange rates: recorded once per currency and date, uploaded a year at a time, and the
one conversion rule every amount follows."""

from __future__ import annotations

from decimal import Decimal

import httpx

from shared.money import Money
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

RATES = "/api/v1/funding/exchange-rates"


async def test_a_rate_is_recorded_once_per_currency_and_date(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    body = {"currency": "USD", "rate_date": "2026-01-01", "rate_to_djf": "177.721", "source": "BCD"}
    created = await funding.post(RATES, json=body, headers=officer)
    assert created.status_code == 201, created.text
    assert Decimal(str(created.json()["rate_to_djf"])) == Decimal("177.721")
    again = await funding.post(RATES, json={**body, "rate_to_djf": "178"}, headers=officer)
    assert again.status_code == 409
    assert again.json()["existing_rate"] == "177.7210000000"


async def test_bad_rates_are_refused_naming_the_field(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    base = {"currency": "USD", "rate_date": "2026-01-01", "rate_to_djf": "177.721", "source": "BCD"}
    for change, path in (
        ({"currency": "XYZ"}, "body.currency"),
        ({"currency": "DJF"}, "body.currency"),
        ({"rate_to_djf": "0"}, "body.rate_to_djf"),
        ({"rate_to_djf": "-1"}, "body.rate_to_djf"),
        ({"rate_date": "2026-02-30"}, "body.rate_date"),
    ):
        response = await funding.post(RATES, json={**base, **change}, headers=officer)
        assert response.status_code == 422, change
        assert path in [error["path"] for error in response.json()["errors"]], change


async def test_a_year_of_rates_uploads_all_or_nothing(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    good = (
        "currency,rate_date,rate_to_djf,source\n"
        "USD,2026-01-01,177.721,BCD\n"
        "EUR,2026-01-01,193.5,BCD\n"
    )
    uploaded = await funding.post(
        f"{RATES}/upload", files={"file": ("rates.csv", good.encode(), "text/csv")}, headers=officer
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["created"] == 2

    # The same file again changes nothing; a row with another rate refuses the whole file.
    again = await funding.post(
        f"{RATES}/upload", files={"file": ("rates.csv", good.encode(), "text/csv")}, headers=officer
    )
    assert again.json() | {"rates": []} == {"created": 0, "unchanged": 2, "rates": []}
    bad = (
        "currency;rate_date;rate_to_djf;source\nGBP;2026-01-01;225,4;BCD\nUSD;2026-01-01;180;BCD\n"
    )
    refused = await funding.post(
        f"{RATES}/upload", files={"file": ("rates.csv", bad.encode(), "text/csv")}, headers=officer
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["path"] == "file.row.3"
    listed = (await funding.get(RATES, params={"currency": "GBP"}, headers=officer)).json()
    assert listed["items"] == [], "nothing of a refused file is kept"

    unreadable = "currency,rate_date,rate_to_djf,source\nUSD,01/13/2026,abc,BCD\n"
    invalid = await funding.post(
        f"{RATES}/upload",
        files={"file": ("rates.csv", unreadable.encode(), "text/csv")},
        headers=officer,
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["path"] == "file.row.2"


async def test_only_finance_officers_record_rates(
    funding: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    body = {"currency": "USD", "rate_date": "2026-01-01", "rate_to_djf": "177.721", "source": "BCD"}
    for role in ("analyst", "finance_approver", "registrar"):
        refused = await funding.post(RATES, json=body, headers=as_role(tokens, role))
        assert refused.status_code == 403, role


def test_conversions_go_through_djf_and_round_once_half_away_from_zero() -> None:
    usd = Decimal("177.721")
    # 30,000 DJF is 168.8042... USD: 168.80.
    assert Money(30_000, "DJF").convert_through(1, usd, "USD") == Money(16880, "USD")
    # 1 USD at 177.5 DJF is 177.5 DJF: half a franc, rounded up, and down when negative.
    assert Money(100, "USD").convert_through(Decimal("177.5"), 1, "DJF") == Money(178, "DJF")
    assert Money(-100, "USD").convert_through(Decimal("177.5"), 1, "DJF") == Money(-178, "DJF")
    # EUR to USD through DJF, exactly: 100.00 EUR at 193.5 and 177.721 DJF is 108.88 USD.
    assert Money(10_000, "EUR").convert_through(Decimal("193.5"), usd, "USD") == Money(10888, "USD")
