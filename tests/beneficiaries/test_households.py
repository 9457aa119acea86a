"""Registering, reading and changing households through the API."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from services.beneficiaries.models import AuditEvent, Individual
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.records.schemas import Household
from shared.db import Database
from tests.beneficiaries.helpers import BASE, count
from tests.beneficiaries.payloads import household, member, with_ids
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def test_register_and_read_a_household(
    registry: httpx.AsyncClient, registrar: dict[str, str], registry_app, beneficiaries_db: Database
) -> None:
    created = await registry.post(f"{BASE}/households", json=household(), headers=registrar)
    assert created.status_code == 201, created.text
    body = created.json()
    Household.model_validate(body)  # the SQL-built document has the documented shape
    assert re.fullmatch(r"DJ-\d{4}-\d{6}", body["registry_number"])
    assert body["location"] == {
        "region_code": "DJ-DJ",
        "commune_code": "DJ-DJ-BALBALA",
        "locality_code": "DJ-DJ-BALBALA-PK12",
        "area": "urban",
        "address": None,
        "gps": None,
    }
    assert created.headers["etag"] == '"v1"'
    assert created.headers["location"].endswith(body["id"])
    head = body["members"][0]
    assert head["relationship_to_head"] == "head"
    assert head["identifiers"] == [{"type": "phone", "value": "+25377123456"}]
    assert body["member_count"] == 2

    read = await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)
    assert read.status_code == 200
    assert read.json()["members"] == body["members"]
    not_modified = await registry.get(
        f"{BASE}/households/{body['id']}", headers={**registrar, "If-None-Match": '"v1"'}
    )
    assert not_modified.status_code == 304

    await registry_app.state.audit.flush()
    async with beneficiaries_db.sessionmaker() as session:
        rows = (await session.execute(select(AuditEvent.action, AuditEvent.resource_id))).all()
    actions = [action for action, _ in rows]
    assert actions.count("create") == 1
    read_ids = {str(resource) for action, resource in rows if action == "read"}
    assert {body["id"], *(m["id"] for m in body["members"])} <= read_ids


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda b: b["location"].update(locality_code="DJ-XX-NOWHERE"),
            "body.location.locality_code",
        ),
        (lambda b: b["members"][1].update(birth_date="2099-01-01"), "body.members.1.birth_date"),
        (lambda b: b["members"][1].update(relationship_to_head="head"), "body.members"),
        (lambda b: b["members"][0].update(relationship_to_head="spouse"), "body.members"),
        (lambda b: b["members"][0].update(sex="M", pregnant=True), "body.members.0"),
        (lambda b: b["members"][0].update(given_name="R2-D2"), "body.members.0.given_name"),
        (lambda b: b["consent"].update(method=None), "body.consent"),
    ],
    ids=[
        "unknown locality",
        "born in the future",
        "two heads",
        "no head",
        "pregnant man",
        "digits in a name",
        "consent without method",
    ],
)
async def test_bad_households_are_refused_and_nothing_is_saved(
    registry: httpx.AsyncClient,
    registrar: dict[str, str],
    beneficiaries_db: Database,
    change,
    path: str,
) -> None:
    body = household()
    change(body)
    response = await registry.post(f"{BASE}/households", json=body, headers=registrar)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(error["path"].startswith(path) for error in response.json()["errors"]), (
        response.json()
    )
    assert await count(beneficiaries_db, HouseholdRow) == 0
    assert await count(beneficiaries_db, Individual) == 0


async def test_an_identifier_registered_to_someone_else_is_a_409(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    unhcr = {"type": "unhcr_individual", "value": "DJI-21-00042"}
    first = household(
        [member("Amina", "Hassan", "Abdi", legal_status="refugee", identifiers=[unhcr])],
        locality="DJ-AS-ALIADDEH-VILLAGE",
    )
    created = (await registry.post(f"{BASE}/households", json=first, headers=registrar)).json()

    second = household(
        [
            member(
                "Ahmed",
                "Yusuf",
                "Ali",
                sex="M",
                identifiers=[{"type": "unhcr_individual", "value": "dji 21 00042"}],
            )
        ]
    )
    clash = await registry.post(f"{BASE}/households", json=second, headers=registrar)
    assert clash.status_code == 409
    problem = clash.json()
    assert problem["type"].endswith("/duplicate-identifier")
    assert problem["existing_individual_id"] == created["members"][0]["id"]
    assert problem["existing_household_id"] == created["id"]
    assert await count(beneficiaries_db, HouseholdRow) == 1

    # A shared phone or UNHCR case number is not a clash: families share them.
    case = {"type": "unhcr_case", "value": "DJI-21-C-7"}
    phone = {"type": "phone", "value": "+253 77 00 00 01"}
    family = household(
        [
            member("Idil", identifiers=[case, phone]),
            member(
                "Sagal", relationship="child", birth_date="2015-02-02", identifiers=[case, phone]
            ),
        ]
    )
    assert (
        await registry.post(f"{BASE}/households", json=family, headers=registrar)
    ).status_code == 201


async def test_registrars_work_only_in_their_regions(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    djibouti = as_role(tokens, "registrar", regions=["DJ-DJ"])
    refused = await registry.post(f"{BASE}/households", json=household(), headers=ali_sabieh)
    assert refused.status_code == 403

    created = (await registry.post(f"{BASE}/households", json=household(), headers=djibouti)).json()
    assert (
        await registry.get(f"{BASE}/households/{created['id']}", headers=ali_sabieh)
    ).status_code == 403
    listed = (await registry.get(f"{BASE}/households", headers=ali_sabieh)).json()
    assert listed["items"] == []
    listed = (await registry.get(f"{BASE}/households", headers=djibouti)).json()
    assert [h["id"] for h in listed["items"]] == [created["id"]]


async def test_analysts_and_partners_see_no_households(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    for role in ("analyst", "partner", "finance_officer"):
        headers = as_role(tokens, role)
        assert (await registry.get(f"{BASE}/households", headers=headers)).status_code == 403
        assert (
            await registry.post(f"{BASE}/households", json=household(), headers=headers)
        ).status_code == 403


async def test_patch_needs_the_current_version(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    created = (
        await registry.post(f"{BASE}/households", json=household(), headers=registrar)
    ).json()
    url = f"{BASE}/households/{created['id']}"
    change = {"living_conditions": {"rooms": 2, "lighting": "solar"}}

    missing = await registry.patch(url, json=change, headers=registrar)
    assert missing.status_code == 428

    done = await registry.patch(url, json=change, headers={**registrar, "If-Match": '"v1"'})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == '"v2"'
    conditions = done.json()["living_conditions"]
    assert conditions["rooms"] == 2 and conditions["lighting"] == "solar"
    assert conditions["wall_material"] == "sheet_metal", "fields not sent stay as they were"

    stale = await registry.patch(
        url, json={"displacement_status": "returnee"}, headers={**registrar, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"v2"'
    assert (await registry.get(url, headers=registrar)).json()["displacement_status"] == "none"

    moved = await registry.patch(
        url,
        json={"location": {"locality_code": "DJ-AS-ALISABIEH-VILLE"}},
        headers={**registrar, "If-Match": '"v2"'},
    )
    assert moved.json()["location"]["region_code"] == "DJ-AS"


async def test_if_match_must_name_the_version_read(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    household_id = str(uuid.uuid4())
    url = f"{BASE}/households/{household_id}"
    # Creating under a client id needs no version, whatever If-Match says.
    created = await registry.put(url, json=household(), headers={**registrar, "If-Match": "*"})
    assert created.status_code == 201, created.text
    change = {"displacement_status": "returnee"}
    # `*` (or a blank header) would overwrite blindly: refused like no If-Match at all,
    # after the record is found (an unknown one is still a 404).
    for blind in ("*", " "):
        refused = await registry.patch(url, json=change, headers={**registrar, "If-Match": blind})
        assert refused.status_code == 428, blind
    unknown = await registry.patch(
        f"{BASE}/households/{uuid.uuid4()}", json=change, headers={**registrar, "If-Match": "*"}
    )
    assert unknown.status_code == 404
    # A list of tags names no one version: 412 with the ETag to send.
    listed = await registry.patch(url, json=change, headers={**registrar, "If-Match": '"v1", "v2"'})
    assert listed.status_code == 412
    assert listed.headers["etag"] == '"v1"'
    assert listed.json()["current_etag"] == '"v1"'


async def test_put_creates_replays_and_replaces(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    body = with_ids(household())
    url = f"{BASE}/households/{body['id']}"
    created = await registry.put(url, json=body, headers=registrar)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == body["id"]
    assert [m["id"] for m in created.json()["members"]] == [m["id"] for m in body["members"]]

    replay = await registry.put(url, json=body, headers=registrar)
    assert replay.status_code == 200
    assert replay.headers["x-outcome"] == "unchanged"
    assert replay.json()["version"] == 1

    body["members"].pop()  # the child moved away
    body["members"][0]["occupation"] = "vendeuse"
    blind = await registry.put(url, json=body, headers=registrar)
    assert blind.status_code == 428

    replaced = await registry.put(url, json=body, headers={**registrar, "If-Match": '"v1"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["x-outcome"] == "updated"
    assert replaced.json()["member_count"] == 1
    assert replaced.json()["members"][0]["occupation"] == "vendeuse"
    history = (await registry.get(f"{url}/history", headers=registrar)).json()
    ended = {span["individual_id"]: span["end_reason"] for span in history}
    assert ended == {body["members"][0]["id"]: None, created.json()["members"][1]["id"]: "removed"}
    removed = created.json()["members"][1]["id"]
    gone = await registry.get(f"{BASE}/individuals/{removed}", headers=registrar)
    assert (gone.json()["status"], gone.headers["etag"]) == ("left", '"v2"')


async def test_relationships_changed_by_put_or_patch_are_kept_in_the_history(
    registry: httpx.AsyncClient, registrar: dict[str, str], tokens: TokenFactory
) -> None:
    body = with_ids(household())
    url = f"{BASE}/households/{body['id']}"
    assert (await registry.put(url, json=body, headers=registrar)).status_code == 201
    head, child = body["members"]
    head["relationship_to_head"], child["relationship_to_head"] = "parent", "head"
    body["members"] = [child, head]
    swapped = await registry.put(url, json=body, headers={**registrar, "If-Match": '"v1"'})
    assert swapped.status_code == 200, swapped.text

    person = await registry.get(f"{BASE}/individuals/{head['id']}", headers=registrar)
    corrected = await registry.patch(
        f"{BASE}/individuals/{head['id']}",
        json={"relationship_to_head": "other_relative"},
        headers={**registrar, "If-Match": person.headers["etag"]},
    )
    assert corrected.status_code == 200, corrected.text

    history = (await registry.get(f"{url}/history", headers=registrar)).json()
    spans = sorted(
        (s["individual_id"] == head["id"], s["relationship_to_head"], s["end_reason"] or "")
        for s in history
    )
    assert spans == [
        (False, "child", "relationship_changed"),
        (False, "head", ""),
        (True, "head", "relationship_changed"),
        (True, "other_relative", ""),
        (True, "parent", "relationship_changed"),
    ]
    elsewhere = as_role(tokens, "registrar", regions=["DJ-OB"])
    assert (await registry.get(f"{url}/history", headers=elsewhere)).status_code == 403
    unknown = f"{BASE}/households/{uuid.uuid4()}/history"
    assert (await registry.get(unknown, headers=registrar)).status_code == 404

    # Replacing the household with only its own fields changed leaves its people's versions.
    before = await registry.get(f"{BASE}/individuals/{child['id']}", headers=registrar)
    current = await registry.get(url, headers=registrar)
    head["relationship_to_head"] = "other_relative"
    body["displacement_status"] = "returnee"
    replaced = await registry.put(
        url, json=body, headers={**registrar, "If-Match": current.headers["etag"]}
    )
    assert replaced.headers["x-outcome"] == "updated"
    after = await registry.get(f"{BASE}/individuals/{child['id']}", headers=registrar)
    assert after.headers["etag"] == before.headers["etag"]


async def test_membership_changes_are_recorded_not_overwritten(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    created = (
        await registry.post(f"{BASE}/households", json=household(), headers=registrar)
    ).json()
    url = f"{BASE}/households/{created['id']}"
    head_id, child_id = (m["id"] for m in created["members"])

    born = await registry.post(
        f"{url}/members",
        json={
            "member": member(
                "Nasra", "Omar", "Said", birth_date="2026-02-10", relationship="child"
            ),
            "joined_on": "2026-02-10",
            "reason": "birth",
        },
        headers={**registrar, "If-Match": '"v1"'},
    )
    assert born.status_code == 200, born.text
    assert born.json()["member_count"] == 3
    baby_id = next(m["id"] for m in born.json()["members"] if m["given_name"] == "Nasra")

    head_leaves = await registry.post(
        f"{url}/members/{head_id}/leave",
        json={"left_on": "2026-03-01", "reason": "moved_out"},
        headers={**registrar, "If-Match": '"v2"'},
    )
    assert head_leaves.status_code == 409

    new_head = await registry.post(
        f"{url}/head",
        json={
            "individual_id": child_id,
            "changed_on": "2026-03-01",
            "reason": "household_decision",
            "former_head_relationship": "parent",
        },
        headers={**registrar, "If-Match": '"v2"'},
    )
    assert new_head.status_code == 200, new_head.text
    relationships = {m["id"]: m["relationship_to_head"] for m in new_head.json()["members"]}
    assert relationships[child_id] == "head" and relationships[head_id] == "parent"
    for changed in (child_id, head_id):  # their records changed: new versions
        person = await registry.get(f"{BASE}/individuals/{changed}", headers=registrar)
        assert person.headers["etag"] == '"v2"'

    left = await registry.post(
        f"{url}/members/{baby_id}/leave",
        json={"left_on": "2026-03-05", "reason": "death"},
        headers={**registrar, "If-Match": '"v3"'},
    )
    assert left.json()["member_count"] == 2
    baby = await registry.get(f"{BASE}/individuals/{baby_id}", headers=registrar)
    assert (baby.json()["status"], baby.headers["etag"]) == ("deceased", '"v2"')

    history = (await registry.get(f"{url}/history", headers=registrar)).json()
    spans = [(s["individual_id"], s["relationship_to_head"], s["end_reason"]) for s in history]
    assert (head_id, "head", "relationship_changed") in spans
    assert (head_id, "parent", None) in spans
    assert (child_id, "head", None) in spans
    assert (baby_id, "child", "death") in spans


async def test_split_and_merge(registry: httpx.AsyncClient, registrar: dict[str, str]) -> None:
    family = household(
        [
            member("Omar", "Ahmed", "Youssouf", sex="M", birth_date="1970-01-01"),
            member("Khadija", "Ali", "Hassan", birth_date="1975-06-01", relationship="spouse"),
            member("Abdi", "Omar", "Ahmed", sex="M", birth_date="1998-03-03", relationship="child"),
            member("Deka", "Idriss", "Ali", birth_date="2000-04-04", relationship="other_relative"),
        ]
    )
    created = (await registry.post(f"{BASE}/households", json=family, headers=registrar)).json()
    ids = {m["given_name"]: m["id"] for m in created["members"]}

    split = await registry.post(
        f"{BASE}/households/{created['id']}/split",
        json={
            "members": [
                {"individual_id": ids["Abdi"], "relationship_to_head": "head"},
                {"individual_id": ids["Deka"], "relationship_to_head": "spouse"},
            ],
            "location": {"locality_code": "DJ-DJ-BALBALA-HODAN"},
            "split_on": "2026-03-10",
        },
        headers={**registrar, "If-Match": '"v1"'},
    )
    assert split.status_code == 201, split.text
    remaining, young = split.json()["household"], split.json()["new_household"]
    Household.model_validate(young)
    assert remaining["member_count"] == 2 and young["member_count"] == 2
    assert {m["given_name"]: m["relationship_to_head"] for m in young["members"]} == {
        "Abdi": "head",
        "Deka": "spouse",
    }

    merged = await registry.post(
        f"{BASE}/households/{created['id']}/merge",
        json={
            "source_household_id": young["id"],
            "merged_on": "2026-04-01",
            "members": [
                {"individual_id": ids["Abdi"], "relationship_to_head": "child"},
                {"individual_id": ids["Deka"], "relationship_to_head": "other_relative"},
            ],
        },
        headers={**registrar, "If-Match": f'"v{remaining["version"]}"'},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["member_count"] == 4
    source = (await registry.get(f"{BASE}/households/{young['id']}", headers=registrar)).json()
    assert source["status"] == "merged" and source["merged_into_id"] == created["id"]
    assert source["members"] == []


async def test_lists_filter_and_search_names_across_spellings(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    refugees = household(
        [
            member(
                "Maxamed",
                "Cabdi",
                "Xuseen",
                sex="M",
                legal_status="refugee",
                identifiers=[{"type": "unhcr_individual", "value": "DJI-22-1234"}],
            ),
            member(
                "Deeqa",
                "Yusuf",
                "Ahmed",
                sex="F",
                legal_status="refugee",
                birth_date="2012-01-09",
                relationship="child",
            ),
        ],
        locality="DJ-AS-ALIADDEH-VILLAGE",
    )
    nationals = household([member("Aïcha", "Omar", "Farah")])
    refugee_household = (
        await registry.post(f"{BASE}/households", json=refugees, headers=registrar)
    ).json()
    national_household = (
        await registry.post(f"{BASE}/households", json=nationals, headers=registrar)
    ).json()

    async def household_ids(**params: str) -> list[str]:
        page = (await registry.get(f"{BASE}/households", params=params, headers=registrar)).json()
        return [h["id"] for h in page["items"]]

    assert await household_ids(legal_status="refugee") == [refugee_household["id"]]
    assert await household_ids(region="DJ-DJ") == [national_household["id"]]
    assert await household_ids(name="mohamed abdi") == [refugee_household["id"]]
    assert await household_ids(name="AICHA") == [national_household["id"]]
    assert await household_ids(identifier="unhcr:dji-22-1234") == [refugee_household["id"]]
    # The person filters and the name are about one member, however common the name is.
    assert await household_ids(name="mohamed abdi", sex="M") == [refugee_household["id"]]
    assert await household_ids(name="mohamed abdi", sex="F") == []
    assert await household_ids(name="aicha", legal_status="refugee") == []

    people = (
        await registry.get(f"{BASE}/individuals", params={"name": "Houssein"}, headers=registrar)
    ).json()["items"]
    assert [p["given_name"] for p in people] == ["Maxamed"]
    assert people[0]["registry_number"] == refugee_household["registry_number"]

    bad = await registry.get(
        f"{BASE}/households", params={"identifier": "passport:1"}, headers=registrar
    )
    assert bad.status_code == 422
    for inverted, path in (
        ({"pmt_min": "90000", "pmt_max": "60000"}, "query.pmt_max"),
        ({"registered_from": "2026-03-01", "registered_to": "2026-02-01"}, "query.registered_to"),
    ):
        for listing in ("households", "individuals"):
            answer = await registry.get(f"{BASE}/{listing}", params=inverted, headers=registrar)
            assert answer.status_code == 422
            assert [e["path"] for e in answer.json()["errors"]] == [path]


async def test_listing_pages_with_a_cursor(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    for given in ("Ayan", "Bilan", "Caaliya", "Deeqa", "Elmi"):
        body = household([member(given)])
        assert (
            await registry.post(f"{BASE}/households", json=body, headers=registrar)
        ).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await registry.get(f"{BASE}/households", params=params, headers=registrar)).json()
        seen += [h["registry_number"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == 5


async def test_correcting_a_person_recomputes_search_keys(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    created = (
        await registry.post(f"{BASE}/households", json=household(), headers=registrar)
    ).json()
    person = created["members"][1]
    url = f"{BASE}/individuals/{person['id']}"
    fixed = await registry.patch(
        url,
        json={"given_name": "Hoodo", "disability": {"walking": 3}},
        headers={**registrar, "If-Match": '"v1"'},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["has_disability"] is True
    found = (
        await registry.get(f"{BASE}/individuals", params={"name": "hodo omar"}, headers=registrar)
    ).json()["items"]
    assert [p["id"] for p in found] == [person["id"]]
    household_after = (
        await registry.get(f"{BASE}/households/{created['id']}", headers=registrar)
    ).json()
    assert household_after["version"] == 2, "a member's change is a change of the household"

    to_head = await registry.patch(
        url, json={"relationship_to_head": "head"}, headers={**registrar, "If-Match": '"v2"'}
    )
    assert to_head.status_code == 409

    emptied = await registry.patch(
        url,
        json={"birth_date": None, "sex": None, "father_name": None},
        headers={**registrar, "If-Match": '"v2"'},
    )
    assert emptied.status_code == 422, emptied.text
    assert {e["path"] for e in emptied.json()["errors"]} == {"body.birth_date", "body.sex"}


async def test_idempotency_key_makes_a_retry_harmless(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    headers = {**registrar, "Idempotency-Key": "tablet-17-submission-0042"}
    first = await registry.post(f"{BASE}/households", json=household(), headers=headers)
    again = await registry.post(f"{BASE}/households", json=household(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(beneficiaries_db, HouseholdRow) == 1

    other = household([member("Someone", "Else", None)])
    reused = await registry.post(f"{BASE}/households", json=other, headers=headers)
    assert reused.status_code == 422
    assert await count(beneficiaries_db, HouseholdRow) == 1


async def test_common_name_searches_walk_the_name_indexes_with_the_same_answers(
    registry: httpx.AsyncClient, registrar: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.beneficiaries.records import search as repository

    people = [
        ("Mohamed", "Ali", "Farah"),
        ("Ali", "Mohamed", "Omar"),
        ("Mohammed", "Mohamed", "Ali"),
        ("Zahra", "Ali", "Mohamed"),
        ("Amina", "Omar", "Ali"),
        ("Maxamed", "Cumar", "Cali"),
    ]
    for given, father, grandfather in people:
        body = household([member(given, father, grandfather, sex="M")])
        assert (
            await registry.post(f"{BASE}/households", json=body, headers=registrar)
        ).status_code == 201

    async def pages(name: str) -> list[str]:
        names, cursor = [], None
        while True:
            params = {"name": name, "limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (
                await registry.get(f"{BASE}/individuals", params=params, headers=registrar)
            ).json()
            names += [
                f"{p['given_name']} {p['father_name']} {p['grandfather_name']}"
                for p in page["items"]
            ]
            cursor = page["next_cursor"]
            if not cursor:
                return names

    async def households_found(name: str) -> list[str]:
        page = (
            await registry.get(f"{BASE}/households", params={"name": name}, headers=registrar)
        ).json()
        return [h["registry_number"] for h in page["items"]]

    queries = ("mohamed", "ali mohamed", "omar ali", "zahra", "mohamed mohamed", "omar mohamed ali")
    gathered = {query: await pages(query) for query in queries}
    gathered_households = {query: await households_found(query) for query in queries}
    monkeypatch.setattr(repository, "SPARSE_MATCHES", -1)  # every search counts as common
    walked = {query: await pages(query) for query in queries}
    assert walked == gathered
    assert {query: await households_found(query) for query in queries} == gathered_households
    assert len(gathered_households["ali mohamed"]) == 5
    assert gathered["ali mohamed"] == [
        "Ali Mohamed Omar",
        "Maxamed Cumar Cali",  # Somali spelling of the same names
        "Mohamed Ali Farah",
        "Mohammed Mohamed Ali",
        "Zahra Ali Mohamed",
    ]
    assert gathered["omar ali"] == ["Ali Mohamed Omar", "Amina Omar Ali", "Maxamed Cumar Cali"]
    # A word said twice is one part; every other word is a part of its own.
    assert gathered["mohamed mohamed"] == gathered["mohamed"]
    assert gathered["omar mohamed ali"] == ["Ali Mohamed Omar", "Maxamed Cumar Cali"]
