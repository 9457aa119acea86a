"""Pseudonyms: the same person always has the same pseudonym for one partner, two partners'
pseudonyms cannot be linked, and only the ministry can resolve one back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.beneficiaries.clock import today
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    DCI_SEARCH,
    add_agreement,
    build,
    partner,
    search_message,
    search_request,
)
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

FIELDS = ["household_id", "registry_number", "individual_id", "unhcr_individual", "given_name"]


async def _amina(
    client: httpx.AsyncClient, tokens: TokenFactory, partner_id: str
) -> dict[str, Any]:
    body = search_message(
        search_request("idtype-value", {"type": "UNHCR_ID", "value": "unhcr 111"}),
        sender_id=partner_id,
    )
    response = await client.post(DCI_SEARCH, json=body, headers=partner(tokens, partner_id))
    assert response.status_code == 200, response.text
    answer = response.json()["message"]["search_response"][0]
    assert answer["status"] == "succ", answer
    [group] = answer["data"]["reg_records"]
    return group


def _ids(group: dict[str, Any]) -> tuple[str, str, str]:
    household = group["group_identifier"][0]
    assert household["identifier_type"] == "PSEUDONYM"
    amina = next(
        m for m in group["member_list"] if m["demographic_info"]["name"]["given_name"] == "Amina"
    )
    [person] = amina["member_identifier"]
    [unhcr] = amina["demographic_info"]["identifier"]
    assert person["identifier_type"] == unhcr["identifier_type"] == "PSEUDONYM"
    return household["identifier_value"], person["identifier_value"], unhcr["identifier_value"]


async def test_pseudonyms_are_stable_per_partner_and_unlinkable_across_partners(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    world = await build(beneficiaries_db)
    wfp = await add_agreement(registry, tokens, allowed_fields=FIELDS)
    unicef = await add_agreement(registry, tokens, partner_id="unicef-dj", allowed_fields=FIELDS)

    first = _ids(await _amina(registry, tokens, "wfp-dj"))
    again = _ids(await _amina(registry, tokens, "wfp-dj"))
    other = _ids(await _amina(registry, tokens, "unicef-dj"))
    assert first == again
    assert not set(first) & set(other)
    household, person, unhcr = first
    assert (
        household.startswith("hh-")
        and person.startswith("in-")
        and unhcr.startswith("unhcr_individual-")
    )
    amina_id = world.visible_people["Amina"]
    for raw in (str(world.visible.id), str(amina_id), "UNHCR111", world.visible.registry_number):
        assert raw not in str(first)

    # Only the ministry resolves them, and only under the agreement they were issued for.
    resolve = f"{BASE}/pseudonyms/resolve"
    manager = as_role(tokens, "data_manager")
    answer = await registry.post(
        resolve, json={"agreement_id": wfp["id"], "pseudonym": person}, headers=manager
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["individual_ids"] == [str(amina_id)]
    assert answer.json()["household_id"] == str(world.visible.id)
    answer = await registry.post(
        resolve, json={"agreement_id": wfp["id"], "pseudonym": household}, headers=manager
    )
    assert answer.json()["household_id"] == str(world.visible.id)
    answer = await registry.post(
        resolve, json={"agreement_id": wfp["id"], "pseudonym": unhcr}, headers=manager
    )
    assert answer.json()["individual_ids"] == [str(amina_id)]
    # Another partner's agreement does not resolve WFP's pseudonym.
    crossed = await registry.post(
        resolve, json={"agreement_id": unicef["id"], "pseudonym": person}, headers=manager
    )
    assert crossed.status_code == 404
    refused = await registry.post(
        resolve, json={"agreement_id": wfp["id"], "pseudonym": person}, headers=partner(tokens)
    )
    assert refused.status_code == 403
    malformed = await registry.post(
        resolve, json={"agreement_id": wfp["id"], "pseudonym": "xx-123"}, headers=manager
    )
    assert malformed.status_code == 422


async def test_a_renewed_agreement_keeps_the_partners_pseudonyms(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    await build(beneficiaries_db)
    first = await add_agreement(registry, tokens, allowed_fields=FIELDS)
    before = _ids(await _amina(registry, tokens, "wfp-dj"))
    start = today() + timedelta(days=400)
    renewal = await add_agreement(
        registry,
        tokens,
        allowed_fields=FIELDS,
        valid_from=start.isoformat(),
        valid_to=(start + timedelta(days=365)).isoformat(),
    )
    manager = as_role(tokens, "admin")
    await registry.delete(
        f"{BASE}/agreements/{first['id']}", headers={**manager, "If-Match": '"v1"'}
    )
    moved = await registry.patch(
        f"{BASE}/agreements/{renewal['id']}",
        json={"valid_from": today().isoformat()},
        headers={**manager, "If-Match": '"v1"'},
    )
    assert moved.status_code == 200, moved.text
    assert _ids(await _amina(registry, tokens, "wfp-dj")) == before


async def test_identifiers_are_shown_when_the_agreement_says_so(
    registry: httpx.AsyncClient, beneficiaries_db: Database, tokens: TokenFactory
) -> None:
    world = await build(beneficiaries_db)
    await add_agreement(registry, tokens, allowed_fields=FIELDS, identifiers="shown")
    group = await _amina(registry, tokens, "wfp-dj")
    assert group["group_identifier"] == [
        {
            "@type": "Identifier",
            "identifier_type": "HOUSEHOLD_ID",
            "identifier_value": str(world.visible.id),
        },
        {
            "@type": "Identifier",
            "identifier_type": "REGISTRY_NUMBER",
            "identifier_value": world.visible.registry_number,
        },
    ]
    amina = group["member_list"][0]
    assert amina["member_identifier"][0]["identifier_value"] == str(world.visible_people["Amina"])
    assert amina["demographic_info"]["identifier"] == [
        {"@type": "Identifier", "identifier_type": "UNHCR_ID", "identifier_value": "UNHCR111"}
    ]
    assert uuid.UUID(amina["member_identifier"][0]["identifier_value"])
