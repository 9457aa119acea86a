"""`GET /stats` and `/stats/catalog` on the sample ledger (tests/funding/factories), with
the figures worked out by hand (the ledger's are in tests/funding/test_reports.py):

- C1 pnsf 2026Q1 on A2 (World Bank), closed: DJ-DJ paid x3, DJ-AS paid, DJ-AS failed,
  30,000 DJF each.
- C2 pnsf 2026Q2 on A2, draft: DJ-DJ pending x2 (30,000 DJF).
- C3 amu 2026Q2 on A3 (WFP), still building: its line never counts.
- C4 refugee-cash 2026Q2 on A3, in USD, approved at 177.72 DJF: DJ-OB paid 10.00 USD
  (1,777.2 -> 1,777 DJF) and 2.50 USD (444.3 -> 444 DJF).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.funding.factories import SampleLedger
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

STATS = "/api/v1/funding/stats"


async def stats(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str = "finance_officer", **params: Any
) -> dict[str, Any]:
    response = await funding.get(STATS, params=params, headers=as_role(tokens, role))
    assert response.status_code == 200, response.text
    return response.json()


def values(answer: dict[str, Any]) -> dict[Any, int]:
    """rows as {dimension value (a tuple when several): value}, in the order returned."""
    result: dict[Any, int] = {}
    for row in answer["rows"]:
        key = tuple(row[name] for name in answer["group_by"])
        result[key[0] if len(key) == 1 else key] = row["value"]
    return result


# --- payment measures -----------------------------------------------------------------------


async def test_payment_lines_by_region_count_lines_of_built_payrolls(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    answer = await stats(funding, tokens, measure="payment_lines", group_by="region")
    assert values(answer) == {"DJ-AS": 2, "DJ-DJ": 5, "DJ-OB": 2}  # C3's DJ-TA line: no
    assert answer["total"] == 9
    assert answer["measure"] == "payment_lines"
    assert answer["filters"] == {}

    # Households paid by region: the lines paid.
    paid = await stats(
        funding, tokens, measure="payment_lines", group_by="region", line_status="paid"
    )
    assert values(paid) == {"DJ-AS": 1, "DJ-DJ": 3, "DJ-OB": 2}
    assert paid["total"] == 6
    assert paid["filters"] == {"line_status": ["paid"]}


async def test_payment_amounts_are_djf_minor_units(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    by_programme = await stats(funding, tokens, measure="payment_amount", group_by="programme")
    # pnsf 7 x 30,000; refugee-cash 1,777 + 444 (USD lines at the payroll's approval rate).
    assert values(by_programme) == {"pnsf": 210_000, "refugee-cash": 2_221}
    assert by_programme["total"] == 212_221

    by_status = await stats(funding, tokens, measure="payment_amount", group_by="line_status")
    assert values(by_status) == {"failed": 30_000, "paid": 122_221, "pending": 60_000}

    two = await stats(
        funding, tokens, measure="payment_lines", group_by="period,programme", region="DJ-DJ,DJ-OB"
    )
    assert values(two) == {
        ("2026Q1", "pnsf"): 3,
        ("2026Q2", "pnsf"): 2,
        ("2026Q2", "refugee-cash"): 2,
    }


async def test_payment_lines_by_partner_project_year_and_currency(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    by_partner = await stats(funding, tokens, measure="payment_lines", group_by="partner,project")
    assert values(by_partner) == {
        ("44000", "44000-P166220"): 7,
        ("XM-DAC-41140", "XM-DAC-41140-DJ01"): 2,
    }
    filtered = await stats(funding, tokens, measure="payment_lines", partner="XM-DAC-41140")
    assert filtered["total"] == 2
    assert filtered["rows"] == [{"value": 2}]
    assert values(await stats(funding, tokens, measure="payment_lines", group_by="year")) == {
        2026: 9
    }
    by_currency = await stats(funding, tokens, measure="payment_lines", group_by="currency")
    assert values(by_currency) == {"DJF": 7, "USD": 2}


# --- ledger measures ------------------------------------------------------------------------


async def test_ledger_measures_are_the_reports_figures(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    committed = await stats(funding, tokens, measure="committed", group_by="partner")
    # UNICEF's agreement is cancelled: no group.
    assert values(committed) == {"44000": 213_264_000, "XM-DAC-41140": 17_772_000}
    assert committed["total"] == 231_036_000

    disbursed = await stats(funding, tokens, measure="disbursed", group_by="partner,year")
    assert values(disbursed) == {
        ("44000", 2025): 26_658_000,
        ("44000", 2026): 3_554_400,
        ("XM-DAC-41140", 2026): 1_935_000,
        (None, 2026): 1_777_200,  # no agreement: no partner, last
    }
    assert disbursed["total"] == 33_924_600

    committed_usd = await stats(funding, tokens, measure="committed_usd", group_by="year")
    assert values(committed_usd) == {2025: 100_000_000, 2026: 30_000_000}

    paid = await stats(funding, tokens, measure="paid", group_by="partner")
    assert values(paid) == {"44000": 19_549_200}  # T6 + T7 + T8 (a reversal) + T3
    assert (await stats(funding, tokens, measure="paid_usd"))["total"] == 11_000_000

    received = await stats(funding, tokens, measure="received", group_by="currency")
    assert values(received) == {"DJF": 26_658_000, "USD": 71_088_000}
    assert (await stats(funding, tokens, measure="received_usd"))["total"] == 55_000_000

    by_project = await stats(
        funding, tokens, measure="disbursed_usd", project="XM-DAC-41140-DJ01", year="2026"
    )
    assert by_project["total"] == 1_000_000 + 1_088_791
    assert by_project["filters"] == {"project": ["XM-DAC-41140-DJ01"], "year": [2026]}


async def test_as_of_limits_the_ledger_to_what_was_dated_by_then(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    committed = await stats(funding, tokens, measure="committed", as_of="2025-12-31")
    assert committed["total"] == 177_720_000
    assert committed["as_of"] == "2025-12-31"
    disbursed = await stats(funding, tokens, measure="disbursed", as_of="2026-03-01")
    assert disbursed["total"] == 26_658_000 + 3_554_400  # T5 is dated 2026-03-01
    # Payment lines are today's, whatever as_of says.
    lines = await stats(funding, tokens, measure="payment_lines", as_of="2025-01-01")
    assert lines["total"] == 9


async def test_an_empty_ledger_counts_zero(
    funding: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    answer = await stats(funding, tokens, measure="committed", group_by="partner")
    assert answer == {**answer, "rows": [], "total": 0}
    lines = await stats(funding, tokens, measure="payment_lines")
    assert lines["rows"] == [{"value": 0}]


# --- access and disclosure ------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["admin", "finance_officer", "finance_approver", "analyst", "service"]
)
async def test_stats_readers(funding: httpx.AsyncClient, tokens: TokenFactory, role: str) -> None:
    headers = as_role(tokens, role)
    response = await funding.get(STATS, params={"measure": "payment_lines"}, headers=headers)
    assert response.status_code == 200
    assert (await funding.get(f"{STATS}/catalog", headers=headers)).status_code == 200


@pytest.mark.parametrize("role", ["partner", "registrar", "data_manager"])
async def test_other_roles_are_refused(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    headers = as_role(tokens, role)
    response = await funding.get(STATS, params={"measure": "payment_lines"}, headers=headers)
    assert response.status_code == 403
    assert (await funding.get(f"{STATS}/catalog", headers=headers)).status_code == 403
    assert (await funding.get(STATS, params={"measure": "payment_lines"})).status_code == 401


async def test_answers_hold_no_payee(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    answers = [
        await funding.get(
            STATS,
            params={"measure": measure, "group_by": group_by},
            headers=as_role(tokens, "analyst"),
        )
        for measure in ("payment_lines", "payment_amount")
        for group_by in ("programme,region,period,line_status,partner", "project,year,currency")
    ]
    answers.append(await funding.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst")))
    cycle_lines = [str(cycle.id) for cycle in ledger.cycles.values()]
    for response in answers:
        assert response.status_code == 200, response.text
        for secret in [*ledger.secrets, *cycle_lines]:
            assert secret not in response.text
        for row in response.json().get("rows", []):
            assert set(row) <= {*response.json()["group_by"], "value", "suppressed"}
            # A figure, or withheld (the sample's cells are small); never the line count.
            assert isinstance(row["value"], int) or row == {
                **row,
                "value": None,
                "suppressed": True,
            }


# --- bad requests ---------------------------------------------------------------------------


def problem_paths(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [error["path"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({}, "query.measure"),
        ({"measure": "households"}, "query.measure"),
        ({"measure": "payment_lines", "group_by": "region,sex"}, "query.group_by"),
        ({"measure": "payment_lines", "group_by": "region,region"}, "query.group_by"),
        ({"measure": "payment_lines", "group_by": "region,"}, "query.group_by"),
        (
            {
                "measure": "payment_lines",
                "group_by": "programme,region,period,line_status,partner,year",
            },
            "query.group_by",
        ),
        # Dimensions (and filters) that do not apply to the measure.
        ({"measure": "committed", "group_by": "region"}, "query.group_by"),
        ({"measure": "disbursed", "group_by": "partner,line_status"}, "query.group_by"),
        ({"measure": "received", "line_status": "paid"}, "query.line_status"),
        ({"measure": "paid_usd", "programme": "pnsf"}, "query.programme"),
        ({"measure": "committed", "period": "2026Q1"}, "query.period"),
        # Unknown values.
        ({"measure": "payment_lines", "region": "DJ-XX"}, "query.region"),
        ({"measure": "payment_lines", "line_status": "lost"}, "query.line_status"),
        ({"measure": "payment_lines", "region": ""}, "query.region"),
        ({"measure": "committed", "currency": "ABC"}, "query.currency"),
        ({"measure": "committed", "year": "last"}, "query.year"),
        ({"measure": "committed", "year": "20260"}, "query.year"),
        ({"measure": "committed", "as_of": "2026-02-30"}, "query.as_of"),
        ({"measure": "committed", "partnr": "44000"}, "query.partnr"),
    ],
)
async def test_invalid_requests_are_422_with_the_parameter(
    funding: httpx.AsyncClient, tokens: TokenFactory, params: dict[str, str], path: str
) -> None:
    response = await funding.get(STATS, params=params, headers=as_role(tokens, "analyst"))
    assert problem_paths(response) == [path]


async def test_unknown_partners_projects_and_programmes_are_422_not_zero(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    headers = as_role(tokens, "analyst")
    response = await funding.get(
        STATS,
        params={"measure": "payment_lines", "partner": "44000,44001", "programme": "pnsf,pnfs"},
        headers=headers,
    )
    assert sorted(problem_paths(response)) == ["query.partner", "query.programme"]
    messages = " ".join(error["message"] for error in response.json()["errors"])
    assert "44001" in messages and "pnfs" in messages
    assert "pnsf," not in messages

    project = await funding.get(
        STATS, params={"measure": "committed", "project": "44000-P000000"}, headers=headers
    )
    assert problem_paths(project) == ["query.project"]
    # A programme the ledger knows only from a project (no payroll yet) is known.
    known = await funding.get(
        STATS,
        params={"measure": "payment_lines", "programme": "refugee-cash"},
        headers=as_role(tokens, "finance_officer"),
    )
    assert known.status_code == 200
    assert known.json()["total"] == 2


# --- catalogue ------------------------------------------------------------------------------


async def test_the_catalogue_lists_measures_dimensions_values_and_filters(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    response = await funding.get(f"{STATS}/catalog", headers=as_role(tokens, "service"))
    assert response.status_code == 200
    catalog = response.json()
    measures = {m["name"]: m for m in catalog["measures"]}
    assert list(measures) == [
        *("payment_lines", "payment_amount", "committed", "received", "disbursed", "paid"),
        *("committed_usd", "received_usd", "disbursed_usd", "paid_usd"),
    ]
    assert measures["payment_lines"]["kind"] == "count"
    assert measures["payment_amount"]["unit"] == "DJF minor units (francs)"
    assert measures["disbursed_usd"]["unit"] == "USD minor units (cents)"
    payment_dimensions = [
        *("programme", "region", "period", "line_status"),
        *("partner", "project", "year", "currency"),
    ]
    assert measures["payment_amount"]["dimensions"] == payment_dimensions
    assert measures["committed"]["dimensions"] == ["partner", "project", "year", "currency"]
    assert catalog["max_dimensions"] == 5

    dimensions = {d["name"]: d for d in catalog["dimensions"]}
    assert list(dimensions) == payment_dimensions
    assert dimensions["region"]["measures"] == ["payment_lines", "payment_amount"]
    assert len(dimensions["year"]["measures"]) == 10

    def listed(name: str) -> list[Any]:
        return [value["value"] for value in dimensions[name]["values"]]

    assert listed("region") == ["DJ-AR", "DJ-AS", "DJ-DI", "DJ-DJ", "DJ-OB", "DJ-TA"]
    assert {"value": "DJ-AS", "label": "Ali Sabieh", "id": None} in dimensions["region"]["values"]
    assert listed("line_status") == ["pending", "paid", "failed", "reversed", "cancelled"]
    # Programmes the ledger knows: financed by a project, or paid by a payroll.
    assert listed("programme") == ["amu", "pnsf", "refugee-cash"]
    assert listed("partner") == [
        *("44000", "DJ-COMPANY-DMONEY", "DJ-GOV-ADDS", "XM-DAC-41122", "XM-DAC-41140")
    ]
    assert dimensions["partner"]["values"][0] == {
        "value": "44000",
        "label": "World Bank",
        "id": str(ledger.organisations["wb"].id),
    }
    assert listed("project") == ["44000-P166220", "XM-DAC-41140-DJ01"]
    assert {"value": "DJF", "label": "Djiboutian Franc", "id": None} in dimensions["currency"][
        "values"
    ]
    assert "XXX" not in listed("currency") and "USD" in listed("currency")
    assert dimensions["period"]["values"] is None
    assert dimensions["year"]["values"] is None

    filters = {f["name"]: f["type"] for f in catalog["filters"]}
    assert filters == {name: "list[string]" for name in dimensions} | {"year": "list[integer]"}
