"""Field-app sync: a batch of offline operations, each answered on its own, and the change
feed a device pulls to stay current."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from inds.synthetic.generator import RegistryGenerator
from services.beneficiaries.app import create_app
from services.beneficiaries.dedup.matching import Candidate, PersonDraft, score, within_reach
from services.beneficiaries.models import AuditEvent, DuplicatePair, Individual
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.records import repository as households_repository
from services.beneficiaries.records.schemas import Household
from shared.db import Database
from tests.beneficiaries.helpers import BASE, count
from tests.beneficiaries.payloads import household, member, with_ids
from tests.support.apps import serve
from tests.support.databases import migrated_databases
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

BATCH = f"{BASE}/sync/batch"
CHANGES = f"{BASE}/sync/changes"


async def send(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    operations: list[Any],
    key: str | None = None,
    **envelope: Any,
) -> httpx.Response:
    return await client.post(
        BATCH,
        json={"operations": operations, **envelope},
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def results(
    client: httpx.AsyncClient, headers: dict[str, str], operations: list[Any]
) -> list[dict[str, Any]]:
    response = await send(client, headers, operations)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def put(body: dict[str, Any], base_version: int | None = None) -> dict[str, Any]:
    operation = {"op": "household.put", "household_id": body["id"], "household": body}
    if base_version is not None:
        operation["base_version"] = base_version
    return operation


def national(value: str) -> list[dict[str, str]]:
    return [{"type": "national_id", "value": value}]


def new_household(locality: str = "DJ-DJ-BALBALA-PK12", **member_fields: Any) -> dict[str, Any]:
    body = with_ids(household(locality=locality))
    body["members"][0].update(member_fields)
    return body


# -- POST /sync/batch ----------------------------------------------------------------------


async def test_households_created_offline_are_registered_together(
    registry: httpx.AsyncClient,
    registrar: dict[str, str],
    beneficiaries_db: Database,
) -> None:
    first, second = new_household(), new_household("DJ-AS-ALISABIEH-VILLE")
    # Hodan (born 2012) appears in both: the second is flagged against the first.
    answer = await send(registry, registrar, [put(first), put(second)], device_id="TAB-007")
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == {"created": 2}
    assert answer.json()["results"] == [
        {
            "index": 0,
            "op": "household.put",
            "status": "created",
            "household_id": first["id"],
            "version": 1,
        },
        {
            "index": 1,
            "op": "household.put",
            "status": "created",
            "household_id": second["id"],
            "version": 1,
        },
    ]

    read = await registry.get(f"{BASE}/households/{second['id']}", headers=registrar)
    assert read.status_code == 200
    document = Household.model_validate(read.json())
    assert document.version == 1
    assert document.location.region_code == "DJ-AS"
    assert [str(m.id) for m in document.members] == [m["id"] for m in second["members"]]
    assert document.members[0].identifiers[0].value == "+25377123456"
    assert {str(flag.candidate_household_id) for flag in document.possible_duplicates} == {
        first["id"]
    }
    async with beneficiaries_db.sessionmaker() as session:
        audited = (
            await session.execute(
                select(AuditEvent.resource_id, AuditEvent.action, AuditEvent.detail).where(
                    AuditEvent.action == "create"
                )
            )
        ).all()
    assert sorted(str(resource) for resource, _, _ in audited) == sorted(
        [first["id"], second["id"]]
    )
    assert all(detail["via"] == "sync" for _, _, detail in audited), "written by the fast path"
    async with beneficiaries_db.sessionmaker() as session:
        batches = (
            await session.execute(
                select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.action == "sync_batch")
            )
        ).all()
    assert [tuple(row) for row in batches] == [
        ("user:registrar", {"device_id": "TAB-007", "counts": {"created": 2}})
    ]


async def test_the_fast_path_writes_what_the_one_household_service_writes(
    registry: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    body = new_household(
        identifiers=national("0102030405"), disability={"seeing": 3}, education_level="primary"
    )
    twin = with_ids(copy.deepcopy(body))
    twin["members"][0]["identifiers"] = national("0102030499")
    formula = await registry.post(
        f"{BASE}/pmt-formulas",
        json={
            "name": "test",
            "urban": {
                "intercept": 12.0,
                "terms": [
                    {"variable": "log_household_size", "coefficient": -0.3},
                    {"variable": "asset:mobile_phone", "coefficient": 0.1},
                ],
            },
            "rural": {"intercept": 11.0, "terms": []},
        },
        headers=manager,
    )
    assert formula.status_code == 201, formula.text
    await registry.post(
        f"{BASE}/pmt-formulas/{formula.json()['version']}/activate", headers=manager
    )

    assert (await results(registry, manager, [put(body)]))[0]["status"] == "created"
    one_by_one = await registry.put(f"{BASE}/households/{twin['id']}", json=twin, headers=manager)
    assert one_by_one.status_code == 201, one_by_one.text

    def comparable(document: dict[str, Any]) -> dict[str, Any]:
        document = copy.deepcopy(document)
        for key in ("id", "registry_number", "created_at", "updated_at", "possible_duplicates"):
            document.pop(key)
        document["pmt"].pop("computed_at")
        for person in document["members"]:
            person.pop("id")
            person.pop("household_id")
            person["identifiers"] = [i for i in person["identifiers"] if i["type"] == "phone"]
        return document

    fast = (await registry.get(f"{BASE}/households/{body['id']}", headers=manager)).json()
    assert fast["pmt"] is not None
    assert comparable(fast) == comparable(one_by_one.json())


async def test_one_bad_item_never_rejects_the_others(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    good, future, other = new_household(), new_household(), new_household()
    future["members"][1]["birth_date"] = "2099-01-01"
    unknown = new_household(locality="DJ-DJ-BALBALA-PK12")
    unknown["location"]["locality_code"] = "DJ-XX-NOWHERE"
    unstorable = new_household()
    unstorable["members"][0]["occupation"] = "pêcheur\u0000"  # PostgreSQL cannot store it
    answer = await results(
        registry,
        registrar,
        [
            put(good),
            put(future),
            "not an operation",
            {"op": "member.teleport", "household_id": good["id"]},
            put(other),
            {
                "op": "member.add",
                "household_id": str(uuid.uuid4()),
                "base_version": 1,
                "member": member("Nasra", relationship="child"),
                "joined_on": "2026-01-02",
                "reason": "birth",
            },
            put(unknown),
            put(unstorable),
        ],
    )
    assert [r["status"] for r in answer] == [
        "created",
        "invalid",
        "invalid",
        "invalid",
        "created",
        "invalid",
        "invalid",
        "invalid",
    ]
    assert answer[1]["errors"][0]["path"] == "household.members.1.birth_date"
    assert answer[1]["household_id"] == future["id"]
    assert answer[3]["errors"][0]["path"] == "op"
    assert answer[5]["message"] == "No household with this id."
    assert answer[6]["errors"] == [
        {"path": "household.location.locality_code", "message": "not a known locality"}
    ]
    assert answer[7]["errors"] == [
        {"path": "household.members.0.occupation", "message": "must not contain NUL characters"}
    ]
    assert await count(beneficiaries_db, HouseholdRow) == 2
    assert await count(beneficiaries_db, Individual) == 4


async def test_operations_json_allows_but_python_cannot_hash_are_invalid_items(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    """Integers past 64 bits and lone surrogate escapes are valid JSON: each operation
    holding them is answered invalid, and a retry gets the same answer back."""
    operations = [
        {"op": "household.put", "household_id": str(uuid.uuid4()), "household": {"x": "\ud915"}},
        10**20,
        ["\ud915", -(10**25)],
    ]
    body = json.dumps({"operations": operations})  # surrogates escaped, as a device sends them
    headers = {**registrar, "Idempotency-Key": "odd-json", "Content-Type": "application/json"}
    first = await registry.post(BATCH, content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"invalid": 3}
    again = await registry.post(BATCH, content=body, headers=headers)
    assert again.json() == first.json()


async def test_an_operation_nested_absurdly_deep_is_refused_by_its_index(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    deep: Any = {"op": "member.update"}
    for _ in range(40):
        deep = {"nested": [deep]}
    answer = await send(registry, registrar, [put(new_household()), deep])
    assert answer.status_code == 422, answer.text
    assert [e["path"] for e in answer.json()["errors"]] == ["body.operations.1"]


async def test_a_batch_needs_an_idempotency_key_and_holds_at_most_500(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    missing = await registry.post(BATCH, json={"operations": []}, headers=registrar)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"

    too_many = await send(registry, registrar, [{"op": "member.update"}] * 501)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["path"] == "body.operations"

    full = await send(registry, registrar, [{"op": "member.update"}] * 500)
    assert full.status_code == 200
    assert full.json()["counts"] == {"invalid": 500}


async def test_replace_unchanged_and_conflict(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    body = new_household()
    assert (await results(registry, registrar, [put(body)]))[0]["status"] == "created"

    changed = copy.deepcopy(body)
    changed["living_conditions"]["rooms"] = 2
    changed["members"].pop()  # the child moved away
    first = (await results(registry, registrar, [put(changed, base_version=1)]))[0]
    assert first == {
        "index": 0,
        "op": "household.put",
        "status": "updated",
        "household_id": body["id"],
        "version": 2,
    }

    # The answer was lost; the device sends the same again: already applied.
    retried, created_again = await results(registry, registrar, [put(changed, 1), put(changed)])
    assert retried["status"] == created_again["status"] == "unchanged"
    assert retried["version"] == created_again["version"] == 2

    # Someone else's change meanwhile: the device's stale edit is a conflict, with the
    # record as it is now.
    other = copy.deepcopy(body)
    other["displacement_status"] = "returnee"
    stale, new_with_taken_id = await results(registry, registrar, [put(other, 1), put(other)])
    assert stale["status"] == "conflict"
    assert stale["reason"].endswith("stale-version")
    assert stale["current_version"] == 2
    current = Household.model_validate(stale["current"])
    assert current.version == 2 and current.living_conditions.rooms == 2
    assert current.displacement_status == "none"
    assert new_with_taken_id["status"] == "conflict"
    assert new_with_taken_id["current_version"] == 2

    missing = new_household()
    [gone] = await results(registry, registrar, [put(missing, base_version=3)])
    assert gone["status"] == "invalid"
    assert "base_version null" in gone["message"]


async def test_member_operations_retries_and_conflicts(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    body = new_household()
    head_id, child_id = (m["id"] for m in body["members"])
    baby = member("Nasra", "Omar", "Said", birth_date="2026-02-10", relationship="child")
    baby["id"] = str(uuid.uuid4())
    add = {
        "op": "member.add",
        "household_id": body["id"],
        "base_version": 1,
        "member": baby,
        "joined_on": "2026-02-10",
        "reason": "birth",
    }
    update = {
        "op": "member.update",
        "individual_id": child_id,
        "base_version": 1,
        "changes": {"occupation": "student"},
    }
    answer = await results(registry, registrar, [put(body), add, update])
    assert [(r["status"], r.get("version")) for r in answer] == [
        ("created", 1),
        ("updated", 2),
        ("updated", 2),
    ]
    assert answer[1]["individual_id"] == baby["id"]
    assert answer[2]["household_version"] == 3, "a person's change is a household change too"

    # Retried after a lost answer: already there.
    again = await results(registry, registrar, [add, update])
    assert [(r["status"], r["version"]) for r in again] == [("unchanged", 3), ("unchanged", 2)]

    # The same person id with other data, and a stale correction: conflicts.
    other_baby = {**add, "member": {**baby, "birth_date": "2026-02-11"}}
    stale_update = {**update, "changes": {"occupation": "vendeuse"}}
    conflicts = await results(registry, registrar, [other_baby, stale_update])
    assert [r["status"] for r in conflicts] == ["conflict", "conflict"]
    assert conflicts[0]["current_version"] == 3
    assert conflicts[1]["current_version"] == 2, "the person's version"
    assert conflicts[1]["household_id"] == body["id"]
    child = next(m for m in conflicts[1]["current"]["members"] if m["id"] == child_id)
    assert child["occupation"] == "student"

    head = {
        "op": "head.change",
        "household_id": body["id"],
        "base_version": 3,
        "individual_id": child_id,
        "changed_on": "2026-03-01",
        "reason": "household_decision",
        "former_head_relationship": "parent",
    }
    leave = {
        "op": "member.leave",
        "household_id": body["id"],
        "base_version": 4,
        "individual_id": baby["id"],
        "left_on": "2026-03-05",
        "reason": "death",
    }
    changed = await results(registry, registrar, [head, leave])
    assert [(r["status"], r["version"]) for r in changed] == [("updated", 4), ("updated", 5)]
    retried = await results(registry, registrar, [head, leave])
    assert [(r["status"], r["version"]) for r in retried] == [("unchanged", 5), ("unchanged", 5)]

    read = (await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)).json()
    assert read["version"] == 5
    assert {m["id"]: m["relationship_to_head"] for m in read["members"]} == {
        child_id: "head",
        head_id: "parent",
    }


async def test_a_failing_item_leaves_nothing_behind(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    submitted, body = new_household(), new_household()
    submitted["registration"] = {
        "source": "field_app",
        "date": "2026-03-02",
        "device_id": "TAB-1",
        "submission_id": "sub-1",
    }
    await results(registry, registrar, [put(submitted), put(body)])
    head_id, child_id = (m["id"] for m in body["members"])
    # The child is removed and the head changed before the household's row is written,
    # and that write fails (the submission belongs to another household): the savepoint
    # takes it all back, and the next item goes ahead.
    changed = copy.deepcopy(body)
    changed["members"].pop()
    changed["members"][0]["occupation"] = "teacher"
    changed["registration"] = submitted["registration"]
    update = {
        "op": "member.update",
        "individual_id": head_id,
        "base_version": 1,
        "changes": {"occupation": "nurse"},
    }
    refused, updated = await results(registry, registrar, [put(changed, 1), update])
    assert refused["status"] == "conflict"
    assert refused["current"]["member_count"] == 2
    assert updated == {
        "index": 1,
        "op": "member.update",
        "status": "updated",
        "household_id": body["id"],
        "individual_id": head_id,
        "version": 2,
        "household_version": 2,
    }
    history = await registry.get(f"{BASE}/households/{body['id']}/history", headers=registrar)
    assert {span["individual_id"]: span["ended_on"] for span in history.json()} == {
        head_id: None,
        child_id: None,
    }
    read = (await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)).json()
    assert read["registration"]["source"] == "door_to_door"
    assert [m["occupation"] for m in read["members"]] == ["nurse", None]
    assert await count(beneficiaries_db, AuditEvent, AuditEvent.action == "replace") == 0


async def test_operations_take_effect_in_batch_order(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    body = new_household()
    baby = member("Nasra", "Omar", "Said", birth_date="2026-02-10", relationship="child")
    add = {
        "op": "member.add",
        "household_id": body["id"],
        "base_version": 1,
        "member": baby,
        "joined_on": "2026-02-10",
        "reason": "birth",
    }
    # Joining a household not registered yet, then registering it: the first fails.
    answer = await results(registry, registrar, [add, put(body), add])
    assert [r["status"] for r in answer] == ["invalid", "created", "updated"]
    assert answer[1]["version"] == 1 and answer[2]["version"] == 2
    assert "individual_id" not in answer[0], "no id is made up for what was not saved"
    read = (await registry.get(f"{BASE}/households/{body['id']}", headers=registrar)).json()
    nasra = next(m for m in read["members"] if m["given_name"] == "Nasra")
    assert answer[2]["individual_id"] == nasra["id"], "the id given to the new member"


async def test_identifiers_and_submissions_registered_already_are_conflicts(
    registry: httpx.AsyncClient, registrar: dict[str, str]
) -> None:
    holder = new_household(identifiers=national("1234567890"))
    assert (await results(registry, registrar, [put(holder)]))[0]["status"] == "created"

    again = new_household(identifiers=national("12-3456-7890"))
    first = new_household(identifiers=national("5555555555"))
    second = new_household(identifiers=national("5555555555"))
    fielded = {
        "source": "field_app",
        "date": "2026-03-02",
        "device_id": "TAB-1",
        "submission_id": "sub-1",
    }
    submitted, resubmitted = new_household(), new_household()
    submitted["registration"] = resubmitted["registration"] = fielded
    answer = await results(
        registry,
        registrar,
        [put(again), put(first), put(second), put(submitted), put(resubmitted)],
    )
    assert [r["status"] for r in answer] == [
        "conflict",
        "created",
        "conflict",
        "created",
        "conflict",
    ]
    assert answer[0]["reason"].endswith("duplicate-identifier")
    assert answer[0]["details"] == {
        "identifier_type": "national_id",
        "existing_individual_id": holder["members"][0]["id"],
        "existing_household_id": holder["id"],
    }
    assert "current" not in answer[0], "a new household has no current record"
    assert answer[2]["details"]["existing_household_id"] == first["id"]


async def test_the_fast_path_falls_back_to_one_by_one_when_the_registry_moved(
    registry: httpx.AsyncClient,
    registrar: dict[str, str],
    beneficiaries_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = new_household(identifiers=national("7777777777"))
    await results(registry, registrar, [put(holder)])

    # As if another request registered the identifier between the check and the write.
    async def nothing_taken(*_: Any) -> households_repository.Taken:
        return households_repository.Taken()

    monkeypatch.setattr(households_repository, "taken", nothing_taken)
    fine, clashing = new_household(), new_household(identifiers=national("7777777777"))
    answer = await results(registry, registrar, [put(fine), put(clashing)])
    assert [r["status"] for r in answer] == ["created", "conflict"]
    assert answer[1]["details"]["existing_household_id"] == holder["id"]
    assert await count(beneficiaries_db, HouseholdRow) == 2
    async with beneficiaries_db.sessionmaker() as session:
        detail = await session.scalar(
            select(AuditEvent.detail).where(AuditEvent.resource_id == uuid.UUID(fine["id"]))
        )
    assert "via" not in detail, "registered by the one-household service"


async def test_registrars_are_refused_per_item_outside_their_regions(
    registry: httpx.AsyncClient, tokens: TokenFactory, manager: dict[str, str]
) -> None:
    elsewhere = new_household()  # Djibouti city
    await results(registry, manager, [put(elsewhere)])
    ali_sabieh = as_role(tokens, "registrar", regions=["DJ-AS"])
    mine, not_mine = new_household("DJ-AS-ALISABIEH-VILLE"), new_household()
    changed = copy.deepcopy(elsewhere)
    changed["living_conditions"]["rooms"] = 4
    correction = {
        "op": "member.update",
        "individual_id": elsewhere["members"][0]["id"],
        "base_version": 1,
        "changes": {"occupation": "teacher"},
    }
    answer = await results(
        registry, ali_sabieh, [put(mine), put(not_mine), put(changed, 1), correction]
    )
    assert [r["status"] for r in answer] == ["created", "forbidden", "forbidden", "forbidden"]
    assert "DJ-DJ" in answer[1]["message"]
    assert "current" not in answer[2]
    read = await registry.get(f"{BASE}/households/{elsewhere['id']}", headers=manager)
    assert read.json()["version"] == 1


async def test_a_replayed_batch_returns_the_stored_answer_and_changes_nothing(
    registry: httpx.AsyncClient,
    registrar: dict[str, str],
    registry_app: FastAPI,
    beneficiaries_db: Database,
) -> None:
    body = new_household()
    await results(registry, registrar, [put(body)])
    changed = copy.deepcopy(body)
    changed["living_conditions"]["rooms"] = 3
    operations = [put(changed, 1), put(new_household())]
    first = await send(registry, registrar, operations, key="tab-7-batch-42")
    assert first.json()["counts"] == {"updated": 1, "created": 1}
    await registry_app.state.audit.flush()
    audit_rows = await count(beneficiaries_db, AuditEvent)
    households = await count(beneficiaries_db, HouseholdRow)

    replay = await send(registry, registrar, operations, key="tab-7-batch-42")
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    await registry_app.state.audit.flush()
    assert await count(beneficiaries_db, AuditEvent) == audit_rows
    assert await count(beneficiaries_db, HouseholdRow) == households
    async with beneficiaries_db.sessionmaker() as session:
        version = await session.scalar(
            select(HouseholdRow.version).where(HouseholdRow.id == uuid.UUID(body["id"]))
        )
    assert version == 2

    other = await send(registry, registrar, [put(new_household())], key="tab-7-batch-42")
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")


async def test_people_of_one_batch_are_flagged_once_against_each_other(
    registry: httpx.AsyncClient, registrar: dict[str, str], beneficiaries_db: Database
) -> None:
    first = new_household()
    second = new_household()
    await results(registry, registrar, [put(first), put(second)])
    # The two heads and the two children look alike: one pair each, newer against older.
    async with beneficiaries_db.sessionmaker() as session:
        pairs = (
            await session.execute(select(DuplicatePair.individual_id, DuplicatePair.candidate_id))
        ).all()
    expected = {
        (uuid.UUID(new["id"]), uuid.UUID(old["id"]))
        for new, old in zip(second["members"], first["members"], strict=True)
    }
    assert set(pairs) == expected


# -- GET /sync/changes ---------------------------------------------------------------------
# The feed only shows committed transactions, so these tests use a database of their own
# whose writes really commit (and which is dropped at the end).


@pytest.fixture(scope="module")
async def feed_url(postgres_url: str) -> AsyncIterator[str]:
    name = f"inds_test_{uuid.uuid4().hex[:8]}_sync_feed"
    async with migrated_databases(postgres_url, {"beneficiaries": name}) as urls:
        yield urls["beneficiaries"]


@pytest.fixture
async def feed_app(tokens: TokenFactory) -> FastAPI:
    return create_app(registry_settings(tokens))


@pytest.fixture
async def feed(feed_app: FastAPI, feed_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(feed_app, Database(feed_url), "http://beneficiaries.test") as client:
        yield client


async def pull(
    client: httpx.AsyncClient, headers: dict[str, str], since: str | None, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        CHANGES, params={**({"since": since} if since else {}), **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def pull_all(
    client: httpx.AsyncClient, headers: dict[str, str], since: str | None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every change since `since`, following `has_more`; and the cursor for next time."""
    changes: list[dict[str, Any]] = []
    while True:
        page = await pull(client, headers, since, **params)
        changes += page["changes"]
        since = page["next_cursor"]
        if not page["has_more"]:
            return changes, since


