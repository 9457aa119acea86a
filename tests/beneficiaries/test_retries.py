"""Retries that are safe whatever the device does, and members answered in the order sent.

A field app loses answers (a dropped connection, a tablet switched off) and sends the same
write again, with or without the member ids the first answer gave; it pairs the members
of an answer with its own by position. These tests are what it relies on."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual, Membership
from shared.db import Database
from tests.beneficiaries.helpers import BASE, count
from tests.beneficiaries.payloads import household, member

BATCH = f"{BASE}/sync/batch"
GIVEN = ["Fatouma", "Hodan", "Abdi", "Omar", "Deka", "Hawa", "Moussa", "Idriss", "Amina"]
FAMILY = ["Said", "Robleh", "Ali", "Farah", "Houssein", "Djama", "Waberi"]
RELATIVES = ["spouse", "child", "child", "parent", "sibling", "grandchild", "other_relative"]


async def sync(
    client: httpx.AsyncClient, headers: dict[str, str], operations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = await client.post(
        BATCH,
        json={"operations": operations},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


def put(body: dict[str, Any], base_version: int | None = None) -> dict[str, Any]:
    operation = {"op": "household.put", "household_id": body["id"], "household": body}
    if base_version is not None:
        operation["base_version"] = base_version
    return operation


def shuffled_household(rng: random.Random, size: int) -> dict[str, Any]:
    """A household of `size` people listed as an enumerator happens to list them: the head
    anywhere, birth dates in no order."""
    people = []
    for place in range(size):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(25_000))
        people.append(
            member(
                rng.choice(GIVEN),
                rng.choice(FAMILY),
                rng.choice(FAMILY),
                sex=rng.choice("FM"),
                birth_date=born.isoformat(),
                relationship="head" if place == 0 else rng.choice(RELATIVES),
            )
        )
    rng.shuffle(people)
    return household(people)


def order_of(answer: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (m["given_name"], m["father_name"], m["birth_date"], m["relationship_to_head"])
        for m in answer["members"]
    ]


def sent_order(body: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (m["given_name"], m["father_name"], m["birth_date"], m["relationship_to_head"])
        for m in body["members"]
    ]


# -- resends --------------------------------------------------------------------------------


async def test_a_post_replayed_by_its_key_carries_the_first_answers_headers(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    headers = {**registrar, "Idempotency-Key": "tablet-3-visit-118"}
    first = await registry.post(f"{BASE}/households", json=household(), headers=headers)
    assert first.status_code == 201, first.text
    again = await registry.post(f"{BASE}/households", json=household(), headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"] == '"v1"'
    assert again.json() == first.json()
    # The replay's ETag is good for a change straight away: no GET needed.
    patched = await registry.patch(
        again.headers["location"],
        json={"displacement_status": "returnee"},
        headers={**registrar, "If-Match": again.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text


async def test_a_put_resent_without_member_ids_is_unchanged(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    body = household()
    body["id"] = str(uuid.uuid4())
    url = f"{BASE}/households/{body['id']}"
    created = await registry.put(url, json=body, headers=registrar)
    assert created.status_code == 201, created.text
    resent = await registry.put(url, json=body, headers=registrar)
    assert resent.status_code == 200, resent.text
    assert resent.headers["x-outcome"] == "unchanged"
    assert resent.headers["etag"] == created.headers["etag"] == '"v1"'
    assert resent.json()["members"] == created.json()["members"]
    assert await count(beneficiaries_db, Individual) == 2, "nobody added, nobody removed"

    # A real change without ids still needs the version it was made on; the people keep
    # their records (matched by name, sex and birth date), nobody is removed and re-added.
    body["members"][0]["occupation"] = "vendeuse"
    assert (await registry.put(url, json=body, headers=registrar)).status_code == 428
    changed = await registry.put(url, json=body, headers={**registrar, "If-Match": '"v1"'})
    assert changed.status_code == 200, changed.text
    assert changed.headers["x-outcome"] == "updated"
    ids = [m["id"] for m in created.json()["members"]]
    assert [m["id"] for m in changed.json()["members"]] == ids
    assert changed.json()["members"][0]["occupation"] == "vendeuse"
    history = (await registry.get(f"{url}/history", headers=registrar)).json()
    assert [span["end_reason"] for span in history] == [None, None]


async def test_members_without_ids_are_matched_by_who_they_are_not_by_place(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    people = [
        member("Omar", "Ahmed", "Youssouf", sex="M", birth_date="1970-01-01"),
        member("Abdi", "Omar", "Ahmed", sex="M", birth_date="1998-03-03", relationship="child"),
        member("Deka", "Omar", "Ahmed", birth_date="2000-04-04", relationship="child"),
    ]
    body = household(people, id=str(uuid.uuid4()))
    url = f"{BASE}/households/{body['id']}"
    created = (await registry.put(url, json=body, headers=registrar)).json()
    ids = {m["given_name"]: m["id"] for m in created["members"]}

    # Abdi moved out; the device sends the household again, without ids, spelling Deka's
    # name in capitals: Deka keeps her record though she is now second in the list.
    body["members"] = [people[0], {**people[2], "given_name": "DEKA"}]
    answer = await registry.put(url, json=body, headers={**registrar, "If-Match": '"v1"'})
    assert answer.status_code == 200, answer.text
    assert [(m["given_name"], m["id"]) for m in answer.json()["members"]] == [
        ("Omar", ids["Omar"]),
        ("DEKA", ids["Deka"]),
    ]
    history = (await registry.get(f"{url}/history", headers=registrar)).json()
    assert {s["individual_id"] for s in history if s["end_reason"] == "removed"} == {ids["Abdi"]}

    # Someone of another birth date is someone else, whatever their place.
    body["members"][1] = {**people[2], "given_name": "DEKA", "birth_date": "2001-04-04"}
    etag = answer.headers["etag"]
    replaced = await registry.put(url, json=body, headers={**registrar, "If-Match": etag})
    assert replaced.json()["members"][1]["id"] != ids["Deka"]


async def test_the_same_household_twice_in_one_batch_is_created_then_unchanged(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    body = household(id=str(uuid.uuid4()))  # the household's id only, no member ids
    first, again = await sync(registry, registrar, [put(body), put(copy.deepcopy(body))])
    assert (first["status"], first["version"]) == ("created", 1)
    assert (again["status"], again["version"]) == ("unchanged", 1)
    assert again["household_id"] == first["household_id"] == body["id"]
    assert await count(beneficiaries_db, Individual) == 2

    # A later batch resending it, and an edit sent twice in one batch.
    [later] = await sync(registry, registrar, [put(body)])
    assert (later["status"], later["version"]) == ("unchanged", 1)
    body["living_conditions"]["rooms"] = 3
    edited, edited_again = await sync(registry, registrar, [put(body, 1), put(body, 1)])
    assert (edited["status"], edited["version"]) == ("updated", 2)
    assert (edited_again["status"], edited_again["version"]) == ("unchanged", 2)
    assert await count(beneficiaries_db, Individual) == 2
    async with beneficiaries_db.sessionmaker() as session:
        ended = await session.scalar(
            select(Membership.id).where(Membership.ended_on.is_not(None)).limit(1)
        )
    assert ended is None, "no member was removed and re-added"


# -- order ----------------------------------------------------------------------------------


async def test_members_are_answered_in_the_order_sent_on_every_path(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    rng = random.Random(1240)
    # A sync batch of new households (written together), as the report measured it.
    offline = [household_with_id(shuffled_household(rng, rng.randint(2, 8))) for _ in range(300)]
    answers = await sync(registry, registrar, [put(body) for body in offline])
    assert {a["status"] for a in answers} == {"created"}
    for body in offline[::7]:
        read = await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)
        assert order_of(read.json()) == sent_order(body)
    assert await count(beneficiaries_db, HouseholdRow) == 300

    # One by one: POST, PUT, and the batch's one-household path (an earlier operation of
    # the batch names the same household).
    for _ in range(15):
        body = shuffled_household(rng, rng.randint(3, 7))
        posted = await registry.post(f"{BASE}/households", json=body, headers=registrar)
        assert order_of(posted.json()) == sent_order(body)
        read = await registry.get(posted.headers["location"], headers=registrar)
        assert order_of(read.json()) == sent_order(body)

        body = household_with_id(shuffled_household(rng, rng.randint(3, 7)))
        url = f"{BASE}/households/{body['id']}"
        created = await registry.put(url, json=body, headers=registrar)
        assert order_of(created.json()) == sent_order(body)
        # Replaced in another order: answered in the new one, the people keeping their ids.
        ids = {m["given_name"] + m["birth_date"]: m["id"] for m in created.json()["members"]}
        rng.shuffle(body["members"])
        replaced = await registry.put(url, json=body, headers={**registrar, "If-Match": '"v1"'})
        assert order_of(replaced.json()) == sent_order(body)
        assert all(
            ids[m["given_name"] + m["birth_date"]] == m["id"] for m in replaced.json()["members"]
        )

        body = household_with_id(shuffled_household(rng, rng.randint(3, 7)))
        bad_first = {"op": "member.leave", "household_id": body["id"], "individual_id": body["id"]}
        invalid, created_slowly = await sync(
            registry, registrar, [{**bad_first, "base_version": 1}, put(body)]
        )
        assert invalid["status"] == "invalid", "no such household yet"
        assert created_slowly["status"] == "created", created_slowly
        read = await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)
        assert order_of(read.json()) == sent_order(body)


def household_with_id(body: dict[str, Any]) -> dict[str, Any]:
    body["id"] = str(uuid.uuid4())
    return body


async def test_people_who_join_come_after_those_already_there(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    family = household(
        [
            member("Abdi", "Omar", "Ahmed", sex="M", birth_date="1998-03-03", relationship="child"),
            member("Omar", "Ahmed", "Youssouf", sex="M", birth_date="1970-01-01"),
            member("Deka", "Idriss", "Ali", birth_date="2000-04-04", relationship="other_relative"),
        ]
    )
    created = (await registry.post(f"{BASE}/households", json=family, headers=registrar)).json()
    url = f"{BASE}/households/{created['id']}"
    ids = {m["given_name"]: m["id"] for m in created["members"]}
    born = await registry.post(
        f"{url}/members",
        json={
            "member": member(
                "Nasra", "Abdi", "Omar", birth_date="2026-02-10", relationship="child"
            ),
            "joined_on": "2026-02-10",
            "reason": "birth",
        },
        headers={**registrar, "If-Match": '"v1"'},
    )
    assert [m["given_name"] for m in born.json()["members"]] == ["Abdi", "Omar", "Deka", "Nasra"]

    split = await registry.post(
        f"{url}/split",
        json={
            "members": [
                {"individual_id": ids["Deka"], "relationship_to_head": "head"},
                {"individual_id": ids["Abdi"], "relationship_to_head": "spouse"},
            ],
            "location": {"locality_code": "DJ-DJ-BALBALA-HODAN"},
            "split_on": "2026-03-10",
        },
        headers={**registrar, "If-Match": born.headers["etag"]},
    )
    assert split.status_code == 201, split.text
    young = split.json()["new_household"]
    assert [m["given_name"] for m in young["members"]] == ["Deka", "Abdi"], "the order given"
    remaining = split.json()["household"]
    assert [m["given_name"] for m in remaining["members"]] == ["Omar", "Nasra"]

    merged = await registry.post(
        f"{url}/merge",
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
    assert [m["given_name"] for m in merged.json()["members"]] == ["Omar", "Nasra", "Abdi", "Deka"]
