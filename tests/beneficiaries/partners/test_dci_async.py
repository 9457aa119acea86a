"""The DCI asynchronous search end to end: ACK, then the signed `on-search` posted to the
partner's registered callback (a real receiver process on loopback), retried with backoff
when the receiver fails, delivered by a new worker after a restart, never twice; and the
transaction's status, synchronous and asynchronous."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from services.beneficiaries.app import create_app
from services.beneficiaries.callbacks import repository as outbox
from services.beneficiaries.callbacks.worker import callback_client, deliver_due, forget_finished
from services.beneficiaries.dci import signatures
from services.beneficiaries.dci.signatures import RegistrySigner
from services.beneficiaries.models import AuditEvent, DataSharingAgreement, DciDelivery
from shared.audit import AuditTrail
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.world import (
    DCI_ASYNC_SEARCH,
    DCI_ASYNC_TXN_STATUS,
    DCI_TXN_STATUS,
    World,
    add_agreement,
    build,
    partner,
    predicate,
    search_message,
    search_request,
    txn_status_message,
)
from tests.support.apps import serve
from tests.support.callbacks import CallbackReceiver, deliver
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

PAGE = {"page_size": 10, "page_number": 1}


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


def _search(**header: Any) -> dict[str, Any]:
    return search_message(
        search_request("predicate", [predicate("programmes", "eq", "pnsf")], pagination=PAGE),
        **header,
    )


async def _deliveries(database: Database) -> list[DciDelivery]:
    async with database.sessionmaker() as session:
        rows = await session.execute(select(DciDelivery).order_by(DciDelivery.created_at))
        return list(rows.scalars())


def _verify(app: FastAPI, callback: dict[str, Any]) -> None:
    """The callback carries the registry's signature over its header and message."""
    signer = app.state.dci_signer
    raw = base64.urlsafe_b64decode(signer.jwks["keys"][0]["x"] + "=")
    signatures.verify(
        callback["signature"],
        callback["header"],
        callback["message"],
        app.state.settings.dci_registry_id,
        [{"kid": signer.kid, "public_key": base64.b64encode(raw).decode()}],
    )


def _names(callback: dict[str, Any]) -> list[str]:
    [answer] = callback["message"]["search_response"]
    return [
        member["demographic_info"]["name"]["given_name"]
        for record in answer["data"]["reg_records"]
        for member in record["member_list"]
    ]


