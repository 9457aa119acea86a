"""A partner whose agreement allows only the names and programmes of refugee households in
Obock sees exactly that, and nothing else, through every endpoint of the registry.

The endpoints come from the registry's own OpenAPI document: every operation is probed with
the partner's token. Those in PARTNER_ENDPOINTS are the ones a partner can reach, each with
the questions it is asked and exactly what it must answer; every other one must refuse the
partner. A new endpoint is therefore checked the day it is added: refused, or listed here
with its checks."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.beneficiaries.callbacks import events
from services.beneficiaries.callbacks.worker import deliver_due
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.partners.lists import csv_rows, list_csv, matched, upload
from tests.beneficiaries.partners.world import (
    DCI_ASYNC_SEARCH,
    DCI_ASYNC_TXN_STATUS,
    DCI_SEARCH,
    DCI_TXN_STATUS,
    NAMES,
    World,
    add_agreement,
    build,
    partner,
    predicate,
    search_message,
    search_request,
    txn_status_message,
)
from tests.support.tokens import TokenFactory

PAGE = {"page_size": 10, "page_number": 1}


def _names(given: str, second: str, surname: str) -> dict[str, Any]:
    return {
        "@type": "Member",
        "demographic_info": {
            "@type": "SRPerson",
            "name": {
                "@type": "Name",
                "given_name": given,
                "second_name": second,
                "surname": surname,
            },
        },
    }


AMINA, SAGAL = _names("Amina", "Yusuf", "Abdi"), _names("Sagal", "Amina", "Yusuf")
PNSF = {
    "programme": "pnsf",
    "name_en": "PNSF",
    "name_fr": "PNSF",
    "status": "active",
    "enrolled_on": "2026-04-01",
    "status_since": "2026-04-01",
}
# The one household the partner may see, exactly as it must see it.
VISIBLE_GROUP = {
    "@type": "Group",
    "group_type": "household",
    "member_list": [AMINA, SAGAL],
    "additional_attributes": [{"name": "programmes", "value": [PNSF]}],
}


def _only(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answers = response.json()["message"]["search_response"]
    assert len(answers) == 1
    return answers[0]


def _records(expected: list[dict[str, Any]]) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        answer = _only(response)
        assert answer["status"] == "succ", answer
        assert answer["data"]["reg_records"] == expected
        assert answer["pagination"]["total_count"] == len(expected)

    return check


def _rejected(code: str) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        answer = _only(response)
        assert answer["status"] == "rjct"
        assert answer["status_reason_code"] == code
        assert "data" not in answer

    return check


def _search(query_type: str, query: Any, **criteria: Any) -> dict[str, Any]:
    return search_message(search_request(query_type, query, **criteria))


# (body, check) pairs: what a partner asks the DCI search and what it must answer.
DCI_PROBES: list[tuple[dict[str, Any], Callable[[httpx.Response], None]]] = [
    (
        _search("predicate", [predicate("programmes", "eq", "pnsf")], pagination=PAGE),
        _records([VISIBLE_GROUP]),
    ),
    (
        _search("predicate", [predicate("given_name", "eq", "Amina")], pagination=PAGE),
        _records([VISIBLE_GROUP]),
    ),
    # People outside the agreement are not found, even in a visible household.
    (
        _search(
            "predicate",
            [predicate("given_name", "in", ["Nasra", "Hawa", "Deka", "Roukia", "Idil"])],
            pagination=PAGE,
        ),
        _records([]),
    ),
    # Programmes outside the agreement are not found either.
    (
        _search("predicate", [predicate("programmes", "eq", "cantine")], pagination=PAGE),
        _records([]),
    ),
    (
        _search(
            "predicate",
            [predicate("given_name", "in", ["Amina", "Sagal", "Nasra", "Hawa"])],
            pagination=PAGE,
            response_entity="Member",
        ),
        _records([AMINA, SAGAL]),
    ),
    # Predicates and sorts on fields the agreement does not cover are refused.
    (
        _search("predicate", [predicate("legal_status", "eq", "national")], pagination=PAGE),
        _rejected("rjct.search_criteria.invalid"),
    ),
    (
        _search("predicate", [predicate("region_code", "eq", "DJ-AS")], pagination=PAGE),
        _rejected("rjct.search_criteria.invalid"),
    ),
    (
        _search("predicate", [predicate("birth_date", "lt", "2000-01-01")], pagination=PAGE),
        _rejected("rjct.search_criteria.invalid"),
    ),
    (
        _search("idtype-value", {"type": "UNHCR_ID", "value": "UNHCR111"}),
        _rejected("rjct.search_criteria.invalid"),
    ),
    (
        _search(
            "predicate",
            [predicate("given_name", "eq", "Amina")],
            pagination=PAGE,
            sort=[{"attribute_name": "registration_date", "sort_order": "asc"}],
        ),
        _rejected("rjct.sort.invalid"),
    ),
]


async def _probe_dci(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    answers = []
    for body, check in DCI_PROBES:
        response = await client.post(DCI_SEARCH, json=body, headers=headers)
        check(response)
        answers.append(response)
    return answers


# Where the partner's asynchronous answers go (registered in its agreement); what is
# posted there is captured, and checked as the synchronous answer is.
CALLBACK = "https://wfp.example/dci/on-search"
SUBSCRIBE = f"{BASE}/dci/registry/subscribe"
UNSUBSCRIBE = f"{BASE}/dci/registry/unsubscribe"
PARTNER_EXPORTS = f"{BASE}/partner/exports"


def _fresh(body: dict[str, Any]) -> dict[str, Any]:
    """A probe's message with ids of its own (a message id is accepted once)."""
    again = copy.deepcopy(body)
    again["header"]["message_id"] = str(uuid.uuid4())
    again["message"]["transaction_id"] = str(uuid.uuid4())
    return again


