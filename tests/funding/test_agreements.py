"""Agreements: a funder's commitment valued at its signed date's rates, its tranches, its
status (never closed over money reserved for payrolls) and its balance."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from services.funding.agreements import ledger
from services.funding.models import AuditEvent, PaymentCycle
from shared.db import Database
from tests.funding.payloads import (
    AGREEMENTS,
    agreement_body,
    balance_of,
    create_agreement,
    create_organisation,
    create_project,
    eur_rate,
    funded_agreement,
    record_rates,
    record_transaction,
    usd_rate,
)
from tests.support.tokens import TokenFactory

MISSING = "6f1c1c1e-1c1c-4c1c-8c1c-1c1c1c1c1c1c"


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


async def _reserve(funding_db: Database, agreement: dict[str, Any], amount_minor: int) -> None:
    """What approving a payroll does: the cycle is approved and its total reserved."""
    async with funding_db.sessionmaker() as session:
        session.add(
            PaymentCycle(
                programme_code="pnsf",
                period="2026Q1",
                agreement_id=uuid.UUID(agreement["id"]),
                currency=agreement["currency"],
                benefit_minor=amount_minor,
                status="approved",
                build_status="built",
                reserved_minor=amount_minor,
                created_by="user:finance_officer",
            )
        )
        assert await ledger.reserve(session, uuid.UUID(agreement["id"]), amount_minor)
        await session.commit()


async def test_a_commitment_is_valued_at_its_signed_date_with_the_rates_shown(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    await record_rates(funding, officer, usd_rate("2026-01-01"), usd_rate("2026-02-01", "180"))
    tranches = [
        {"due_date": "2027-01-31", "amount": _money(700_000_000, "USD")},
        {"due_date": "2026-03-31", "amount": _money(800_000_000, "USD")},
    ]
    agreement = await create_agreement(funding, officer, tranches=tranches)
    assert agreement["status"] == "active"
    assert agreement["amount"] == _money(1_500_000_000, "USD")
    # 15,000,000.00 USD at 177.721 DJF (the rate of 2026-01-01, in force on 2026-01-15).
    assert agreement["committed_djf"] == _money(2_665_815_000, "DJF")
    assert agreement["committed_usd"] == _money(1_500_000_000, "USD")
    assert [
        (r["currency"], r["rate_date"], Decimal(r["rate_to_djf"])) for r in agreement["rates"]
    ] == [
        ("USD", "2026-01-01", Decimal("177.721")),
        ("USD", "2026-01-01", Decimal("177.721")),
    ]
    assert [t["due_date"] for t in agreement["tranches"]] == ["2026-03-31", "2027-01-31"]

    shown = await funding.get(f"{AGREEMENTS}/{agreement['id']}", headers=officer)
    assert shown.headers["etag"] == '"v1"'
    assert shown.json() == agreement
    zero = _money(0, "USD")
    assert await balance_of(funding, officer, agreement) == {
        "agreement_id": agreement["id"],
        "status": "active",
        "currency": "USD",
        "committed": _money(1_500_000_000, "USD"),
        "received": zero,
        "reserved": zero,
        "paid": zero,
        "available": zero,
        "open_cycles": 0,
    }


async def test_a_djf_commitment_needs_no_rate_of_its_own_but_one_for_usd(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    funder = await create_organisation(funding, officer)
    project = await create_project(funding, officer, funder)
    body = agreement_body(project, funder, amount_minor=30_000_000, currency="DJF")
    no_usd = await funding.post(AGREEMENTS, json=body, headers=officer)
    assert no_usd.status_code == 422, no_usd.text
    assert no_usd.json()["type"].endswith("/no-exchange-rate")

    await record_rates(funding, officer, usd_rate())
    agreement = await create_agreement(
        funding, officer, project, funder, amount_minor=30_000_000, currency="DJF"
    )
    assert agreement["committed_djf"] == _money(30_000_000, "DJF")
    assert agreement["committed_usd"] == _money(16_880_391, "USD")
    assert agreement["rates"][0] == {"currency": "DJF", "rate_date": None, "rate_to_djf": "1"}


async def test_bad_agreements_are_refused_naming_the_field_and_nothing_is_saved(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    await record_rates(funding, officer, usd_rate())
    funder = await create_organisation(funding, officer)
    project = await create_project(funding, officer, funder)
    for change, path in (
        ({"amount": _money(0, "USD")}, "body.amount.amount_minor"),
        ({"amount": _money(-5, "USD")}, "body.amount.amount_minor"),
        ({"amount": {"amount_minor": 1.5, "currency": "DJF"}}, "body.amount.amount_minor"),
        ({"amount": {"amount_minor": "100", "currency": "USD"}}, "body.amount.amount_minor"),
        ({"amount": _money(2**63, "USD")}, "body.amount.amount_minor"),
        ({"amount": _money(2**63 - 1, "USD")}, "body.amount"),  # too large once in DJF
        ({"amount": _money(100, "XYZ")}, "body.amount.currency"),
        ({"amount": _money(100, "usd")}, "body.amount.currency"),
        ({"amount": {"amount_minor": 100}}, "body.amount.currency"),
        ({"signed_date": "2025-12-31"}, "body.signed_date"),
        ({"signed_date": "15/01/2026"}, "body.signed_date"),
        ({"period_start": "2026-06-01", "period_end": "2026-01-01"}, "body.period_end"),
        ({"project_id": MISSING}, "body.project_id"),
        ({"funder_id": MISSING}, "body.funder_id"),
        ({"reference": ""}, "body.reference"),
        ({"reference": "IDA\nD7420"}, "body.reference"),
        (
            {"tranches": [{"due_date": "2026-06-30", "amount": _money(100, "EUR")}]},
            "body.tranches.0.amount",
        ),
        (
            {"tranches": [{"due_date": "2026-06-30", "amount": _money(0, "USD")}]},
            "body.tranches.0.amount.amount_minor",
        ),
        (
            {"tranches": [{"due_date": "2026-06-30", "amount": _money(1_000_000_000, "USD")}] * 2},
            "body.tranches",
        ),
    ):
        body = agreement_body(project, funder, **change)
        response = await funding.post(AGREEMENTS, json=body, headers=officer)
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert path in [error["path"] for error in response.json()["errors"]], (
            change,
            response.text,
        )
    listed = await funding.get(AGREEMENTS, headers=officer)
    assert listed.json()["items"] == []

    no_rate = await funding.post(
        AGREEMENTS, json=agreement_body(project, funder, signed_date="2025-12-31"), headers=officer
    )
    assert no_rate.json()["type"].endswith("/no-exchange-rate")
    await create_agreement(funding, officer, project, funder)
    taken = await funding.post(AGREEMENTS, json=agreement_body(project, funder), headers=officer)
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["path"] == "body.reference"


async def test_a_retried_post_with_the_same_key_commits_once(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    await record_rates(funding, officer, usd_rate())
    funder = await create_organisation(funding, officer)
    project = await create_project(funding, officer, funder)
    headers = officer | {"Idempotency-Key": "ida-d7420"}
    body = agreement_body(project, funder)
    first = await funding.post(AGREEMENTS, json=body, headers=headers)
    again = await funding.post(AGREEMENTS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    for header in ("location", "etag"):
        assert again.headers[header] == first.headers[header], header
    listed = await funding.get(AGREEMENTS, headers=officer)
    assert len(listed.json()["items"]) == 1


async def test_changes_need_if_match_revalue_the_commitment_and_keep_tranches_within_it(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    await record_rates(funding, officer, usd_rate(), eur_rate())
    tranches = [{"due_date": "2026-06-30", "amount": _money(500_000_000, "USD")}]
    agreement = await create_agreement(funding, officer, tranches=tranches)
    url = f"{AGREEMENTS}/{agreement['id']}"
    assert (await funding.patch(url, json={"reference": "X"}, headers=officer)).status_code == 428
    stale = await funding.patch(url, json={"reference": "X"}, headers=officer | {"If-Match": "v9"})
    assert stale.status_code == 412
    v1 = officer | {"If-Match": '"v1"'}

    too_low = await funding.patch(url, json={"amount": _money(400_000_000, "USD")}, headers=v1)
    assert too_low.status_code == 422
    assert too_low.json()["errors"][0]["path"] == "body.amount"
    raised = await funding.patch(url, json={"amount": _money(2_000_000_000, "USD")}, headers=v1)
    assert raised.status_code == 200, raised.text
    assert raised.headers["etag"] == '"v2"'
    assert raised.json()["committed_djf"] == _money(3_554_420_000, "DJF")
    v2 = officer | {"If-Match": '"v2"'}

    euros = await funding.patch(url, json={"amount": _money(100_000_000, "EUR")}, headers=v2)
    assert euros.status_code == 422, "the tranches are in USD"
    assert euros.json()["errors"][0]["path"] == "body.tranches"
    in_euros = {
        "amount": _money(100_000_000, "EUR"),
        "tranches": [{"due_date": "2026-06-30", "amount": _money(50_000_000, "EUR")}],
    }
    euros = await funding.patch(url, json=in_euros, headers=v2)
    assert euros.status_code == 200, euros.text
    assert (euros.json()["currency"], euros.json()["committed_usd"]) == (
        "EUR",
        _money(108_878_523, "USD"),
    )
    assert euros.json()["tranches"][0]["amount"] == _money(50_000_000, "EUR")

    await record_transaction(funding, officer, euros.json(), amount_minor=1000, currency="EUR")
    back = await funding.patch(
        url,
        json={"amount": _money(100_000_000, "USD"), "tranches": []},
        headers=officer | {"If-Match": '"v3"'},
    )
    assert back.status_code == 409, "money is recorded in EUR on it"


async def test_closing_or_cancelling_over_reserved_money_is_refused(
    funding: httpx.AsyncClient, officer: dict[str, str], funding_db: Database
) -> None:
    agreement = await funded_agreement(funding, officer, received_minor=100_000)
    await _reserve(funding_db, agreement, 60_000)
    url = f"{AGREEMENTS}/{agreement['id']}"
    v1 = officer | {"If-Match": '"v1"'}
    for status in ("closed", "cancelled"):
        refused = await funding.patch(url, json={"status": status}, headers=v1)
        assert refused.status_code == 409, status
        assert refused.json()["type"].endswith("/funds-reserved")
    balance = await balance_of(funding, officer, agreement)
    assert (balance["status"], balance["reserved"]["amount_minor"]) == ("active", 60_000)
    assert balance["available"] == _money(40_000, "USD")
    assert balance["open_cycles"] == 1

    async with funding_db.sessionmaker() as session:
        await ledger.settle(session, uuid.UUID(agreement["id"]), paid=60_000)
        await session.commit()
    closed = await funding.patch(url, json={"status": "closed"}, headers=v1)
    assert closed.status_code == 200, closed.text
    v2 = officer | {"If-Match": '"v2"'}
    renamed = await funding.patch(url, json={"reference": "OTHER"}, headers=v2)
    assert renamed.status_code == 409, "a closed agreement changes only its status"
    reopened = await funding.patch(url, json={"status": "active"}, headers=v2)
    assert reopened.json()["status"] == "active"
    cancelled = await funding.patch(
        url, json={"status": "cancelled"}, headers=officer | {"If-Match": '"v3"'}
    )
    assert cancelled.json()["status"] == "cancelled"
    final = await funding.patch(
        url, json={"status": "active"}, headers=officer | {"If-Match": "v4"}
    )
    assert final.status_code == 409, "cancelled is final"
    async with funding_db.sessionmaker() as session:
        held = await ledger.reserve(session, uuid.UUID(agreement["id"]), 1)
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.resource_id == uuid.UUID(agreement["id"]))
                .order_by(AuditEvent.id)
            )
        ).all()
    assert not held, "a cancelled agreement has nothing to reserve"
    assert [event.action for event in events] == ["create", "update", "update", "update"]
    assert [(e.detail["before"]["status"], e.detail["after"]["status"]) for e in events[1:]] == [
        ("active", "closed"),
        ("closed", "active"),
        ("active", "cancelled"),
    ]


async def test_a_partner_sees_the_agreements_its_organisation_funds(
    funding: httpx.AsyncClient, officer: dict[str, str], tokens: TokenFactory
) -> None:
    await record_rates(funding, officer, usd_rate())
    agreement = await create_agreement(funding, officer)
    world_bank = tokens.bearer(sub="client:wb", roles=["partner"], partner_id="worldbank")
    wfp = tokens.bearer(sub="client:wfp", roles=["partner"], partner_id="wfp")
    url = f"{AGREEMENTS}/{agreement['id']}"

    assert (await funding.get(url, headers=world_bank)).status_code == 200
    assert (await balance_of(funding, world_bank, agreement))["currency"] == "USD"
    listed = await funding.get(AGREEMENTS, headers=world_bank)
    assert [item["id"] for item in listed.json()["items"]] == [agreement["id"]]

    assert (await funding.get(url, headers=wfp)).status_code == 404
    assert (await funding.get(f"{url}/balance", headers=wfp)).status_code == 404
    assert (await funding.get(AGREEMENTS, headers=wfp)).json()["items"] == []
    assert (await funding.get(f"{AGREEMENTS}/{MISSING}", headers=officer)).status_code == 404
    changed = await funding.patch(
        url, json={"status": "closed"}, headers=world_bank | {"If-Match": '"v1"'}
    )
    assert changed.status_code == 403
    assert (await balance_of(funding, officer, agreement))["status"] == "active"
