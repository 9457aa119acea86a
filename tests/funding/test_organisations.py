"""Organisations: kept by finance officers, identified by their IATI identifier, seen by a
partner only when it acts for them."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from services.funding.models import AuditEvent
from shared.db import Database
from tests.funding.payloads import (
    ORGANISATIONS,
    create_organisation,
    create_project,
    organisation_body,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def test_an_officer_creates_an_organisation_that_finance_staff_read(
    funding: httpx.AsyncClient, officer: dict[str, str], approver: dict[str, str]
) -> None:
    created = await funding.post(ORGANISATIONS, json=organisation_body(), headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    body = created.json()
    assert created.headers["location"] == f"{ORGANISATIONS}/{body['id']}"
    assert (body["iati_identifier"], body["type"], body["iati_type"]) == (
        "XM-DAC-44000",
        "multilateral",
        "40",
    )
    assert body["created_by"] == "user:finance_officer"

    shown = await funding.get(f"{ORGANISATIONS}/{body['id']}", headers=approver)
    assert shown.status_code == 200
    assert shown.json() == body
    assert shown.headers["etag"] == '"v1"'


async def test_only_finance_officers_and_admins_create_and_only_ledger_readers_read(
    funding: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    for role in ("finance_approver", "analyst", "registrar", "partner", "service"):
        refused = await funding.post(
            ORGANISATIONS, json=organisation_body(), headers=as_role(tokens, role)
        )
        assert refused.status_code == 403, role
    admin = await funding.post(
        ORGANISATIONS, json=organisation_body(), headers=as_role(tokens, "admin")
    )
    assert admin.status_code == 201
    for role in ("analyst", "registrar"):
        listed = await funding.get(ORGANISATIONS, headers=as_role(tokens, role))
        assert listed.status_code == 403, role


async def test_bad_organisations_are_refused_naming_the_field(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    for change, path in (
        ({"iati_identifier": "44000"}, "body.iati_identifier"),
        ({"iati_identifier": "xm-dac-44000"}, "body.iati_identifier"),
        ({"iati_identifier": "XM-DAC-"}, "body.iati_identifier"),
        ({"iati_identifier": "XM DAC 44000"}, "body.iati_identifier"),
        ({"iati_identifier": "XM-DAC-" + "9" * 100}, "body.iati_identifier"),
        ({"country": "XX"}, "body.country"),
        ({"country": "dj"}, "body.country"),
        ({"type": "bank"}, "body.type"),
        ({"name_fr": "   "}, "body.name_fr"),
        ({"name_en": "x" * 201}, "body.name_en"),
        ({"partner_id": "wfp programme"}, "body.partner_id"),
        ({"colour": "blue"}, "body.colour"),
    ):
        response = await funding.post(
            ORGANISATIONS, json=organisation_body(**change), headers=officer
        )
        assert response.status_code == 422, change
        assert response.headers["content-type"] == "application/problem+json"
        assert path in [error["path"] for error in response.json()["errors"]], change
    listed = await funding.get(ORGANISATIONS, headers=officer)
    assert listed.json()["items"] == [], "nothing was saved"


async def test_identifiers_and_partner_ids_are_unique(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    await create_organisation(funding, officer)
    same_identifier = await funding.post(
        ORGANISATIONS,
        json=organisation_body("wfp", iati_identifier="XM-DAC-44000"),
        headers=officer,
    )
    assert same_identifier.status_code == 409
    assert same_identifier.json()["errors"][0]["path"] == "body.iati_identifier"
    same_partner = await funding.post(
        ORGANISATIONS, json=organisation_body("wfp", partner_id="worldbank"), headers=officer
    )
    assert same_partner.status_code == 409
    assert same_partner.json()["errors"][0]["path"] == "body.partner_id"


async def test_a_retried_post_with_the_same_key_creates_one_organisation(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    headers = officer | {"Idempotency-Key": "org-wb-1"}
    first = await funding.post(ORGANISATIONS, json=organisation_body(), headers=headers)
    again = await funding.post(ORGANISATIONS, json=organisation_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    for header in ("location", "etag"):
        assert again.headers[header] == first.headers[header], header
    other = await funding.post(ORGANISATIONS, json=organisation_body("wfp"), headers=headers)
    assert other.status_code == 422, "the same key for another body"
    listed = await funding.get(ORGANISATIONS, headers=officer)
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]


async def test_changes_need_the_version_read_and_are_audited(
    funding: httpx.AsyncClient, officer: dict[str, str], funding_db: Database
) -> None:
    created = await create_organisation(funding, officer, "ministry")
    url = f"{ORGANISATIONS}/{created['id']}"
    change = {"name_en": "Ministry of Social Affairs", "partner_id": "mass"}

    missing = await funding.patch(url, json=change, headers=officer)
    assert missing.status_code == 428
    stale = await funding.patch(url, json=change, headers=officer | {"If-Match": '"v7"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"v1"'

    changed = await funding.patch(url, json=change, headers=officer | {"If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert {name: changed.json()[name] for name in change} == change
    assert changed.json()["name_fr"] == created["name_fr"]
    again = await funding.patch(url, json=change, headers=officer | {"If-Match": '"v1"'})
    assert again.status_code == 412, "v1 is not the current version any more"

    cleared = await funding.patch(url, json={"country": None}, headers=officer | {"If-Match": "v2"})
    assert cleared.json()["country"] is None
    emptied = await funding.patch(url, json={"name_fr": None}, headers=officer | {"If-Match": "v3"})
    assert emptied.status_code == 422
    assert emptied.json()["errors"][0]["path"] == "body.name_fr"

    async with funding_db.sessionmaker() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.resource_id == created["id"])
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [event.action for event in events] == ["create", "update", "update"]
    assert events[1].detail == {
        "before": {"name_en": "Ministry of Social Affairs and Solidarity", "partner_id": None},
        "after": change,
    }
    assert events[1].actor == "user:finance_officer"


async def test_the_identifier_of_an_organisation_reporting_projects_does_not_change(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    project = await create_project(funding, officer)
    url = f"{ORGANISATIONS}/{project['reporting_org_id']}"
    refused = await funding.patch(
        url, json={"iati_identifier": "XM-DAC-44001"}, headers=officer | {"If-Match": '"v1"'}
    )
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["path"] == "body.iati_identifier"


async def test_a_partner_sees_only_the_organisation_it_acts_for(
    funding: httpx.AsyncClient, officer: dict[str, str], tokens: TokenFactory
) -> None:
    world_bank = await create_organisation(funding, officer)
    wfp = await create_organisation(funding, officer, "wfp")
    await create_organisation(funding, officer, "unicef")
    partner = tokens.bearer(sub="client:wfp", roles=["partner"], partner_id="wfp")

    listed = await funding.get(ORGANISATIONS, headers=partner)
    assert [item["id"] for item in listed.json()["items"]] == [wfp["id"]]
    assert (await funding.get(f"{ORGANISATIONS}/{wfp['id']}", headers=partner)).status_code == 200
    hidden = await funding.get(f"{ORGANISATIONS}/{world_bank['id']}", headers=partner)
    assert hidden.status_code == 404, "another partner's organisation is not revealed"

    nobody = tokens.bearer(sub="client:x", roles=["partner"], partner_id=None)
    assert (await funding.get(ORGANISATIONS, headers=nobody)).json()["items"] == []


async def test_organisations_are_listed_by_identifier_in_keyset_pages(
    funding: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    for which in ("wfp", "ministry", "world_bank", "unicef"):
        await create_organisation(funding, officer, which)
    seen = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await funding.get(ORGANISATIONS, params=params, headers=officer)).json()
        seen += [item["iati_identifier"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["DJ-GOV-MASS", "XM-DAC-41122", "XM-DAC-41140", "XM-DAC-44000"]
    filtered = await funding.get(ORGANISATIONS, params={"type": "un_agency"}, headers=officer)
    assert [item["iati_identifier"] for item in filtered.json()["items"]] == [
        "XM-DAC-41122",
        "XM-DAC-41140",
    ]