def _as_response(body: dict[str, Any], url: str) -> httpx.Response:
    return httpx.Response(200, json=body, request=httpx.Request("POST", url))


async def _posted_callbacks(app: FastAPI) -> list[dict[str, Any]]:
    """The callbacks due, delivered to a receiver that acknowledges each."""
    posted: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == CALLBACK
        posted.append(json.loads(request.content))
        ack = {"ack_status": "ACK", "timestamp": "2026-12-03T08:00:00Z", "correlation_id": "c"}
        return httpx.Response(200, json={"message": ack})

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        state = app.state
        await deliver_due(state.database, state.settings, state.dci_signer, client, state.audit)
    return posted


async def _probe_dci_async(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    """Every DCI probe asked asynchronously: its `on-search` callback, the synchronous
    txn/status of its transaction and the asynchronous one's callback each answer what
    the synchronous search does."""
    answers = []
    for body, check in DCI_PROBES:
        sent = _fresh(body)
        ack = await client.post(DCI_ASYNC_SEARCH, json=sent, headers=headers)
        assert ack.json()["message"]["ack_status"] == "ACK", ack.text
        [on_search] = await _posted_callbacks(app)
        assert on_search["header"]["action"] == "on-search"
        check(_as_response(on_search, CALLBACK))
        status_request = txn_status_message("transaction_id", sent["message"]["transaction_id"])
        status = await client.post(DCI_TXN_STATUS, json=status_request, headers=headers)
        txn_status = status.json()["message"]["txnstatus_response"]["txn_status"]
        check(_as_response({"message": txn_status}, DCI_TXN_STATUS))
        queued = await client.post(
            DCI_ASYNC_TXN_STATUS, json=_fresh(status_request), headers=headers
        )
        assert queued.json()["message"]["ack_status"] == "ACK", queued.text
        [on_status] = await _posted_callbacks(app)
        txn_status = on_status["message"]["txnstatus_response"]["txn_status"]
        check(_as_response({"message": txn_status}, CALLBACK))
        answers += [ack, _as_response(on_search, CALLBACK), status, queued]
        answers.append(_as_response(on_status, CALLBACK))
    # A callback URI its agreement does not register: refused, nothing searched or sent.
    elsewhere = _fresh(DCI_PROBES[0][0])
    elsewhere["header"]["sender_uri"] = "https://elsewhere.example/on-search"
    refused = await client.post(DCI_ASYNC_SEARCH, json=elsewhere, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["message"]["error"]["code"] == "err.sender_uri.invalid"
    assert await _posted_callbacks(app) == []
    return [*answers, refused]


def _subscribe(event_type: str, query: Any, entity: str = "Group") -> dict[str, Any]:
    message = search_message(action="subscribe", total_count=1)
    criteria = {
        "reg_event_type": event_type,
        "filter_type": "predicate",
        "filter": query,
        "notify_record_type": entity,
    }
    message["message"] = {
        "transaction_id": str(uuid.uuid4()),
        "subscribe_request": [
            {
                "reference_id": "s1",
                "timestamp": "2026-12-03T08:00:00Z",
                "subscribe_criteria": criteria,
            }
        ],
    }
    return message


async def _probe_subscriptions(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    """Subscribed to enrollment changes of PNSF households: an event on each household of
    the registry notifies exactly the one household the partner may see, as the search
    shows it; a filter outside the agreement is refused; unsubscribing ends it."""
    answers = []
    outside = await client.post(
        SUBSCRIBE,
        json=_subscribe("REGISTER", [predicate("region_code", "eq", "DJ-AS")]),
        headers=headers,
    )
    subscribed = await client.post(
        SUBSCRIBE,
        json=_subscribe("enrollement_status_change", [predicate("programmes", "eq", "pnsf")]),
        headers=headers,
    )
    on_subscribe = await _posted_callbacks(app)
    refused, accepted = sorted(
        (c["message"]["subscribe_response"][0] for c in on_subscribe),
        key=lambda answer: answer["status"],
    )
    assert refused["status_reason_code"] == "rjct.notify_details.invalid"
    code = accepted["subscriptions"][0]["code"]
    async with app.state.database.sessionmaker() as session, session.begin():
        for household in [world.visible, *world.hidden]:
            await events.registry_event(session, events.EVENT_ENROLLMENT_STATUS, household.id)
    [notify] = await _posted_callbacks(app)
    [event] = notify["message"]["notify_event"]
    assert event["data"]["reg_records"] == [VISIBLE_GROUP]
    unsubscribe = search_message(action="unsubscribe", total_count=1)
    unsubscribe["message"] = {
        "transaction_id": str(uuid.uuid4()),
        "timestamp": "2026-12-03T08:00:00Z",
        "subscription_codes": [code],
    }
    ended = await client.post(UNSUBSCRIBE, json=unsubscribe, headers=headers)
    [on_unsubscribe] = await _posted_callbacks(app)
    assert on_unsubscribe["message"]["status"] == "succ"
    for callback in [*on_subscribe, notify, on_unsubscribe]:
        answers.append(_as_response(callback, CALLBACK))
    return [*answers, outside, subscribed, ended]


async def _probe_exports(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    """Its people exported as CSV and JSON Lines: the two refugees' names, nothing else;
    the household export (no household field in its agreement) refused."""
    names = [
        {"given_name": "Amina", "father_name": "Yusuf", "grandfather_name": "Abdi"},
        {"given_name": "Sagal", "father_name": "Amina", "grandfather_name": "Yusuf"},
    ]
    as_csv = await client.get(f"{PARTNER_EXPORTS}/individuals.csv", headers=headers)
    assert as_csv.status_code == 200, as_csv.text
    assert list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")))) == names
    as_jsonl = await client.get(f"{PARTNER_EXPORTS}/individuals.jsonl", headers=headers)
    assert [json.loads(line) for line in as_jsonl.text.splitlines()] == names
    households = await client.get(f"{PARTNER_EXPORTS}/households.jsonl", headers=headers)
    assert households.status_code == 403
    return [as_csv, as_jsonl, households]


async def _probe_terms(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    response = await client.get("/api/v1/beneficiaries/partner/agreement", headers=headers)
    assert response.status_code == 200, response.text
    terms = response.json()
    assert terms["allowed_fields"] == [*NAMES, "programmes"]
    assert terms["allowed_regions"] == ["DJ-OB"]
    assert terms["allowed_legal_statuses"] == ["refugee"]
    assert set(terms) == {
        "agreement_id",
        "partner_id",
        "allowed_fields",
        "allowed_programmes",
        "allowed_regions",
        "allowed_legal_statuses",
        "allowed_query_types",
        "identifiers",
        "valid_from",
        "valid_to",
        "daily_request_quota",
        "requests_today",
    }
    # Its own terms name the categories it covers; nothing of the registry's records.
    _assert_nothing_leaked(response, world, "GET /partner/agreement", reference=True)
    return []


# A list the partner matches: the one household it may see, and people it may not.
PARTNER_LIST = list_csv(
    ["id", "full_name", "dob", "sex", "unhcr_id"],
    [
        ["row-1", "Amina Yusuf Abdi", "1990-05-17", "F", ""],
        ["row-2", "Hawa Ismail Daher", "1990-05-17", "F", "UNHCR222"],
        ["row-3", "Nasra Kadir Moussa", "1990-05-17", "F", ""],
        ["row-4", "", "", "", "UNHCR444"],
    ],
)


async def _probe_matches(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, app: FastAPI
) -> list[httpx.Response]:
    """Upload, job, list, report (JSON and CSV): Amina matched, with PNSF only; everyone
    else not found. Each of the match endpoints is probed with the whole round."""
    report, answers = await matched(client, app, headers, PARTNER_LIST)
    rows = report["rows"]
    assert rows["row-1"]["outcome"] == "matched"
    assert [p["programme"] for p in rows["row-1"]["programmes"]] == ["pnsf"]
    assert [rows[f"row-{n}"]["outcome"] for n in (2, 3, 4)] == ["not_found"] * 3
    assert (report["job"]["matched"], report["job"]["not_found"]) == (1, 3)
    assert csv_rows(report["csv"])["row-2"]["household"] == ""
    # Wrong columns: a problem naming the partner's own headers, nothing of the registry.
    wrong = await upload(client, headers, list_csv(["id", "colour"], [["1", "x"]]))
    assert wrong.status_code == 422
    return [*answers, wrong]


Probe = Callable[
    [httpx.AsyncClient, dict[str, str], World, FastAPI], Awaitable[list[httpx.Response]]
]

# Every endpoint a partner can reach, with how it is probed. Anything else refuses partners.
PARTNER_ENDPOINTS: dict[tuple[str, str], Probe] = {
    ("POST", "/api/v1/beneficiaries/dci/registry/sync/search"): _probe_dci,
    ("POST", "/api/v1/beneficiaries/dci/registry/search"): _probe_dci_async,
    ("POST", "/api/v1/beneficiaries/dci/registry/sync/txn/status"): _probe_dci_async,
    ("POST", "/api/v1/beneficiaries/dci/registry/txn/status"): _probe_dci_async,
    ("POST", "/api/v1/beneficiaries/dci/registry/subscribe"): _probe_subscriptions,
    ("POST", "/api/v1/beneficiaries/dci/registry/unsubscribe"): _probe_subscriptions,
    ("GET", "/api/v1/beneficiaries/partner/agreement"): _probe_terms,
    ("GET", "/api/v1/beneficiaries/partner/exports/households.{export_format}"): _probe_exports,
    ("GET", "/api/v1/beneficiaries/partner/exports/individuals.{export_format}"): _probe_exports,
    ("POST", "/api/v1/beneficiaries/matches"): _probe_matches,
    ("GET", "/api/v1/beneficiaries/matches"): _probe_matches,
    ("GET", "/api/v1/beneficiaries/matches/{job_id}"): _probe_matches,
    ("GET", "/api/v1/beneficiaries/matches/{job_id}/report.json"): _probe_matches,
    ("GET", "/api/v1/beneficiaries/matches/{job_id}/report.csv"): _probe_matches,
    ("GET", "/api/v1/beneficiaries/matches/{job_id}/report.xlsx"): _probe_matches,
}
# Endpoints that answer anyone, with nothing from the registry in them.
PUBLIC_ENDPOINTS = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/api/v1/beneficiaries/me"),
    ("GET", "/api/v1/beneficiaries/dci/.well-known/jwks.json"),
}
# Public reference data (the country's admin areas) any signed-in caller reads: area codes
# and names, never a household's.
REFERENCE_ENDPOINTS = {("GET", "/api/v1/beneficiaries/admin-areas")}


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]


def _concrete(path: str, world: World, agreement_id: str) -> str:
    """A path's parameters filled with the records the partner may see (and its own
    agreement): even those, staff endpoints do not show it."""
    amina = str(world.visible_people["Amina"])
    values = {
        "household_id": str(world.visible.id),
        "individual_id": amina,
        "agreement_id": agreement_id,
        "code": "pnsf",
        "export_format": "csv",
        "version": "1",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), path)


def _assert_nothing_leaked(
    response: httpx.Response, world: World, where: str, *, reference: bool = False
) -> None:
    # The path the caller asked for comes back as the problem's `instance`: its own input.
    text = response.text.replace(response.request.url.path, "")
    secrets = world.secrets if reference else [*world.secrets, *world.categories]
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, f"{where} answered {leaked}"


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


async def test_every_endpoint_shows_a_partner_exactly_what_its_agreement_allows(
    registry: httpx.AsyncClient, registry_app: FastAPI, world: World, tokens: TokenFactory
) -> None:
    agreement = await add_agreement(registry, tokens, callback_uris=[CALLBACK])
    headers = partner(tokens)
    operations = _operations(registry_app)
    assert set(PARTNER_ENDPOINTS) <= set(operations), "a listed endpoint no longer exists"
    for method, path in operations:
        where = f"{method} {path}"
        if (method, path) in PARTNER_ENDPOINTS:
            for response in await PARTNER_ENDPOINTS[(method, path)](
                registry, headers, world, registry_app
            ):
                _assert_nothing_leaked(response, world, where)
            continue
        url = _concrete(path, world, agreement["id"])
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await registry.request(method, url, json=body, headers=headers)
        reference = (method, path) in REFERENCE_ENDPOINTS
        _assert_nothing_leaked(response, world, where, reference=reference)
        if (method, path) in PUBLIC_ENDPOINTS | REFERENCE_ENDPOINTS:
            assert response.status_code == 200, where
        else:
            assert response.status_code == 403, f"{where} answered a partner {response.status_code}"


async def test_the_names_partner_has_no_identifier_in_its_answers(
    registry: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await add_agreement(registry, tokens)
    response = await registry.post(
        DCI_SEARCH,
        json=_search("predicate", [predicate("programmes", "eq", "pnsf")], pagination=PAGE),
        headers=partner(tokens),
    )
    record = _only(response)["data"]["reg_records"][0]
    assert "group_identifier" not in record
    assert all("member_identifier" not in member for member in record["member_list"])
    assert set(NAMES) == {"given_name", "father_name", "grandfather_name"}
