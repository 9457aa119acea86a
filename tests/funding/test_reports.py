"""`GET /reports/funding` on the sample ledger (tests/funding/factories.add_sample_ledger),
against figures worked out by hand (USD at 177.72 DJF, EUR at 193.5 DJF):

- A1, World Bank -> P1, 1,000,000.00 USD signed 2025-03-01 = 177,720,000 DJF; counters
  received 400,000.00, reserved 50,000.00, paid 100,000.00 USD: available 250,000.00 USD
  = 44,430,000 DJF.
- A2, World Bank -> P1, 35,544,000 DJF (200,000.00 USD) signed 2026-02-01; received
  17,772,000, paid 1,777,200: available 15,994,800 DJF = 90,000.00 USD.
- A3, WFP -> P2, 17,772,000 DJF (100,000.00 USD) signed 2026-05-10; received 8,886,000:
  available 8,886,000 DJF = 50,000.00 USD.
- A4, UNICEF -> P2, cancelled: never counted.
- Transactions: T1 in 400,000.00 USD (71,088,000 DJF) 2025; T2 disbursed 26,658,000 DJF
  (150,000.00 USD) 2025; T3 paid 17,772,000 (100,000.00 USD) 2025; T4 in 17,772,000 2026;
  T5 disbursed 3,554,400 (20,000.00 USD) 2026; T6 paid 1,777,200; T7 paid 177,720 and T8
  its reversal (-177,720); T9 in 8,886,000 (A3); T10 disbursed 1,777,200 on P2 without an
  agreement; T11 an incoming commitment (type 11: in no column); T12 disbursed
  10,000.00 EUR (A3) = 1,935,000 DJF = 10,887.91 USD.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import BigInteger, Numeric, literal, select

from services.funding.reports.facts import to_djf, to_usd
from shared.clock import today
from shared.db import Database
from shared.money import Money
from tests.funding.factories import SampleLedger
from tests.funding.payloads import (
    create_agreement,
    eur_rate,
    record_rates,
    record_transaction,
    usd_rate,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

REPORT = "/api/v1/funding/reports/funding"


def djf(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "DJF"}


def usd(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "USD"}


def figures(row: dict[str, Any], measure: str) -> tuple[int, int]:
    return row[measure]["djf"]["amount_minor"], row[measure]["usd"]["amount_minor"]


async def report(
    funding: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await funding.get(REPORT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_by_partner_project_and_year_in_djf_and_usd(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await report(funding, officer, group_by="partner,project,year")
    assert answer["group_by"] == ["partner", "project", "year"]
    keys = [
        (
            (row["partner"] or {}).get("iati_identifier"),
            row["project"]["iati_identifier"],
            row["year"],
        )
        for row in answer["rows"]
    ]
    # Ordered by the partners' and projects' IATI identifiers, then year; no partner last.
    assert keys == [
        ("44000", "44000-P166220", 2025),
        ("44000", "44000-P166220", 2026),
        ("XM-DAC-41140", "XM-DAC-41140-DJ01", 2026),
        (None, "XM-DAC-41140-DJ01", 2026),
    ]
    wb_2025, wb_2026, wfp_2026, no_partner = answer["rows"]
    assert wb_2025["partner"] == {
        "id": str(ledger.organisations["wb"].id),
        "iati_identifier": "44000",
        "name_fr": "Banque mondiale",
        "name_en": "World Bank",
    }
    assert wb_2025["project"]["id"] == str(ledger.projects["P1"].id)

    assert wb_2025["committed"] == {"djf": djf(177_720_000), "usd": usd(100_000_000)}
    assert figures(wb_2025, "received") == (71_088_000, 40_000_000)
    assert figures(wb_2025, "disbursed") == (26_658_000, 15_000_000)
    assert figures(wb_2025, "paid") == (17_772_000, 10_000_000)
    assert wb_2025["disbursement_rate"] == {"value": "0.1500", "reason": None}

    assert figures(wb_2026, "committed") == (35_544_000, 20_000_000)
    assert figures(wb_2026, "received") == (17_772_000, 10_000_000)
    assert figures(wb_2026, "disbursed") == (3_554_400, 2_000_000)
    # T6 + T7 + T8 (T8 reverses T7): the reversal nets out.
    assert figures(wb_2026, "paid") == (1_777_200, 1_000_000)
    assert wb_2026["disbursement_rate"]["value"] == "0.1000"

    assert figures(wfp_2026, "committed") == (17_772_000, 10_000_000)
    assert figures(wfp_2026, "received") == (8_886_000, 5_000_000)
    # 10,000.00 EUR at its value date's rates; the incoming commitment T11 counts nowhere.
    assert figures(wfp_2026, "disbursed") == (1_935_000, 1_088_791)
    assert figures(wfp_2026, "paid") == (0, 0)
    assert wfp_2026["disbursement_rate"]["value"] == "0.1089"  # 1,935,000 / 17,772,000

    # A disbursement without an agreement: no partner, nothing committed, no rate.
    assert no_partner["partner"] is None
    assert figures(no_partner, "committed") == (0, 0)
    assert figures(no_partner, "disbursed") == (1_777_200, 1_000_000)
    assert no_partner["disbursement_rate"] == {
        "value": None,
        "reason": "nothing committed in this group: no rate",
    }

    for row in answer["rows"]:
        assert row["available"] is None, "an agreement's balance has no year"
        assert "in_currency" not in row["committed"]
    total = answer["total"]
    assert set(total) == {
        *("committed", "received", "disbursed", "paid", "available"),
        "disbursement_rate",
    }
    assert figures(total, "committed") == (231_036_000, 130_000_000)
    assert figures(total, "received") == (97_746_000, 55_000_000)
    assert figures(total, "disbursed") == (33_924_600, 19_088_791)
    assert figures(total, "paid") == (19_549_200, 11_000_000)
    # A ratio of the sums (33,924,600 / 231,036,000), not a mean of the rows' rates.
    assert total["disbursement_rate"]["value"] == "0.1468"


async def test_available_is_the_agreements_balance_by_partner(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await report(funding, officer, group_by="partner")
    rows = {(row["partner"] or {}).get("iati_identifier"): row for row in answer["rows"]}
    assert list(rows) == ["44000", "XM-DAC-41140", None]
    # A1 250,000.00 USD (44,430,000 DJF at today's rate, 177.72 since 2025-01-01) + A2
    # 15,994,800 DJF.
    assert figures(rows["44000"], "available") == (60_424_800, 34_000_000)
    assert figures(rows["XM-DAC-41140"], "available") == (8_886_000, 5_000_000)
    assert figures(rows[None], "available") == (0, 0)
    assert figures(answer["total"], "available") == (69_310_800, 39_000_000)
    assert figures(rows["44000"], "committed") == (213_264_000, 120_000_000)
    # 30,212,400 / 213,264,000 = 17/120 = 0.14166...: half up at 4 places.
    assert rows["44000"]["disbursement_rate"]["value"] == "0.1417"

    # Filtered by year, the balance has no meaning either.
    by_year = await report(funding, officer, group_by="partner", year="2026")
    rows_2026 = {(row["partner"] or {}).get("iati_identifier"): row for row in by_year["rows"]}
    assert list(rows_2026) == ["44000", "XM-DAC-41140", None]
    assert all(row["available"] is None for row in rows_2026.values())
    assert by_year["total"]["available"] is None
    assert figures(by_year["total"], "committed") == (53_316_000, 30_000_000)


async def test_available_is_valued_at_today_s_rates(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    # EUR at 193.5 DJF when the agreement is signed (76 days ago), at 200 from 30 days ago,
    # when 4,000.00 EUR are received (20 days ago); USD 177.721 throughout.
    def days_ago(days: int) -> str:
        return (today() - timedelta(days=days)).isoformat()

    await record_rates(
        funding,
        officer,
        usd_rate(days_ago(90)),
        eur_rate(days_ago(90)),
        eur_rate(days_ago(30), "200"),
    )
    agreement = await create_agreement(
        funding,
        officer,
        amount_minor=1_000_000,
        currency="EUR",
        signed_date=days_ago(76),
        period_start=days_ago(76),
        period_end=days_ago(-365),
    )
    await record_transaction(
        funding,
        officer,
        agreement,
        amount_minor=400_000,
        currency="EUR",
        transaction_date=days_ago(20),
        value_date=days_ago(20),
    )

    # Nothing spent and no rate since: what is available is what was received, 4,000.00
    # EUR = 800,000 DJF = 4,501.44 USD (800,000 / 177.721 = 4,501.4377...); not 774,000
    # DJF, the signed date's 193.5 (the commitment's, 10,000.00 EUR = 1,935,000 DJF).
    answer = await report(funding, officer, group_by="partner")
    [row] = answer["rows"]
    assert figures(row, "committed") == (1_935_000, 1_088_785)
    assert figures(row, "received") == (800_000, 450_144)
    assert figures(row, "available") == figures(row, "received")
    assert answer["rates_on"] == today().isoformat()

    # The euro at 210 today: the 4,000.00 EUR held are worth 840,000 DJF = 4,726.51 USD
    # (840,000 / 177.721 = 4,726.5095...), what a payroll approved today could reserve;
    # what was received stays at its own day's rate. A rate from tomorrow is not today's.
    await record_rates(
        funding, officer, eur_rate(days_ago(0), "210"), eur_rate(days_ago(-1), "250")
    )
    [row] = (await report(funding, officer, group_by="partner"))["rows"]
    assert figures(row, "received") == (800_000, 450_144)
    assert figures(row, "available") == (840_000, 472_651)
    by_currency = await report(funding, officer, group_by="currency")
    assert by_currency["rows"][0]["available"]["in_currency"] == {
        "amount_minor": 400_000,
        "currency": "EUR",
    }


async def test_by_currency_adds_the_groups_own_currency(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await report(funding, officer, group_by="currency")
    rows = {row["currency"]: row for row in answer["rows"]}
    assert list(rows) == ["DJF", "EUR", "USD"]
    assert rows["USD"]["committed"] == {
        "djf": djf(177_720_000),
        "usd": usd(100_000_000),
        "in_currency": usd(100_000_000),
    }
    assert rows["USD"]["received"]["in_currency"] == usd(40_000_000)
    assert rows["USD"]["available"]["in_currency"] == usd(25_000_000)
    assert rows["EUR"]["disbursed"] == {
        "djf": djf(1_935_000),
        "usd": usd(1_088_791),
        "in_currency": {"amount_minor": 1_000_000, "currency": "EUR"},
    }
    assert rows["DJF"]["committed"]["in_currency"] == djf(53_316_000)
    assert "in_currency" not in answer["total"]["committed"], "the total mixes currencies"


async def test_filters(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    p2 = str(ledger.projects["P2"].id)
    by_project = await report(funding, officer, group_by="year", project=p2)
    assert [row["year"] for row in by_project["rows"]] == [2026]
    assert figures(by_project["total"], "disbursed") == (1_935_000 + 1_777_200, 2_088_791)
    assert by_project["filters"] == {"project": [p2]}

    wb = str(ledger.organisations["wb"].id)
    wfp = str(ledger.organisations["wfp"].id)
    two = await report(funding, officer, partner=f"{wb},{wfp}", year="2025")
    assert figures(two["total"], "committed") == (177_720_000, 100_000_000)
    assert figures(two["total"], "disbursed") == (26_658_000, 15_000_000)
    assert two["rows"] == []

    eur = await report(funding, officer, currency="EUR")
    assert figures(eur["total"], "disbursed") == (1_935_000, 1_088_791)
    assert figures(eur["total"], "committed") == (0, 0)


async def test_a_partner_sees_only_its_own_agreements(
    funding: httpx.AsyncClient, ledger: SampleLedger, tokens: TokenFactory
) -> None:
    wfp_token = tokens.bearer(sub="client:wfp", roles=["partner"], partner_id="wfp")
    answer = await report(funding, wfp_token, group_by="partner,project")
    assert [row["partner"]["iati_identifier"] for row in answer["rows"]] == ["XM-DAC-41140"]
    # T10 (P2, no agreement) is not WFP's; A4 (UNICEF, cancelled) neither.
    assert figures(answer["total"], "disbursed") == (1_935_000, 1_088_791)
    assert figures(answer["total"], "committed") == (17_772_000, 10_000_000)
    assert figures(answer["total"], "available") == (8_886_000, 5_000_000)
    assert answer["filters"] == {"partner_scope": ["wfp"]}

    wb = str(ledger.organisations["wb"].id)
    refused = await funding.get(REPORT, params={"partner": wb}, headers=wfp_token)
    assert refused.status_code == 403
    own = str(ledger.organisations["wfp"].id)
    assert (
        await funding.get(REPORT, params={"partner": own}, headers=wfp_token)
    ).status_code == 200

    # A partner token whose organisation is not in the ledger sees nothing, not everything.
    stranger = tokens.bearer(sub="client:eu", roles=["partner"], partner_id="eu")
    nothing = await report(funding, stranger, group_by="partner")
    assert nothing["rows"] == []
    assert figures(nothing["total"], "committed") == (0, 0)


async def test_an_analyst_reads_every_figure(
    funding: httpx.AsyncClient, ledger: SampleLedger, tokens: TokenFactory
) -> None:
    answer = await report(funding, as_role(tokens, "analyst"), group_by="partner")
    assert len(answer["rows"]) == 3
    assert figures(answer["total"], "committed") == (231_036_000, 130_000_000)
    assert "partner_scope" not in answer["filters"]


async def test_csv_has_decimal_major_units_and_a_total_line(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    response = await funding.get(
        REPORT, params={"group_by": "partner,year", "format": "csv"}, headers=officer
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    first = lines[0]
    assert first["row"] == "group"
    assert first["partner_iati_identifier"] == "44000"
    assert first["partner_name_fr"] == "Banque mondiale"
    assert first["year"] == "2025"
    assert first["committed_djf"] == "177720000"
    assert first["committed_usd"] == "1000000.00"
    assert first["received_usd"] == "400000.00"
    assert first["available_djf"] == "" and first["available_usd"] == ""
    assert first["disbursement_rate"] == "0.1500"
    no_partner = lines[-2]
    assert no_partner["partner_id"] == ""
    assert no_partner["disbursement_rate"] == ""
    assert no_partner["disbursement_rate_note"] == "nothing committed in this group: no rate"
    total = lines[-1]
    assert total["row"] == "total" and total["partner_id"] == "" and total["year"] == ""
    assert total["disbursed_usd"] == "190887.91"
    assert total["paid_djf"] == "19549200"

    # Accept: text/csv asks for the same file.
    by_accept = await funding.get(
        REPORT, params={"group_by": "partner,year"}, headers={**officer, "Accept": "text/csv"}
    )
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert by_accept.content == response.content


async def test_csv_names_starting_like_formulas_are_quoted(
    funding: httpx.AsyncClient, ledger: SampleLedger, funding_db: Database, officer: dict[str, str]
) -> None:
    async with funding_db.sessionmaker() as session:
        wfp = await session.get(type(ledger.organisations["wfp"]), ledger.organisations["wfp"].id)
        assert wfp is not None
        wfp.name_en = "=1+2"
        wfp.name_fr = "@SUM(A1)"
        await session.commit()
    response = await funding.get(
        REPORT, params={"group_by": "partner", "format": "csv"}, headers=officer
    )
    row = next(
        line
        for line in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
        if line["partner_iati_identifier"] == "XM-DAC-41140"
    )
    assert row["partner_name_en"] == "'=1+2"
    assert row["partner_name_fr"] == "'@SUM(A1)"


async def test_no_grouping_gives_the_total_only(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    answer = await report(funding, officer)
    assert answer["rows"] == []
    assert figures(answer["total"], "committed") == (231_036_000, 130_000_000)
    assert figures(answer["total"], "available") == (69_310_800, 39_000_000)


async def test_an_empty_ledger_has_zeros_and_no_rate(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    answer = await report(funding, officer, group_by="partner,year")
    assert answer["rows"] == []
    assert figures(answer["total"], "committed") == (0, 0)
    assert answer["total"]["disbursement_rate"]["value"] is None


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"group_by": "partner,region"}, "query.group_by"),
        ({"group_by": "year,year"}, "query.group_by"),
        ({"group_by": "partner,"}, "query.group_by"),
        ({"year": "twenty"}, "query.year"),
        ({"year": "1066"}, "query.year"),
        ({"partner": "not-a-uuid"}, "query.partner"),
        ({"project": "1234"}, "query.project"),
        ({"currency": "XYZ"}, "query.currency"),
        ({"format": "xml"}, "query.format"),
        ({"grop_by": "partner"}, "query.grop_by"),
    ],
)
async def test_bad_requests_are_422_naming_the_parameter(
    funding: httpx.AsyncClient, officer: dict[str, str], params: dict[str, str], path: str
) -> None:
    response = await funding.get(REPORT, params=params, headers=officer)
    assert response.status_code == 422, response.text
    assert [error["path"] for error in response.json()["errors"]] == [path]


async def test_unknown_ids_are_422_not_zero(
    funding: httpx.AsyncClient, ledger: SampleLedger, officer: dict[str, str]
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    response = await funding.get(
        REPORT,
        params={"partner": f"{ledger.organisations['wb'].id},{unknown}", "project": unknown},
        headers=officer,
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == ["query.partner", "query.project"]
    assert unknown in errors[0]["message"]
    assert str(ledger.organisations["wb"].id) not in errors[0]["message"]


@pytest.mark.parametrize(
    "role", ["admin", "finance_officer", "finance_approver", "analyst", "partner"]
)
async def test_report_readers(funding: httpx.AsyncClient, tokens: TokenFactory, role: str) -> None:
    response = await funding.get(REPORT, headers=as_role(tokens, role))
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["registrar", "service", "data_manager"])
async def test_other_roles_are_refused(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    assert (await funding.get(REPORT, headers=as_role(tokens, role))).status_code == 403
    assert (await funding.get(REPORT)).status_code == 401


@pytest.mark.parametrize(
    ("amount", "currency", "rate", "usd_rate"),
    [
        (25, "USD", "177.72", "177.72"),
        (1, "DJF", "1", "177.72"),
        (-1, "DJF", "1", "177.72"),
        (8886, "DJF", "1", "177.7210000001"),
        (5, "DJF", "1", "10"),  # 0.50 USD exactly
        (-5, "DJF", "1", "10"),
        (1, "EUR", "193.5", "177.72"),  # 1.935 DJF: half a franc and more
        (3, "KWD", "575.1234567891", "177.72"),
        (12345, "JPY", "1.1999999999", "177.72"),
        (9_000_000_000_000, "USD", "177.7212345678", "177.7298765432"),
    ],
)
async def test_the_sql_conversions_round_as_the_one_rule_does(
    funding_db: Database, amount: int, currency: str, rate: str, usd_rate: str
) -> None:
    """The report converts agreements' balances in SQL: it must give what Money does."""
    async with funding_db.sessionmaker() as session:
        values = (
            literal(amount, BigInteger),
            literal(currency),
            literal(Decimal(rate), Numeric(20, 10)),
            literal(Decimal(usd_rate), Numeric(20, 10)),
        )
        in_djf, in_usd = (await session.execute(select(to_djf(*values[:3]), to_usd(*values)))).one()
    money = Money(amount, currency)
    assert in_djf == money.convert_through(Decimal(rate), 1, "DJF").amount_minor
    assert in_usd == money.convert_through(Decimal(rate), Decimal(usd_rate), "USD").amount_minor