async def test_the_feed_gives_every_change_once_in_change_order(
    feed: httpx.AsyncClient, manager: dict[str, str], feed_app: FastAPI, feed_url: str
) -> None:
    _, cursor = await pull_all(feed, manager, None)
    created = [new_household() for _ in range(7)]
    await results(feed, manager, [put(body) for body in created])
    changed = copy.deepcopy(created[2])
    changed["living_conditions"]["rooms"] = 5
    await results(feed, manager, [put(changed, 1)])

    seen: list[tuple[str, int]] = []
    page = await pull(feed, manager, cursor, limit=3)
    assert page["has_more"] is True and len(page["changes"]) == 3
    seen += [(c["household_id"], c["version"]) for c in page["changes"]]
    # A household of the first page changes while the device pages on: it comes again,
    # as the new change it is, at its new place.
    again = copy.deepcopy(created[0])
    again["living_conditions"]["rooms"] = 6
    await results(feed, manager, [put(again, 1)])
    rest, cursor = await pull_all(feed, manager, page["next_cursor"], limit=3)
    seen += [(c["household_id"], c["version"]) for c in rest]
    for change in page["changes"] + rest:
        assert Household.model_validate(change["household"]).version == change["version"]

    ids = [body["id"] for body in created]
    assert seen == [
        (ids[0], 1),
        (ids[1], 1),
        (ids[3], 1),
        (ids[4], 1),
        (ids[5], 1),
        (ids[6], 1),
        (ids[2], 2),
        (ids[0], 2),
    ]
    assert (await pull(feed, manager, cursor))["changes"] == [], "nothing is sent twice"

    await feed_app.state.audit.flush()
    engine = create_async_engine(feed_url, poolclass=NullPool)
    async with engine.connect() as connection:
        read = await connection.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "read",
                AuditEvent.resource_id == uuid.UUID(ids[4]),
                AuditEvent.detail["view"].astext == "sync",
            )
        )
    await engine.dispose()
    assert read == 1


