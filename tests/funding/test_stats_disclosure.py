"""Small-cell protection of funding's `GET /stats`: payment lines are households paid, so an
analyst gets small cells withheld (amounts with their lines), by the same rule as the
registry's (shared/disclosure.py); finance staff and INDS services get exact figures, and
the ledger's figures (agreements, transactions) are exact for everyone.

The sample ledger's built payment lines (tests/funding/test_stats.py): DJ-DJ 5 (pnsf),
DJ-AS 2 (pnsf), DJ-OB 2 (refugee-cash, USD: 1,777 + 444 DJF); pnsf lines 30,000 DJF each.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.funding.app import create_app
from shared.db import Database
from tests.funding.factories import SampleLedger
from tests.support.apps import serve
from tests.support.funding import funding_settings
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

STATS = "/api/v1/funding/stats"


async def answer(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str, **params: Any
) -> dict[str, Any]:
    response = await funding.get(STATS, params=params, headers=as_role(tokens, role))
    assert response.status_code == 200, response.text
    return response.json()


def values(answer: dict[str, Any]) -> dict[Any, int | None]:
    result: dict[Any, int | None] = {}
    for row in answer["rows"]:
        key = tuple(row[name] for name in answer["group_by"])
        result[key[0] if len(key) == 1 else key] = row["value"]
        assert row.get("suppressed", False) is (row["value"] is None)
    return result


async def test_an_analyst_gets_households_paid_protected(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    lines = await answer(funding, tokens, "analyst", measure="payment_lines", group_by="region")
    # DJ-AS and DJ-OB are small, and 2 + 2 is still a small group: DJ-DJ goes with them.
    assert values(lines) == {"DJ-AS": None, "DJ-DJ": None, "DJ-OB": None}
    assert lines["total"] == 9
    assert lines["disclosure_control"] == {
        "threshold": 5,
        "suppressed_rows": 3,
        "total_suppressed": False,
    }

    # Amounts go with their lines: refugee-cash's two lines, and pnsf as its complement
    # (else the total less pnsf gives refugee-cash's amount, and so its lines' amounts).
    amounts = await answer(
        funding, tokens, "analyst", measure="payment_amount", group_by="programme"
    )
    assert values(amounts) == {"pnsf": None, "refugee-cash": None}
    assert amounts["total"] == 212_221
    assert all("units" not in row for row in amounts["rows"])

    obock = await answer(funding, tokens, "analyst", measure="payment_amount", region="DJ-OB")
    assert obock["rows"] == [{"value": None, "suppressed": True}]
    assert obock["total"] is None
    assert obock["disclosure_control"]["total_suppressed"] is True

    big_enough = await answer(funding, tokens, "analyst", measure="payment_lines", programme="pnsf")
    assert big_enough["total"] == 7
    assert big_enough["rows"] == [{"value": 7}]


@pytest.mark.parametrize("role", ["finance_officer", "finance_approver", "admin", "service"])
async def test_finance_staff_and_services_get_exact_figures(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger, role: str
) -> None:
    lines = await answer(funding, tokens, role, measure="payment_lines", group_by="region")
    assert values(lines) == {"DJ-AS": 2, "DJ-DJ": 5, "DJ-OB": 2}
    assert lines["disclosure_control"] is None
    amounts = await answer(funding, tokens, role, measure="payment_amount", group_by="programme")
    assert values(amounts) == {"pnsf": 210_000, "refugee-cash": 2_221}
    assert all(set(row) == {"programme", "value"} for row in amounts["rows"])


async def test_ledger_figures_are_exact_for_analysts(
    funding: httpx.AsyncClient, tokens: TokenFactory, ledger: SampleLedger
) -> None:
    committed = await answer(funding, tokens, "analyst", measure="committed", group_by="partner")
    assert values(committed) == {"44000": 213_264_000, "XM-DAC-41140": 17_772_000}
    assert committed["disclosure_control"] is None


async def test_the_threshold_setting_is_honoured_and_published(
    funding: httpx.AsyncClient,
    tokens: TokenFactory,
    ledger: SampleLedger,
    funding_db: Database,
) -> None:
    catalog = (await funding.get(f"{STATS}/catalog", headers=as_role(tokens, "analyst"))).json()
    assert catalog["disclosure_control"]["threshold"] == 5
    assert catalog["disclosure_control"]["applies_to_caller"] is True
    assert "payment_lines" in catalog["disclosure_control"]["rule"]

    app = create_app(funding_settings(tokens, stats_suppression_threshold=2))
    async with serve(app, funding_db, "http://funding.test") as lower:
        lines = await answer(lower, tokens, "analyst", measure="payment_lines", group_by="region")
        assert values(lines) == {"DJ-AS": 2, "DJ-DJ": 5, "DJ-OB": 2}
        assert lines["disclosure_control"]["threshold"] == 2
        catalog = (await lower.get(f"{STATS}/catalog", headers=as_role(tokens, "service"))).json()
        assert catalog["disclosure_control"] == {
            **catalog["disclosure_control"],
            "threshold": 2,
            "applies_to_caller": False,
        }
