"""DCI subscriptions end to end: a partner subscribes, registry changes (a household
registered, a member joining, an enrollment) are written to the outbox with the change and
notified, signed, to its callback (a real receiver process), filtered by its agreement and
never twice; unsubscribing ends them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.beneficiaries.models import DciDelivery
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    DCI_TXN_STATUS,
    World,
    add_agreement,
    build,
    partner,
    predicate,
    search_message,
    txn_status_message,
)
from tests.beneficiaries.payloads import household, member, with_ids
from tests.support.callbacks import CallbackReceiver, deliver
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

SUBSCRIBE = f"{BASE}/dci/registry/subscribe"
UNSUBSCRIBE = f"{BASE}/dci/registry/unsubscribe"
OBOCK = "DJ-OB-OBOCK-MARKAZI"


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


def _subscribe_message(*requests: dict[str, Any], **header: Any) -> dict[str, Any]:
    message = search_message(action="subscribe", total_count=len(requests), **header)
    message["message"] = {"transaction_id": str(uuid.uuid4()), "subscribe_request": list(requests)}
    return message


def _subscription(
    event_type: str, query: Any, reference_id: str = "s1", **criteria: Any
) -> dict[str, Any]:
    return {
        "reference_id": reference_id,
        "timestamp": "2026-12-03T08:00:00Z",
        "subscribe_criteria": {
            "reg_event_type": event_type,
            "filter_type": "predicate",
            "filter": query,
            "notify_record_type": "Group",
            **criteria,
        },
    }


def _unsubscribe_message(*codes: str) -> dict[str, Any]:
    message = search_message(action="unsubscribe", total_count=len(codes))
    message["message"] = {
        "transaction_id": str(uuid.uuid4()),
        "timestamp": "2026-12-03T08:00:00Z",
        "subscription_codes": list(codes),
    }
    return message


async def _rows(database: Database, action: str) -> list[DciDelivery]:
    async with database.sessionmaker() as session:
        statement = select(DciDelivery).where(DciDelivery.action == action)
        return list((await session.execute(statement.order_by(DciDelivery.created_at))).scalars())


def _refugee_household(given: str) -> dict[str, Any]:
    body = household([member(given, "Yusuf", "Abdi", legal_status="refugee")], locality=OBOCK)
    body["consent"]["scope"] = ["registry", "programmes", "partner_sharing"]
    return body


async def _subscribed(
    registry: httpx.AsyncClient,
    app: FastAPI,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
    *requests: dict[str, Any],
) -> list[dict[str, Any]]:
    """The subscribe responses of the on-subscribe callback."""
    before = len(receiver.received())
    ack = await registry.post(
        SUBSCRIBE, json=_subscribe_message(*requests), headers=partner(tokens)
    )
    assert ack.status_code == 200, ack.text
    assert ack.json()["message"]["ack_status"] == "ACK"
    await deliver(app)
    on_subscribe = receiver.received()[before]
    assert on_subscribe["header"]["action"] == "on-subscribe"
    responses: list[dict[str, Any]] = on_subscribe["message"]["subscribe_response"]
    return responses


async def test_a_new_household_and_its_enrollment_are_notified_as_the_agreement_shows_them(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    [registered, enrolled] = await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription("REGISTER", [predicate("given_name", "eq", "Kadra")], "new"),
        _subscription("enrollement", [predicate("programmes", "eq", "pnsf")], "enrolled"),
    )
    assert (registered["status"], enrolled["status"]) == ("succ", "succ")
    [info] = registered["subscriptions"]
    assert (info["status"], info["reg_event_type"]) == ("subscribe", "REGISTER")

    created = await registry.post(
        f"{BASE}/households", json=_refugee_household("Kadra"), headers=as_role(tokens, "registrar")
    )
    assert created.status_code == 201, created.text
    household_id = created.json()["id"]
    # Not enrolled in PNSF yet: outside the agreement (its programmes), so not notified.
    await deliver(registry_app)
    [notification] = await _rows(registry_app.state.database, "notify")
    assert notification.status == "skipped"
    assert [c["header"]["action"] for c in receiver.received()] == ["on-subscribe"]

    enrollment = await registry.post(
        f"{BASE}/programmes/pnsf/enrollments",
        json={"household_id": household_id, "override_reason": "Test of partner notices"},
        headers=as_role(tokens, "data_manager"),
    )
    assert enrollment.status_code == 201, enrollment.text
    assert await deliver(registry_app) == 1
    notify = receiver.received()[-1]
    assert notify["header"]["action"] == "notify"
    [event] = notify["message"]["notify_event"]
    assert event["reference_id"] == "enrolled"
    [record] = event["data"]["reg_records"]
    assert event["data"]["reg_record_type"] == "Group"
    [person] = record["member_list"]
    assert person["demographic_info"]["name"]["given_name"] == "Kadra"
    # Names and programmes only: no identifier, no location, no household id.
    assert "group_identifier" not in record
    assert household_id not in str(notify)
    assert await deliver(registry_app) == 0  # once


async def test_households_registered_together_are_each_queued_for_the_subscription(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    # A field app's batch is written as an import's is (households/bulk.py): one event each.
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription("REGISTER", [predicate("given_name", "eq", "Kadra")], "new"),
    )
    bodies = [with_ids(_refugee_household(name)) for name in ("Kadra", "Fozia")]
    operations = [
        {"op": "household.put", "household_id": body["id"], "household": body} for body in bodies
    ]
    batch = await registry.post(
        f"{BASE}/sync/batch",
        json={"operations": operations, "device_id": "TAB-009"},
        headers={**as_role(tokens, "registrar"), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["counts"] == {"created": 2}
    queued = await _rows(registry_app.state.database, "notify")
    assert sorted(row.event["household_id"] for row in queued) == sorted(b["id"] for b in bodies)
    assert {row.event["type"] for row in queued} == {"REGISTER"}


async def test_a_joining_member_is_notified_and_an_invisible_one_is_not(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription(
            "NewHouseHoldMember",
            [predicate("programmes", "eq", "pnsf")],
            notify_record_type="Member",
        ),
    )
    visible = str(world.visible.id)
    hidden = next(h for h in world.hidden if h.region_code != "DJ-OB")
    registrar = as_role(tokens, "registrar")
    for household_id, given in ((visible, "Ayan"), (str(hidden.id), "Nimo")):
        read = await registry.get(f"{BASE}/households/{household_id}", headers=registrar)
        joined = await registry.post(
            f"{BASE}/households/{household_id}/members",
            json={
                "member": member(
                    given,
                    "Yusuf",
                    "Abdi",
                    relationship="child",
                    birth_date="2020-01-01",
                    legal_status="refugee",
                ),
                "joined_on": "2026-11-01",
                "reason": "birth",
            },
            headers={**registrar, "If-Match": read.headers["ETag"]},
        )
        assert joined.status_code == 200, joined.text
    assert await deliver(registry_app) == 1
    notify = receiver.received()[-1]
    given_names = [
        record["demographic_info"]["name"]["given_name"]
        for record in notify["message"]["notify_event"][0]["data"]["reg_records"]
    ]
    # The joining member, not the whole household (Member records), nobody from Arta.
    assert given_names == ["Ayan"]
    assert sorted(r.status for r in await _rows(registry_app.state.database, "notify")) == [
        "delivered",
        "skipped",
    ]


async def test_a_change_that_fails_writes_no_event(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri], allowed_programmes=None)
    await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription("REGISTER", [predicate("given_name", "eq", "Kadra")]),
    )
    body = {**_refugee_household("Kadra"), "id": str(world.visible.id)}  # an id taken
    refused = await registry.post(
        f"{BASE}/households", json=body, headers=as_role(tokens, "registrar")
    )
    assert refused.status_code == 409
    assert await _rows(registry_app.state.database, "notify") == []


async def test_subscription_requests_are_judged_against_the_agreement(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    good = [predicate("given_name", "eq", "Kadra")]
    await _subscribed(registry, registry_app, tokens, receiver, _subscription("REGISTER", good))
    answers = await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription("REGISTER", good, "again"),
        _subscription("Death", good, "event"),
        _subscription("REGISTER", [predicate("region_code", "eq", "DJ-AS")], "field"),
        _subscription("REGISTER", good, "again"),
    )
    assert [(a["reference_id"], a["status_reason_code"]) for a in answers] == [
        ("again", "rjct.event.already_subscribed"),
        ("event", "rjct.notify_types.invalid"),
        ("field", "rjct.notify_details.invalid"),
        ("again", "rjct.reference_id.duplicate"),
    ]


async def test_unsubscribing_ends_the_notifications(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri], allowed_programmes=None)
    [answer] = await _subscribed(
        registry,
        registry_app,
        tokens,
        receiver,
        _subscription("REGISTER", [predicate("given_name", "in", ["Kadra", "Idil"])]),
    )
    code = answer["subscriptions"][0]["code"]
    registrar = as_role(tokens, "registrar")
    await registry.post(f"{BASE}/households", json=_refugee_household("Kadra"), headers=registrar)

    mixed = _unsubscribe_message(code, "no-such-code")
    unknown = await registry.post(UNSUBSCRIBE, json=mixed, headers=partner(tokens))
    assert unknown.json()["message"]["ack_status"] == "ACK"
    ended = await registry.post(
        UNSUBSCRIBE, json=_unsubscribe_message(code), headers=partner(tokens)
    )
    assert ended.json()["message"]["ack_status"] == "ACK"
    await registry.post(f"{BASE}/households", json=_refugee_household("Idil"), headers=registrar)
    await deliver(registry_app)

    callbacks = receiver.received()
    actions = [c["header"]["action"] for c in callbacks]
    # Kadra's registration was queued while subscribed, but read after the subscription
    # ended: not sent. Idil's came after: not queued at all.
    assert sorted(actions) == ["on-subscribe", "on-unsubscribe", "on-unsubscribe"]
    answers = {c["message"]["transaction_id"]: c["message"] for c in callbacks}
    refused = answers[mixed["message"]["transaction_id"]]
    [done] = [a for t, a in answers.items() if a is not refused and "subscription_status" in a]
    assert (refused["status"], refused["status_reason_code"]) == (
        "rjct",
        "rjct.subscription_code.invalid",
    )
    assert done["status"] == "succ"
    assert done["subscription_status"] == [{"code": code, "status": "unsubscribe"}]
    assert [r.status for r in await _rows(registry_app.state.database, "notify")] == ["skipped"]

    again = await registry.post(
        UNSUBSCRIBE, json=_unsubscribe_message(code), headers=partner(tokens)
    )
    assert again.status_code == 200
    await deliver(registry_app)
    assert receiver.received()[-1]["message"]["status_reason_code"] == (
        "rjct.event.already_unsubscribed"
    )


async def test_txn_status_answers_a_subscribe_transaction(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    sent = _subscribe_message(_subscription("REGISTER", [predicate("given_name", "eq", "X")]))
    await registry.post(SUBSCRIBE, json=sent, headers=partner(tokens))
    status_request = txn_status_message("transaction_id", sent["message"]["transaction_id"])
    status_request["message"]["txnstatus_request"]["txn_type"] = "subscribe"
    status = await registry.post(DCI_TXN_STATUS, json=status_request, headers=partner(tokens))
    txn = status.json()["message"]["txnstatus_response"]
    assert txn["txn_type"] == "subscribe"
    [answer] = txn["txn_status"]["subscribe_response"]
    assert answer["subscriptions"][0]["reg_event_type"] == "REGISTER"