async def test_a_change_committed_late_is_not_missed(
    feed: httpx.AsyncClient, manager: dict[str, str], feed_url: str
) -> None:
    early = new_household()
    await results(feed, manager, [put(early)])
    _, cursor = await pull_all(feed, manager, None)

    engine = create_async_engine(feed_url, poolclass=NullPool)
    try:
        async with engine.connect() as slow_writer:
            # A transaction changes `early` (taking its sequence number now) and stays open
            # while a later change commits.
            await slow_writer.execute(
                text("UPDATE household SET version = version + 1, rooms = 3 WHERE id = :id"),
                {"id": early["id"]},
            )
            late = new_household()
            await results(feed, manager, [put(late)])
            while_open = await pull(feed, manager, cursor)
            assert while_open["changes"] == [], "the later change waits for the earlier one"
            assert while_open["has_more"] is False
            await slow_writer.commit()

        async with engine.connect() as connection:
            stamps = dict(
                (
                    await connection.execute(
                        text("SELECT id::text, change_seq FROM household WHERE id = ANY(:ids)"),
                        {"ids": [uuid.UUID(early["id"]), uuid.UUID(late["id"])]},
                    )
                ).all()
            )
        # What makes this the hard case: a cursor over sequence numbers alone would have
        # moved past `early` when it read `late`.
        assert stamps[early["id"]] < stamps[late["id"]]
    finally:
        await engine.dispose()

    changes, _ = await pull_all(feed, manager, while_open["next_cursor"])
    assert [(c["household_id"], c["version"]) for c in changes] == [
        (early["id"], 2),
        (late["id"], 1),
    ]
    assert changes[0]["household"]["living_conditions"]["rooms"] == 3