async def test_async_search_acks_then_posts_the_signed_answer_to_the_callback_once(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    sent = _search(sender_uri=receiver.uri)
    response = await registry.post(DCI_ASYNC_SEARCH, json=sent, headers=partner(tokens))
    assert response.status_code == 200, response.text
    ack = response.json()["message"]
    assert ack["ack_status"] == "ACK"
    assert receiver.received() == []  # the answer comes by callback, not in the ACK

    assert await deliver(registry_app) == 1
    [callback] = receiver.received()
    _verify(registry_app, callback)
    assert callback["header"]["action"] == "on-search"
    assert callback["header"]["status"] == "succ"
    assert callback["header"]["receiver_id"] == "wfp-dj"
    assert callback["message"]["transaction_id"] == sent["message"]["transaction_id"]
    assert callback["message"]["correlation_id"] == ack["correlation_id"]
    # Filtered by the agreement as the synchronous search is: the refugees of the one
    # household it may see, their names only.
    assert _names(callback) == ["Amina", "Sagal"]
    assert "group_identifier" not in callback["message"]["search_response"][0]["data"]

    # Delivered once: the next rounds send nothing.
    assert await deliver(registry_app) == 0
    assert await deliver(registry_app, datetime.now(UTC) + timedelta(days=1)) == 0
    assert len(receiver.attempts()) == 1
    [delivery] = await _deliveries(registry_app.state.database)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


async def test_the_agreements_first_callback_is_used_when_the_header_names_none(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(
        registry, tokens, callback_uris=[receiver.uri, "https://wfp.example/dci/on-search"]
    )
    response = await registry.post(DCI_ASYNC_SEARCH, json=_search(), headers=partner(tokens))
    assert response.json()["message"]["ack_status"] == "ACK"
    await deliver(registry_app)
    assert [c["header"]["action"] for c in receiver.received()] == ["on-search"]


@pytest.mark.parametrize("registered", [[], ["https://wfp.example/dci/on-search"]])
async def test_a_callback_uri_not_registered_is_refused_and_nothing_is_searched(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
    registered: list[str],
) -> None:
    await add_agreement(registry, tokens, callback_uris=registered)
    headers = partner(tokens)
    for sent in (_search(sender_uri=receiver.uri), _search()):
        if registered and "sender_uri" not in sent["header"]:
            continue  # the registered default would be used
        response = await registry.post(DCI_ASYNC_SEARCH, json=sent, headers=headers)
        assert response.status_code == 400, response.text
        body = response.json()["message"]
        assert body["ack_status"] == "ERR"
        assert body["error"]["code"] == "err.sender_uri.invalid"
    assert await _deliveries(registry_app.state.database) == []
    assert await deliver(registry_app) == 0
    assert receiver.attempts() == []


async def test_a_refused_async_request_keeps_the_http_error_for_401_and_403(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    no_token = await registry.post(DCI_ASYNC_SEARCH, json=_search())
    assert no_token.status_code == 401
    assert no_token.json()["errors"][0]["code"] == "err.request.unauthorized"
    no_agreement = await registry.post(DCI_ASYNC_SEARCH, json=_search(), headers=partner(tokens))
    assert no_agreement.status_code == 403
    assert no_agreement.json()["errors"][0]["code"] == "err.request.forbidden"


async def test_a_failed_callback_is_retried_with_backoff_and_keeps_its_message_id(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    await registry.post(DCI_ASYNC_SEARCH, json=_search(), headers=partner(tokens))
    receiver.control(fail=2)
    start = datetime.now(UTC)
    backoff = registry_app.state.settings.dci_callback_backoff

    assert await deliver(registry_app, start) == 0
    [delivery] = await _deliveries(registry_app.state.database)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 503")
    assert delivery.next_attempt_at == start + timedelta(seconds=backoff)
    # Not due yet: nothing is sent.
    assert await deliver(registry_app, start + timedelta(seconds=backoff / 2)) == 0
    assert len(receiver.attempts()) == 1
    # The second attempt fails too; the third waits twice as long.
    second = start + timedelta(seconds=backoff)
    assert await deliver(registry_app, second) == 0
    [delivery] = await _deliveries(registry_app.state.database)
    assert delivery.next_attempt_at == second + timedelta(seconds=2 * backoff)
    assert await deliver(registry_app, second + timedelta(seconds=2 * backoff)) == 1

    attempts = receiver.attempts()
    assert [a["failed"] for a in attempts] == [True, True, False]
    assert len({a["body"]["header"]["message_id"] for a in attempts}) == 1
    [delivery] = await _deliveries(registry_app.state.database)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


async def test_a_callback_is_given_up_after_its_last_attempt(
    beneficiaries_db: Database, tokens: TokenFactory, receiver: CallbackReceiver
) -> None:
    app = create_app(registry_settings(tokens, dci_callback_max_attempts=2))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as client:
        await add_agreement(client, tokens, callback_uris=[receiver.uri], allowed_programmes=None)
        await client.post(DCI_ASYNC_SEARCH, json=_search(), headers=partner(tokens))
        receiver.control(fail=5)
        later = datetime.now(UTC)
        for _ in range(4):
            await deliver(app, later)
            later += timedelta(hours=2)
    [delivery] = await _deliveries(beneficiaries_db)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert len(receiver.attempts()) == 2


async def test_pending_callbacks_are_delivered_by_the_worker_of_a_restarted_service(
    beneficiaries_db: Database, tokens: TokenFactory, receiver: CallbackReceiver
) -> None:
    """Queued by one service instance whose receiver was down, then the instance stopped;
    a new instance's own background worker (started by its lifespan) delivers them."""
    first = create_app(registry_settings(tokens, dci_callback_backoff=0.01))
    async with serve(first, beneficiaries_db, "http://beneficiaries.test") as client:
        await add_agreement(client, tokens, callback_uris=[receiver.uri], allowed_programmes=None)
        for _ in range(3):
            await client.post(DCI_ASYNC_SEARCH, json=_search(), headers=partner(tokens))
        receiver.control(fail=3)
        assert await deliver(first) == 0
    assert {d.status for d in await _deliveries(beneficiaries_db)} == {"pending"}

    second = create_app(registry_settings(tokens, dci_callback_poll_interval=0.05))
    async with serve(second, beneficiaries_db, "http://beneficiaries.test"):
        received = await receiver.wait_for(3)
        # Stopped only once the worker has recorded them (stopped mid-round, it would
        # leave them pending, to be sent again: the receiver did not see its ACK counted).
        for _ in range(200):
            if second.state.callback_worker.done >= 3:
                break
            await asyncio.sleep(0.05)
    assert len(received) == 3
    assert len({c["header"]["message_id"] for c in received}) == 3
    assert {d.status for d in await _deliveries(beneficiaries_db)} == {"delivered"}


async def _status(
    client: httpx.AsyncClient, headers: dict[str, str], attribute: str, value: Any
) -> dict[str, Any]:
    response = await client.post(
        DCI_TXN_STATUS, json=txn_status_message(attribute, value), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["header"]["action"] == "txn-on-status"
    assert body["message"]["txnstatus_response"]["txn_type"] == "search"
    return body["message"]["txnstatus_response"]["txn_status"]


async def test_txn_status_answers_the_async_search_by_transaction_correlation_and_reference(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    headers = partner(tokens)
    sent = _search()
    ack = (await registry.post(DCI_ASYNC_SEARCH, json=sent, headers=headers)).json()["message"]
    transaction_id = sent["message"]["transaction_id"]
    # Answered before the callback is delivered: the search was done when it was accepted.
    by_transaction = await _status(registry, headers, "transaction_id", transaction_id)
    assert by_transaction["transaction_id"] == transaction_id
    assert by_transaction["correlation_id"] == ack["correlation_id"]
    await deliver(registry_app)
    [callback] = receiver.received()
    assert by_transaction == callback["message"]
    assert (
        await _status(registry, headers, "correlation_id", ack["correlation_id"])
        == (callback["message"])
    )
    by_reference = await _status(registry, headers, "reference_id_list", ["r1", "nope"])
    found, missing = by_reference["search_response"]
    assert found == callback["message"]["search_response"][0]
    assert (missing["reference_id"], missing["status"]) == ("nope", "rjct")
    assert missing["status_reason_code"] == "rjct.reference_id.invalid"

    unknown = await _status(registry, headers, "transaction_id", "no-such-transaction")
    [rejected] = unknown["search_response"]
    assert (rejected["reference_id"], rejected["status"]) == ("status-1", "rjct")
    assert rejected["status_reason_code"] == "rjct.reference_id.invalid"


async def test_callbacks_done_with_are_deleted_after_the_retention_period_pending_ones_kept(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    headers = partner(tokens)
    answered, waiting = _search(), _search()
    await registry.post(DCI_ASYNC_SEARCH, json=answered, headers=headers)
    assert await deliver(registry_app) == 1
    receiver.control(fail=1)
    await registry.post(DCI_ASYNC_SEARCH, json=waiting, headers=headers)
    assert await deliver(registry_app) == 0  # refused once: pending, to be retried
    database, settings = registry_app.state.database, registry_app.state.settings
    kept_for = timedelta(days=settings.dci_delivery_retention_days)

    assert await forget_finished(database, settings, now=datetime.now(UTC) + kept_for / 2) == 0
    assert len(await _deliveries(database)) == 2
    later = datetime.now(UTC) + kept_for + timedelta(minutes=1)
    assert await forget_finished(database, settings, now=later) == 1
    [pending] = await _deliveries(database)
    assert (pending.status, pending.transaction_id) == (
        "pending",
        waiting["message"]["transaction_id"],
    )
    # What the deleted callback told the partner is gone: its transaction is unknown now.
    [gone] = (
        await _status(registry, headers, "transaction_id", answered["message"]["transaction_id"])
    )["search_response"]
    assert gone["status_reason_code"] == "rjct.reference_id.invalid"


async def test_txn_status_finds_nothing_of_another_partner_or_of_a_changed_agreement(
    registry: httpx.AsyncClient,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    agreement = await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    await add_agreement(registry, tokens, partner_id="unicef-dj")
    sent = _search()
    await registry.post(DCI_ASYNC_SEARCH, json=sent, headers=partner(tokens))
    transaction_id = sent["message"]["transaction_id"]

    other = await registry.post(
        DCI_TXN_STATUS,
        json=txn_status_message("transaction_id", transaction_id, sender_id="unicef-dj"),
        headers=partner(tokens, "unicef-dj"),
    )
    [answer] = other.json()["message"]["txnstatus_response"]["txn_status"]["search_response"]
    assert answer["status_reason_code"] == "rjct.reference_id.invalid"
    assert "data" not in answer

    # The ministry narrows the agreement: what the earlier one allowed is not served again.
    changed = await registry.patch(
        f"{BASE}/agreements/{agreement['id']}",
        json={"allowed_fields": ["given_name", "programmes"]},
        headers={**as_role(tokens, "data_manager"), "If-Match": f'"v{agreement["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    status = await _status(registry, partner(tokens), "transaction_id", transaction_id)
    [answer] = status["search_response"]
    assert answer["status_reason_code"] == "rjct.reference_id.invalid"
    assert "data" not in answer


async def test_async_txn_status_acks_and_posts_the_status_to_the_callback(
    registry: httpx.AsyncClient,
    registry_app: FastAPI,
    world: World,
    tokens: TokenFactory,
    receiver: CallbackReceiver,
) -> None:
    await add_agreement(registry, tokens, callback_uris=[receiver.uri])
    headers = partner(tokens)
    sent = _search()
    await registry.post(DCI_ASYNC_SEARCH, json=sent, headers=headers)
    status = await registry.post(
        DCI_ASYNC_TXN_STATUS,
        json=txn_status_message("transaction_id", sent["message"]["transaction_id"]),
        headers=headers,
    )
    assert status.json()["message"]["ack_status"] == "ACK", status.text
    assert await deliver(registry_app) == 2
    # Two deliveries, in no promised order: the search's answer and the status.
    by_action = {body["header"]["action"]: body for body in receiver.received()}
    assert sorted(by_action) == ["on-search", "txn-on-status"]
    on_search, on_status = by_action["on-search"], by_action["txn-on-status"]
    _verify(registry_app, on_status)
    txn = on_status["message"]["txnstatus_response"]
    assert txn["txn_status"] == on_search["message"]


async def test_a_replayed_txn_status_message_is_rejected(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await add_agreement(registry, tokens)
    message = txn_status_message("transaction_id", "t-1")
    first = await registry.post(DCI_TXN_STATUS, json=message, headers=partner(tokens))
    assert first.json()["header"]["status"] == "succ"
    again = await registry.post(DCI_TXN_STATUS, json=message, headers=partner(tokens))
    assert again.json()["header"]["status"] == "rjct"
    assert again.json()["header"]["status_reason_code"] == "rjct.message_id.duplicate"


@pytest.fixture
async def committed(database_urls: dict[str, str]) -> AsyncIterator[list[Database]]:
    """Two workers' own databases (separate connections, committing for real): what
    SKIP LOCKED is about cannot be seen inside one test transaction."""
    workers = [Database(database_urls["beneficiaries"]) for _ in range(2)]
    yield workers
    for database in workers:
        await database.dispose()


async def _committed_agreement(database: Database, uri: str, deliveries: int) -> uuid.UUID:
    async with database.sessionmaker() as session, session.begin():
        agreement = DataSharingAgreement(
            partner_id=f"skip-{uuid.uuid4().hex[:8]}",
            purpose="SKIP LOCKED test",
            legal_basis="test",
            allowed_fields=["given_name"],
            allowed_query_types=["predicate"],
            valid_from=date.today() - timedelta(days=1),
            valid_to=date.today() + timedelta(days=1),
            daily_request_quota=10,
            identifiers="pseudonymised",
            pseudonym_salt="salt",
            signing_keys=[],
            callback_uris=[uri],
        )
        session.add(agreement)
        await session.flush()
        for number in range(deliveries):
            await outbox.enqueue(
                session,
                agreement_id=agreement.id,
                agreement_version=agreement.version,
                partner_id=agreement.partner_id,
                action="on-search",
                transaction_id=f"t-{number}",
                correlation_id=f"c-{number}",
                callback_uri=uri,
                envelope={"header": {"message_id": f"m-{number}"}, "message": {}},
            )
        return agreement.id


async def _drop(database: Database, agreement_id: uuid.UUID) -> None:
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            delete(DataSharingAgreement).where(DataSharingAgreement.id == agreement_id)
        )


async def test_a_row_one_worker_holds_is_skipped_by_another(
    committed: list[Database], receiver: CallbackReceiver
) -> None:
    first, second = committed
    agreement_id = await _committed_agreement(first, receiver.uri, 3)
    try:
        now = datetime.now(UTC) + timedelta(seconds=1)
        async with first.sessionmaker() as holding, holding.begin():
            held = await outbox.claim_due(holding, now, 2)
            async with second.sessionmaker() as other, other.begin():
                rest = await outbox.claim_due(other, now, 10)
            assert len(held) == 2
            assert [r.id for r in rest if r.agreement_id == agreement_id] == [
                r.id for r in await _rows(second, agreement_id) if r.id not in {h.id for h in held}
            ]
    finally:
        await _drop(first, agreement_id)


async def _rows(database: Database, agreement_id: uuid.UUID) -> list[DciDelivery]:
    async with database.sessionmaker() as session:
        statement = select(DciDelivery).where(DciDelivery.agreement_id == agreement_id)
        return list((await session.execute(statement)).scalars())


async def test_two_workers_at_once_send_each_callback_exactly_once(
    committed: list[Database], receiver: CallbackReceiver, tokens: TokenFactory
) -> None:
    settings = registry_settings(tokens)
    signer = RegistrySigner.from_setting(None, settings.dci_registry_id)
    audit = AuditTrail(AuditEvent, flush_interval=None)
    agreement_id = await _committed_agreement(committed[0], receiver.uri, 30)
    receiver.control(delay=0.05)
    try:
        async with callback_client(settings) as one, callback_client(settings) as two:
            sent = await asyncio.gather(
                deliver_due(committed[0], settings, signer, one, audit),
                deliver_due(committed[1], settings, signer, two, audit),
            )
        message_ids = [c["header"]["message_id"] for c in receiver.received()]
        assert sorted(message_ids) == sorted(f"m-{n}" for n in range(30))
        assert sum(sent) == 30
        assert {r.status for r in await _rows(committed[0], agreement_id)} == {"delivered"}
    finally:
        await _drop(committed[0], agreement_id)
