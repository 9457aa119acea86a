"""Transactions: valued in DJF and USD at their value date, moving an agreement's received
funds, corrected only by a reversal that undoes them exactly."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from services.funding.agreements import ledger
from services.funding.models import AuditEvent
from shared.db import Database
from tests.funding.payloads import (
    AGREEMENTS,
    PROJECTS,
    TRANSACTIONS,
    balance_of,
    create_agreement,
    create_organisation,
    create_project,
    eur_rate,
    record_rates,
    record_transaction,
    transaction_body,
    usd_rate,
)
from tests.support.tokens import TokenFactory

MISSING = "6f1c1c1e-1c1c-4c1c-8c1c-1c1c1c1c1c1c"


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


async def _agreement(funding: httpx.AsyncClient, officer: dict[str, str]) -> dict[str, Any]:
    await record_rates(funding, officer, usd_rate(), eur_rate())
    return await create_agreement(funding, officer)


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    listed = await client.get(TRANSACTIONS, params=params, headers=headers)
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()["items"]]


async def _reverse(
    client: httpx.AsyncClient, headers: dict[str, str], transaction: dict[str, Any], **body: Any
) -> httpx.Response:
    body.setdefault("reason", "Recorded twice")
    return await client.post(
        f"{TRANSACTIONS}/{transaction['id']}/reverse", json=body, headers=headers
    )


async def test_incoming_funds_raise_what_the_agreement_received(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    created = await funding.post(TRANSACTIONS, json=transaction_body(agreement), headers=officer)
    assert created.status_code == 201, created.text
    transaction = created.json()
    assert created.headers["location"] == f"{TRANSACTIONS}/{transaction['id']}"
    assert (transaction["type"], transaction["type_name"]) == (1, "Incoming Funds")
    assert transaction["amount"] == _money(500_000_000, "USD")
    # 5,000,000.00 USD at 177.721 DJF.
    assert transaction["amount_djf"] == _money(888_605_000, "DJF")
    assert transaction["amount_usd"] == _money(500_000_000, "USD")
    assert [
        (r["currency"], r["rate_date"], Decimal(r["rate_to_djf"])) for r in transaction["rates"]
    ] == [
        ("USD", "2026-01-01", Decimal("177.721")),
        ("USD", "2026-01-01", Decimal("177.721")),
    ]
    assert transaction["agreement_amount"] == _money(500_000_000, "USD")
    assert transaction["project_id"] == agreement["project_id"], "the agreement's by default"
    assert transaction["provider_org_id"] == agreement["funder_id"], "the funder by default"
    shown = await funding.get(f"{TRANSACTIONS}/{transaction['id']}", headers=officer)
    assert shown.json() == transaction

    balance = await balance_of(funding, officer, agreement)
    assert balance["received"] == balance["available"] == _money(500_000_000, "USD")
    assert balance["committed"] == _money(1_500_000_000, "USD")

    # Other types are recorded without moving the balance.
    await record_transaction(funding, officer, agreement, type=11, amount_minor=1_500_000_000)
    assert (await balance_of(funding, officer, agreement))["received"] == balance["received"]


async def test_funds_in_another_currency_are_received_in_the_agreement_s(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    euros = await record_transaction(
        funding, officer, agreement, amount_minor=100_000_000, currency="EUR"
    )
    # 1,000,000.00 EUR at 193.5 DJF, in USD at 177.721 DJF: 1,088,785.23 USD.
    assert euros["amount_djf"] == _money(193_500_000, "DJF")
    assert euros["amount_usd"] == euros["agreement_amount"] == _money(108_878_523, "USD")
    assert [rate["currency"] for rate in euros["rates"]] == ["EUR", "USD"]
    assert (await balance_of(funding, officer, agreement))["received"] == _money(108_878_523, "USD")


async def test_a_reversal_undoes_the_transaction_exactly_and_only_once(
    funding: httpx.AsyncClient, officer: dict[str, str], funding_db: Database
) -> None:
    agreement = await _agreement(funding, officer)
    original = await record_transaction(funding, officer, agreement, value_date="2026-01-25")
    # A rate recorded afterwards for an earlier date does not change what is undone.
    await record_rates(funding, officer, usd_rate("2026-01-20", "180"))

    reversed_ = await _reverse(funding, officer, original, transaction_date="2026-03-01")
    assert reversed_.status_code == 201, reversed_.text
    reversal = reversed_.json()
    assert reversal["reverses_id"] == original["id"]
    assert (reversal["type"], reversal["value_date"], reversal["transaction_date"]) == (
        1,
        "2026-01-25",
        "2026-03-01",
    )
    for amount in ("amount", "amount_djf", "amount_usd", "agreement_amount"):
        assert reversal[amount]["amount_minor"] == -original[amount]["amount_minor"], amount
    assert reversal["rates"] == original["rates"]
    assert reversal["description"] == "Recorded twice"
    balance = await balance_of(funding, officer, agreement)
    assert balance["received"] == balance["available"] == _money(0, "USD")

    twice = await _reverse(funding, officer, original)
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("/already-reversed")
    assert twice.json()["reversed_by"] == reversal["id"]
    of_reversal = await _reverse(funding, officer, reversal)
    assert of_reversal.status_code == 409
    assert of_reversal.json()["type"].endswith("/not-reversible")
    early = await record_transaction(funding, officer, agreement)
    too_early = await _reverse(funding, officer, early, transaction_date="2026-01-31")
    assert too_early.status_code == 422
    assert too_early.json()["errors"][0]["path"] == "body.transaction_date"
    assert await _ids(funding, officer) == [original["id"], reversal["id"], early["id"]]
    missing = await funding.post(
        f"{TRANSACTIONS}/{MISSING}/reverse", json={"reason": "x"}, headers=officer
    )
    assert missing.status_code == 404

    async with funding_db.sessionmaker() as session:
        audited = await session.execute(
            select(AuditEvent.resource_id, AuditEvent.action).where(
                AuditEvent.resource_type == "transaction"
            )
        )
    assert sorted((str(key), action) for key, action in audited) == sorted(
        [(original["id"], "create"), (reversal["id"], "reverse"), (early["id"], "create")]
    )


async def test_a_reversal_that_would_uncover_reserved_money_is_refused(
    funding: httpx.AsyncClient, officer: dict[str, str], funding_db: Database
) -> None:
    agreement = await _agreement(funding, officer)
    received = await record_transaction(funding, officer, agreement, amount_minor=100_000)
    async with funding_db.sessionmaker() as session:
        assert await ledger.reserve(session, uuid.UUID(agreement["id"]), 60_000)
        await session.commit()

    refused = await _reverse(funding, officer, received)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/insufficient-funds")
    balance = await balance_of(funding, officer, agreement)
    assert (balance["received"]["amount_minor"], balance["reserved"]["amount_minor"]) == (
        100_000,
        60_000,
    )
    assert await _ids(funding, officer) == [received["id"]], "no reversal was saved"


async def test_nothing_is_recorded_on_a_closed_or_cancelled_agreement(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    received = await record_transaction(funding, officer, agreement)
    url = f"{AGREEMENTS}/{agreement['id']}"

    async def moved_to(status: str, version: str) -> None:
        moved = await funding.patch(
            url, json={"status": status}, headers=officer | {"If-Match": version}
        )
        assert moved.status_code == 200, moved.text

    async def nothing_recorded(status: str) -> None:
        refused = await funding.post(
            TRANSACTIONS, json=transaction_body(agreement), headers=officer
        )
        assert refused.status_code == 409, status
        assert refused.json()["type"].endswith("/agreement-not-active")
        assert refused.json()["errors"][0]["path"] == "body.agreement_id"
        assert (await _reverse(funding, officer, received)).status_code == 409, status
        assert await _ids(funding, officer) == [received["id"]]
        balance = await balance_of(funding, officer, agreement)
        assert balance["received"]["amount_minor"] == 500_000_000

    await moved_to("closed", "v1")
    await nothing_recorded("closed")
    # Reopened (a closed agreement is not cancelled), then cancelled.
    await moved_to("active", "v2")
    await moved_to("cancelled", "v3")
    await nothing_recorded("cancelled")


async def test_bad_transactions_are_refused_naming_the_field_and_nothing_is_saved(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    other_project = await create_project(
        funding, officer, await create_organisation(funding, officer, "wfp"), activity="DJ01"
    )
    for change, path in (
        ({"amount": _money(0, "USD")}, "body.amount.amount_minor"),
        ({"amount": _money(-100, "USD")}, "body.amount.amount_minor"),
        ({"amount": {"amount_minor": 10.5, "currency": "DJF"}}, "body.amount.amount_minor"),
        ({"amount": {"amount_minor": 1000.0, "currency": "DJF"}}, "body.amount.amount_minor"),
        ({"amount": _money(100, "ABC")}, "body.amount.currency"),
        ({"amount": _money(100, "XXX")}, "body.amount.currency"),
        ({"amount": _money(2**63 - 1, "USD")}, "body.amount"),
        ({"value_date": "2025-12-31"}, "body.value_date"),
        ({"value_date": "2026-02-01T00:00:00"}, "body.value_date"),
        ({"transaction_date": None}, "body.transaction_date"),
        ({"type": 5}, "body.type"),
        ({"type": "1"}, "body.type"),
        ({"agreement_id": MISSING}, "body.agreement_id"),
        ({"agreement_id": "not-a-uuid"}, "body.agreement_id"),
        ({"agreement_id": None}, "body.project_id"),
        ({"project_id": other_project["id"]}, "body.project_id"),
        ({"project_id": MISSING}, "body.project_id"),
        ({"provider_org_id": MISSING}, "body.provider_org_id"),
        ({"receiver_org_id": MISSING}, "body.receiver_org_id"),
        ({"description": "x" * 501}, "body.description"),
        ({"reference": "x" * 101}, "body.reference"),
        ({"payment_cycle_id": MISSING}, "body.payment_cycle_id"),
    ):
        body = transaction_body(agreement, **change)
        response = await funding.post(TRANSACTIONS, json=body, headers=officer)
        assert response.status_code == 422, (change, response.text)
        assert path in [error["path"] for error in response.json()["errors"]], (
            change,
            response.text,
        )
    no_rate = await funding.post(
        TRANSACTIONS, json=transaction_body(agreement, value_date="2025-12-31"), headers=officer
    )
    assert no_rate.json()["type"].endswith("/no-exchange-rate")
    gbp = transaction_body(agreement, amount=_money(100, "GBP"))
    no_gbp = await funding.post(TRANSACTIONS, json=gbp, headers=officer)
    assert no_gbp.status_code == 422
    assert no_gbp.json()["errors"][0]["path"] == "body.value_date"
    assert await _ids(funding, officer) == []
    assert (await balance_of(funding, officer, agreement))["received"]["amount_minor"] == 0


async def test_a_retried_post_with_the_same_key_is_received_once(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    headers = officer | {"Idempotency-Key": "wb-tranche-1"}
    first = await funding.post(TRANSACTIONS, json=transaction_body(agreement), headers=headers)
    again = await funding.post(TRANSACTIONS, json=transaction_body(agreement), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert first.headers["location"] == f"{TRANSACTIONS}/{first.json()['id']}"
    assert (await balance_of(funding, officer, agreement))["received"][
        "amount_minor"
    ] == 500_000_000

    reverse_headers = officer | {"Idempotency-Key": "wb-tranche-1-reversal"}
    url = f"{TRANSACTIONS}/{first.json()['id']}/reverse"
    reversal = await funding.post(url, json={"reason": "x"}, headers=reverse_headers)
    assert reversal.status_code == 201, reversal.text
    replayed = await funding.post(url, json={"reason": "x"}, headers=reverse_headers)
    assert replayed.status_code == 201, "a retried reversal answers as the first time"
    assert replayed.json()["id"] == reversal.json()["id"]


async def test_transactions_are_listed_by_value_date_with_filters_in_keyset_pages(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    march = await record_transaction(funding, officer, agreement, value_date="2026-03-01")
    january = await record_transaction(funding, officer, agreement, value_date="2026-01-20")
    spent = await record_transaction(
        funding,
        officer,
        None,
        type=4,
        project_id=agreement["project_id"],
        amount_minor=3_000_000,
        currency="DJF",
    )
    assert spent["agreement_id"] is None and spent["agreement_amount"] is None

    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await funding.get(TRANSACTIONS, params=params, headers=officer)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [january["id"], spent["id"], march["id"]]
    assert await _ids(funding, officer, type=4) == [spent["id"]]
    assert await _ids(funding, officer, agreement_id=agreement["id"]) == [
        january["id"],
        march["id"],
    ]
    assert await _ids(funding, officer, project_id=agreement["project_id"]) == seen
    assert await _ids(funding, officer, payment_cycle_id=MISSING) == []
    window = {"value_date_from": "2026-01-21", "value_date_to": "2026-02-28"}
    assert await _ids(funding, officer, **window) == [spent["id"]]
    backwards = {"value_date_from": "2026-03-01", "value_date_to": "2026-01-01"}
    refused = await funding.get(TRANSACTIONS, params=backwards, headers=officer)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "query.value_date_to"
    assert (await funding.get(TRANSACTIONS, params={"type": 7}, headers=officer)).status_code == 422


async def test_a_partner_sees_the_transactions_of_its_agreements(
    funding: httpx.AsyncClient, officer: dict[str, str], tokens: TokenFactory
) -> None:
    await record_rates(funding, officer, usd_rate(), eur_rate())
    wfp = await create_organisation(funding, officer, "wfp")
    world_bank_org = await create_organisation(funding, officer)
    # WFP implements (role 4) the World Bank's project: it sees the project, not the World
    # Bank's money in it.
    bank_project = await create_project(
        funding,
        officer,
        world_bank_org,
        participants=[
            {"organisation_id": world_bank_org["id"], "role": 1},
            {"organisation_id": wfp["id"], "role": 4},
        ],
    )
    agreement = await create_agreement(funding, officer, bank_project, world_bank_org)
    received = await record_transaction(funding, officer, agreement)
    # Money on the World Bank's project outside any agreement is neither partner's.
    bank_spent = await record_transaction(
        funding,
        officer,
        None,
        type=4,
        project_id=bank_project["id"],
        amount_minor=50,
        currency="DJF",
    )
    wfp_project = await create_project(funding, officer, wfp, activity="DJ01")
    wfp_agreement = await create_agreement(funding, officer, wfp_project, wfp, reference="WFP-DJ01")
    wfp_received = await record_transaction(funding, officer, wfp_agreement)
    # The money of a partner is that of its agreements, as in its reports and IATI file:
    # spending recorded on its project outside any agreement is the ministry's.
    await record_transaction(
        funding,
        officer,
        None,
        type=4,
        project_id=wfp_project["id"],
        amount_minor=100,
        currency="DJF",
    )
    world_bank = tokens.bearer(sub="client:wb", roles=["partner"], partner_id="worldbank")
    wfp_token = tokens.bearer(sub="client:wfp", roles=["partner"], partner_id="wfp")

    assert await _ids(funding, world_bank) == [received["id"]]
    assert await _ids(funding, wfp_token) == [wfp_received["id"]]
    assert await _ids(funding, wfp_token, project_id=bank_project["id"]) == []
    shown = await funding.get(f"{TRANSACTIONS}/{received['id']}", headers=world_bank)
    assert shown.status_code == 200
    for hidden in (received, bank_spent):
        response = await funding.get(f"{TRANSACTIONS}/{hidden['id']}", headers=wfp_token)
        assert response.status_code == 404
    # It still sees the project it takes part in.
    project = await funding.get(f"{PROJECTS}/{bank_project['id']}", headers=wfp_token)
    assert project.status_code == 200
    refused = await funding.post(TRANSACTIONS, json=transaction_body(agreement), headers=world_bank)
    assert refused.status_code == 403
    assert await _ids(funding, world_bank) == [received["id"]], "nothing was recorded"


async def test_transactions_are_never_edited_or_deleted(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    agreement = await _agreement(funding, officer)
    received = await record_transaction(funding, officer, agreement)
    url = f"{TRANSACTIONS}/{received['id']}"
    assert (await funding.patch(url, json={"description": "x"}, headers=officer)).status_code == 405
    assert (await funding.delete(url, headers=officer)).status_code == 405
    assert (await funding.get(url, headers=officer)).json() == received