async def test_the_feed_is_limited_to_the_regions_asked_and_allowed(
    feed: httpx.AsyncClient, tokens: TokenFactory, manager: dict[str, str]
) -> None:
    _, cursor = await pull_all(feed, manager, None)
    city, ali_sabieh, obock, tadjourah = (
        new_household(locality)
        for locality in (
            "DJ-DJ-BALBALA-PK12",
            "DJ-AS-ALISABIEH-VILLE",
            "DJ-OB-OBOCK-MARKAZI",
            "DJ-TA-TADJOURAH-VILLE",
        )
    )
    await results(feed, manager, [put(city), put(ali_sabieh), put(obock), put(tadjourah)])

    def ids(changes: list[dict[str, Any]]) -> list[str]:
        return [c["household_id"] for c in changes]

    registrar = as_role(tokens, "registrar", regions=["DJ-AS", "DJ-OB"])
    assert ids((await pull_all(feed, registrar, cursor))[0]) == [ali_sabieh["id"], obock["id"]]
    only = (await pull_all(feed, registrar, cursor, region="DJ-OB"))[0]
    assert ids(only) == [obock["id"]]
    refused = await feed.get(CHANGES, params={"region": "DJ-AS,DJ-DJ"}, headers=registrar)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"

    both = (await pull_all(feed, manager, cursor, region=["DJ-TA", "DJ-DJ"]))[0]
    assert ids(both) == [city["id"], tadjourah["id"]]
    commas = (await pull_all(feed, manager, cursor, region="DJ-TA,DJ-DJ", limit=1))[0]
    assert ids(commas) == ids(both)
    everything = (await pull_all(feed, manager, cursor, limit=2))[0]
    assert ids(everything) == [b["id"] for b in (city, ali_sabieh, obock, tadjourah)]

    bad = await feed.get(CHANGES, params={"since": "not-a-cursor"}, headers=manager)
    assert bad.status_code == 400


