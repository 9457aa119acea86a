"""Data-sharing agreements: managed by admins and data managers under If-Match, checked
against the export catalogue, programmes and regions; refused when missing, expired or used
up (403 naming why); their usage counted by day and every partner access audited."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.beneficiaries.clock import today
from services.beneficiaries.models import AuditEvent
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    DCI_SEARCH,
    add_agreement,
    agreement_body,
    build,
    partner,
    predicate,
    search_message,
    search_request,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

AGREEMENTS = f"{BASE}/agreements"
PAGE = {"page_size": 10, "page_number": 1}


def _pnsf_search() -> dict:
    return search_message(
        search_request("predicate", [predicate("programmes", "eq", "pnsf")], pagination=PAGE)
    )


async def test_an_agreement_is_created_read_and_changed_under_if_match(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    manager = as_role(tokens, "data_manager")
    created = await registry.post(AGREEMENTS, json=agreement_body(), headers=manager)
    assert created.status_code == 201, created.text
    agreement = created.json()
    assert created.headers["ETag"] == '"v1"'
    assert created.headers["Location"] == f"{AGREEMENTS}/{agreement['id']}"
    assert agreement["allowed_fields"] == [
        "given_name",
        "father_name",
        "grandfather_name",
        "programmes",
    ]
    assert "pseudonym_salt" not in agreement
    url = f"{AGREEMENTS}/{agreement['id']}"

    blind = await registry.patch(url, json={"daily_request_quota": 5}, headers=manager)
    assert blind.status_code == 428
    stale = await registry.patch(
        url, json={"daily_request_quota": 5}, headers={**manager, "If-Match": '"v7"'}
    )
    assert stale.status_code == 412
    changed = await registry.patch(
        url, json={"daily_request_quota": 5}, headers={**manager, "If-Match": '"v1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["daily_request_quota"] == 5
    assert changed.headers["ETag"] == '"v2"'
    read = await registry.get(url, headers=as_role(tokens, "admin"))
    assert read.json()["version"] == 2
    listed = await registry.get(AGREEMENTS, params={"partner_id": "wfp-dj"}, headers=manager)
    assert [a["id"] for a in listed.json()["items"]] == [agreement["id"]]

    gone = await registry.delete(url, headers={**manager, "If-Match": '"v2"'})
    assert gone.status_code == 204
    assert (await registry.get(url, headers=manager)).status_code == 404


async def test_only_admins_and_data_managers_manage_agreements(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    for headers in (as_role(tokens, "registrar"), as_role(tokens, "analyst"), partner(tokens)):
        response = await registry.post(AGREEMENTS, json=agreement_body(), headers=headers)
        assert response.status_code == 403
        assert (await registry.get(AGREEMENTS, headers=headers)).status_code == 403


async def test_unknown_fields_programmes_and_regions_are_refused(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    body = agreement_body(
        allowed_fields=["given_name", "salary", "household_id"],
        allowed_programmes=["pnsf", "unknown_prog"],
        allowed_regions=["DJ-OB", "DJ-XX"],
    )
    response = await registry.post(AGREEMENTS, json=body, headers=as_role(tokens, "admin"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {(e["path"], e["message"]) for e in response.json()["errors"]}
    assert errors == {
        ("body.allowed_fields", "unknown field 'salary'"),
        ("body.allowed_programmes", "unknown programme 'unknown_prog'"),
        ("body.allowed_regions", "unknown region 'DJ-XX'"),
    }
    inverted = agreement_body(valid_from="2026-06-01", valid_to="2026-01-01")
    response = await registry.post(AGREEMENTS, json=inverted, headers=as_role(tokens, "admin"))
    assert response.status_code == 422
    assert (await registry.get(AGREEMENTS, headers=as_role(tokens, "admin"))).json()["items"] == []


async def test_a_partner_has_one_agreement_at_a_time(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    await add_agreement(registry, tokens)
    again = await registry.post(AGREEMENTS, json=agreement_body(), headers=as_role(tokens, "admin"))
    assert again.status_code == 409
    later = agreement_body(
        valid_from=(today() + timedelta(days=400)).isoformat(),
        valid_to=(today() + timedelta(days=700)).isoformat(),
    )
    assert (
        await registry.post(AGREEMENTS, json=later, headers=as_role(tokens, "admin"))
    ).status_code == 201


async def test_no_agreement_an_expired_one_or_a_future_one_is_403_naming_why(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    terms = await registry.get(f"{BASE}/partner/agreement", headers=partner(tokens))
    assert terms.status_code == 403
    assert terms.headers["content-type"] == "application/problem+json"
    assert terms.json()["reason"] == "no-agreement"
    none = await registry.post(DCI_SEARCH, json=_pnsf_search(), headers=partner(tokens))
    assert none.status_code == 403
    assert none.json()["errors"][0]["code"] == "err.request.forbidden"
    assert "no data-sharing agreement" in none.json()["errors"][0]["message"]

    past = today() - timedelta(days=10)
    await add_agreement(
        registry,
        tokens,
        valid_from=(past - timedelta(days=100)).isoformat(),
        valid_to=past.isoformat(),
    )
    terms = await registry.get(f"{BASE}/partner/agreement", headers=partner(tokens))
    assert (terms.status_code, terms.json()["reason"]) == (403, "agreement-expired")
    assert f"expired on {past.isoformat()}" in terms.json()["detail"]
    expired = await registry.post(DCI_SEARCH, json=_pnsf_search(), headers=partner(tokens))
    assert expired.status_code == 403
    assert f"expired on {past.isoformat()}" in expired.json()["errors"][0]["message"]

    start = today() + timedelta(days=5)
    await add_agreement(
        registry,
        tokens,
        partner_id="unicef-dj",
        valid_from=start.isoformat(),
        valid_to=(start + timedelta(days=30)).isoformat(),
    )
    future = await registry.post(
        DCI_SEARCH,
        json=_pnsf_search() | {"header": _pnsf_search()["header"] | {"sender_id": "unicef-dj"}},
        headers=partner(tokens, "unicef-dj"),
    )
    assert future.status_code == 403
    assert f"starts on {start.isoformat()}" in future.json()["errors"][0]["message"]


async def test_a_used_up_quota_is_403_and_usage_counts_what_was_served(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    world = await build(beneficiaries_db)
    agreement = await add_agreement(registry, tokens, daily_request_quota=2)
    for _ in range(2):
        answer = await registry.post(DCI_SEARCH, json=_pnsf_search(), headers=partner(tokens))
        assert answer.status_code == 200, answer.text
    refused = await registry.post(DCI_SEARCH, json=_pnsf_search(), headers=partner(tokens))
    assert refused.status_code == 403
    assert "quota of 2 requests" in refused.json()["errors"][0]["message"]
    terms = await registry.get(f"{BASE}/partner/agreement", headers=partner(tokens))
    assert terms.status_code == 200
    assert (terms.json()["requests_today"], terms.json()["daily_request_quota"]) == (2, 2)

    usage = await registry.get(
        f"{AGREEMENTS}/{agreement['id']}/usage", headers=as_role(tokens, "data_manager")
    )
    assert usage.status_code == 200
    # Two requests served (the refused one is not), each with one household and its two
    # refugee members.
    assert usage.json() == {
        "agreement_id": agreement["id"],
        "requests": 2,
        "records": 6,
        "days": [{"day": today().isoformat(), "requests": 2, "records": 6}],
    }
    assert (
        await registry.get(f"{AGREEMENTS}/{agreement['id']}/usage", headers=partner(tokens))
    ).status_code == 403

    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        rows = (await session.execute(select(AuditEvent))).scalars().all()
    accesses = [r for r in rows if r.resource_type == "agreement" and r.action == "read"]
    assert len(accesses) == 2
    assert {r.resource_id for r in accesses} == {__import__("uuid").UUID(agreement["id"])}
    reads = [r for r in rows if r.action == "read" and r.resource_type == "household"]
    assert {r.resource_id for r in reads} == {world.visible.id}
    assert all(r.detail["agreement_id"] == agreement["id"] for r in reads)


async def test_households_without_consent_to_partner_sharing_are_never_returned(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    world = await build(beneficiaries_db)
    # An agreement covering everything else the refused household has.
    await add_agreement(
        registry,
        tokens,
        allowed_fields=["household_id", "given_name"],
        allowed_regions=None,
        allowed_programmes=None,
        identifiers="shown",
    )
    refused = world.hidden[0]
    for request in (
        search_request("predicate", [predicate("given_name", "eq", "Hawa")], pagination=PAGE),
        search_request(
            "predicate",
            [predicate("given_name", "eq", "Hawa")],
            pagination=PAGE,
            response_entity="Member",
        ),
    ):
        response = await registry.post(
            DCI_SEARCH, json=search_message(request), headers=partner(tokens)
        )
        answer = response.json()["message"]["search_response"][0]
        assert answer["status"] == "succ"
        assert answer["data"]["reg_records"] == []
        assert answer["pagination"]["total_count"] == 0
        assert str(refused.id) not in response.text
    everyone = await registry.post(
        DCI_SEARCH,
        json=search_message(
            search_request(
                "predicate",
                [predicate("given_name", "in", ["Amina", "Deka", "Idil", "Hawa"])],
                pagination=PAGE,
            )
        ),
        headers=partner(tokens),
    )
    ids = [
        r["group_identifier"][0]["identifier_value"]
        for r in everyone.json()["message"]["search_response"][0]["data"]["reg_records"]
    ]
    assert str(refused.id) not in ids
    assert len(ids) == 3