# -- flagging a batch's people -------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8])
def test_the_candidates_left_out_before_scoring_could_never_be_flagged(threshold: float) -> None:
    """A big batch reads its candidates' households and identifiers only for those whose
    names and birth date leave them within reach of the threshold: none that `score` would
    flag may be left out."""
    rng = random.Random(7)
    people = [
        person
        for household in RegistryGenerator(seed=11, duplicate_rate=0.3).households(400)
        for person in household["members"]
    ]
    localities = ["DJ-DJ-BALBALA-PK12", "DJ-AS-ALIADDEH-VILLAGE"]
    shared = [frozenset(), frozenset({("phone", "+25377000001")})]

    def candidate(person: dict[str, Any]) -> Candidate:
        born = date.fromisoformat(person["birth_date"]) + timedelta(days=rng.choice([0, 9, 200]))
        return Candidate(
            individual_id=uuid.uuid4(),
            household_id=None,
            given_name=person["given_name"],
            father_name=person["father_name"],
            grandfather_name=person["grandfather_name"],
            sex=person["sex"],
            birth_date=born,
            birth_date_estimated=rng.random() < 0.3,
            locality_code=rng.choice(localities),
            region_code=None,
            shared_identifiers=rng.choice(shared),
        )

    flagged = kept = 0
    for person in people[:300]:
        draft = PersonDraft(
            person["given_name"],
            person["father_name"],
            person["grandfather_name"],
            person["sex"],
            date.fromisoformat(person["birth_date"]),
            person["birth_date_estimated"],
            rng.choice(localities),
            None,
            rng.choice(shared),
        )
        others = [candidate(other) for other in rng.sample(people, 40)] + [candidate(person)]
        reachable = set(
            within_reach(
                draft,
                threshold,
                [
                    (
                        c.individual_id,
                        c.given_name,
                        c.father_name,
                        c.grandfather_name,
                        c.birth_date,
                        c.birth_date_estimated,
                    )
                    for c in others
                ],
            )
        )
        for other in others:
            if score(draft, other).score >= threshold:
                flagged += 1
                assert other.individual_id in reachable, (draft, other)
        kept += len(reachable)
    assert flagged > 50, "the sample holds pairs that are flagged"
    assert kept < 41 * 300 / 2, "and most candidates are left out"
