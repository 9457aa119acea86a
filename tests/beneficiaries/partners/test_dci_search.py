"""DCI synchronous search in the standard's shapes: idtype-value and predicate queries,
Group and Member records, pagination and sort; and bad input answered with the standard's
codes, nothing searched and nothing saved."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.beneficiaries.app import create_app
from services.beneficiaries.exports.fields import CATALOGUE
from shared.db import Database
from tests.beneficiaries.partners.world import (
    DCI_SEARCH,
    World,
    add_agreement,
    build,
    national_headed_refugee_household,
    partner,
    predicate,
    search_message,
    search_request,
)
from tests.support.apps import serve
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

EVERY_FIELD = sorted({*CATALOGUE["households"], *CATALOGUE["individuals"], "programmes"})
PAGE = {"page_size": 2, "page_number": 1}


@pytest.fixture
async def dci(tokens: TokenFactory, beneficiaries_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The registry with small DCI limits: pages of at most 2, messages of at most 3."""
    app = create_app(registry_settings(tokens, dci_max_page_size=2, dci_max_batch=3))
    async with serve(app, beneficiaries_db, "http://beneficiaries.test") as client:
        yield client


@pytest.fixture
async def world(beneficiaries_db: Database) -> World:
    return await build(beneficiaries_db)


async def _broad(client: httpx.AsyncClient, tokens: TokenFactory, **fields: Any) -> dict[str, Any]:
    """Everything, everywhere, identifiers shown: the shapes in full."""
    fields = {
        "allowed_fields": EVERY_FIELD,
        "allowed_regions": None,
        "allowed_programmes": None,
        "allowed_legal_statuses": None,
        "identifiers": "shown",
        **fields,
    }
    return await add_agreement(client, tokens, **fields)


async def _ask(
    client: httpx.AsyncClient, tokens: TokenFactory, *requests: dict[str, Any], **header: Any
) -> dict[str, Any]:
    response = await client.post(
        DCI_SEARCH, json=search_message(*requests, **header), headers=partner(tokens)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _answer(envelope: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return envelope["message"]["search_response"][index]


async def test_an_idtype_value_search_answers_the_group_in_the_standards_shape(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    envelope = await _ask(
        dci, tokens, search_request("idtype-value", {"type": "MOBILE", "value": "77 00 11 22"})
    )
    assert envelope["header"]["action"] == "on-search"
    assert envelope["header"]["status"] == "succ"
    assert envelope["header"]["receiver_id"] == "wfp-dj"
    assert envelope["header"]["total_count"] == envelope["header"]["completed_count"] == 1
    assert set(envelope["message"]) == {"transaction_id", "correlation_id", "search_response"}
    answer = _answer(envelope)
    assert answer["status"] == "succ"
    assert answer["reference_id"] == "r1"
    assert answer["pagination"] == {"page_size": 2, "page_number": 1, "total_count": 1}
    [group] = answer["data"]["reg_records"]
    assert group["@type"] == "Group"
    assert group["group_identifier"][1] == {
        "@type": "Identifier",
        "identifier_type": "REGISTRY_NUMBER",
        "identifier_value": world.visible.registry_number,
    }
    assert group["place"] == {
        "@type": "Place",
        "region_code": "DJ-OB",
        "sub_region_code": "DJ-OB-OBOCK",
        "locality": "DJ-OB-OBOCK-MARKAZI",
        "address": "Rue secrète 12",
    }
    assert group["group_size"] == 3
    assert group["registration_date"] == "2026-03-01"
    assert [m["demographic_info"]["name"]["given_name"] for m in group["member_list"]] == [
        "Amina",
        "Nasra",
        "Sagal",
    ]
    head = group["group_head_info"]
    assert head["relationship_head"] == "head"
    person = head["demographic_info"]
    assert person["@type"] == "SRPerson"
    assert person["name"] == {
        "@type": "Name",
        "given_name": "Amina",
        "second_name": "Yusuf",
        "surname": "Abdi",
    }
    assert person["sex"] == "female"
    assert person["birth_date"] == "1990-05-17"
    assert person["phone_number"] == ["+25377001122"]
    assert person["identifier"] == [
        {"@type": "Identifier", "identifier_type": "UNHCR_ID", "identifier_value": "UNHCR111"}
    ]
    programmes = next(a for a in group["additional_attributes"] if a["name"] == "programmes")
    assert [p["programme"] for p in programmes["value"]] == ["cantine", "pnsf"]
    legal = {a["name"]: a["value"] for a in head["additional_attributes"]}
    assert legal["legal_status"] == "refugee"

    # Each id type the registry holds, mapped onto the standard's codes.
    for id_type, value, found in (
        ("UIN", "nid-999-001", 1),
        ("UNHCR_ID", "UNHCR111", 1),
        ("REGISTRY_NUMBER", world.visible.registry_number.lower(), 1),
        ("WFP_SCOPE", "SCOPE0001", 0),
        ("BRN", "BRN000", 0),
    ):
        answer = _answer(
            await _ask(
                dci, tokens, search_request("idtype-value", {"type": id_type, "value": value})
            )
        )
        assert answer["status"] == "succ", (id_type, answer)
        assert answer["pagination"]["total_count"] == found, id_type


async def test_a_predicate_search_combines_conditions_and_pages_in_order(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    refugees_outside_ali_sabieh = [
        {
            "seq_num": 1,
            "expression1": {
                "attribute_name": "legal_status",
                "operator": "eq",
                "attribute_value": "refugee",
            },
        },
        {
            "seq_num": 2,
            "expression1": {
                "attribute_name": "region_code",
                "operator": "in",
                "attribute_value": ["DJ-OB", "DJ-AS"],
            },
            "condition": "not",
            "expression2": {
                "attribute_name": "region_code",
                "operator": "eq",
                "attribute_value": "DJ-AS",
            },
        },
        {
            "seq_num": 3,
            "expression1": {"attribute_name": "group_size", "operator": "ge", "attribute_value": 1},
            "condition": "or",
            "expression2": {
                "attribute_name": "registration_date",
                "operator": "lt",
                "attribute_value": "2000-01-01",
            },
        },
    ]
    sort = [{"attribute_name": "group_size", "sort_order": "desc"}]
    pages = []
    for number in (1, 2):
        request = search_request(
            "predicate",
            refugees_outside_ali_sabieh,
            sort=sort,
            pagination={"page_size": 1, "page_number": number},
        )
        answer = _answer(await _ask(dci, tokens, request))
        assert answer["status"] == "succ", answer
        assert answer["pagination"] == {"page_size": 1, "page_number": number, "total_count": 2}
        pages += answer["data"]["reg_records"]
    # Obock's refugee households (Markazi, with and without partner sharing, any programme)
    # less the one without consent to partner sharing: the largest first.
    assert [p["group_size"] for p in pages] == [3, 1]
    assert pages[0]["group_identifier"][0]["identifier_value"] == str(world.visible.id)

    members = _answer(
        await _ask(
            dci,
            tokens,
            search_request(
                "predicate",
                [predicate("sex", "eq", "F"), predicate("birth_date", "ge", "2010-01-01")],
                response_entity="Member",
                pagination=PAGE,
            ),
        )
    )
    assert members["status"] == "succ", members
    [sagal] = members["data"]["reg_records"]
    assert sagal["@type"] == "Member"
    assert sagal["demographic_info"]["name"]["given_name"] == "Sagal"
    assert sagal["demographic_info"]["address"] == [
        {
            "@type": "Address",
            "region_code": "DJ-OB",
            "sub_region_code": "DJ-OB-OBOCK",
            "locality": "DJ-OB-OBOCK-MARKAZI",
        }
    ]
    assert sagal["additional_attributes"][0]["name"] == "group_identifier"


async def test_too_many_records_without_pagination_is_refused(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    answer = _answer(
        await _ask(dci, tokens, search_request("predicate", [predicate("group_size", "ge", 1)]))
    )
    assert answer["status"] == "rjct"
    assert answer["status_reason_code"] == "rjct.search.too_many_records_found"


BAD_REQUESTS = [
    (
        {"reference_id": "", "timestamp": "2026-12-03T08:00:00Z", "search_criteria": {}},
        "rjct.reference_id.invalid",
    ),
    (
        {**search_request("idtype-value", {"type": "UIN", "value": "1"}), "timestamp": "yesterday"},
        "rjct.timestamp.invalid",
    ),
    (
        {
            **search_request("idtype-value", {"type": "UIN", "value": "1"}),
            "timestamp": "2026-12-03T08:00:00",
        },
        "rjct.timestamp.invalid",
    ),
    ({"reference_id": "x", "timestamp": "2026-12-03T08:00:00Z"}, "rjct.search_criteria.invalid"),
    (search_request("sql", "SELECT 1"), "rjct.search_criteria.invalid"),
    (
        search_request("expression", {"type": "ns:org:QueryType:NoSql", "value": {}}),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("idtype-value", {"type": "PASSPORT", "value": "X1"}),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("idtype-value", {"type": "MOBILE", "value": "not a phone"}),
        "rjct.search_criteria.invalid",
    ),
    (search_request("idtype-value", "UIN:123"), "rjct.search_criteria.invalid"),
    (
        search_request("predicate", [predicate("salary", "gt", 1)], pagination=PAGE),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("predicate", [predicate("given_name", "like", "Am%")], pagination=PAGE),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("predicate", [predicate("group_size", "gt", "three")], pagination=PAGE),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("predicate", [predicate("sex", "in", "F")], pagination=PAGE),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request(
            "predicate",
            [
                {
                    "expression1": {
                        "attribute_name": "sex",
                        "operator": "eq",
                        "attribute_value": "F",
                    },
                    "condition": "and",
                }
            ],
            pagination=PAGE,
        ),
        "rjct.search_criteria.invalid",
    ),
    (search_request("predicate", [], pagination=PAGE), "rjct.search_criteria.invalid"),
    (
        search_request(
            "predicate", [predicate("sex", "eq", "F")], response_entity="Household", pagination=PAGE
        ),
        "rjct.search_criteria.invalid",
    ),
    (
        search_request("predicate", [predicate("sex", "eq", "F")], pagination={"page_size": 3}),
        "rjct.pagination.invalid",
    ),
    (
        search_request("predicate", [predicate("sex", "eq", "F")], pagination={"page_size": 0}),
        "rjct.pagination.invalid",
    ),
    (
        search_request(
            "predicate",
            [predicate("sex", "eq", "F")],
            pagination={"page_size": 2, "page_number": 0},
        ),
        "rjct.pagination.invalid",
    ),
    (
        search_request("predicate", [predicate("sex", "eq", "F")], pagination={"page_size": "2"}),
        "rjct.pagination.invalid",
    ),
    (
        search_request(
            "predicate",
            [predicate("sex", "eq", "F")],
            pagination=PAGE,
            sort=[{"attribute_name": "assets", "sort_order": "asc"}],
        ),
        "rjct.sort.invalid",
    ),
    (
        search_request(
            "predicate",
            [predicate("sex", "eq", "F")],
            pagination=PAGE,
            sort=[{"attribute_name": "group_size", "sort_order": "up"}],
        ),
        "rjct.sort.invalid",
    ),
]


async def test_bad_search_requests_are_rejected_with_the_standards_reason_codes(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    for request, code in BAD_REQUESTS:
        envelope = await _ask(dci, tokens, request)
        assert envelope["header"]["status"] == "succ"
        answer = _answer(envelope)
        assert (answer["status"], answer["status_reason_code"]) == ("rjct", code), (request, answer)
        assert "data" not in answer
        assert "Amina" not in str(envelope)


async def test_each_request_of_a_message_is_answered_on_its_own(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    good = search_request(
        "idtype-value", {"type": "UNHCR_ID", "value": "UNHCR111"}, reference_id="a"
    )
    twice = search_request(
        "idtype-value", {"type": "UNHCR_ID", "value": "UNHCR222"}, reference_id="a"
    )
    other = search_request(
        "idtype-value", {"type": "UNHCR_ID", "value": "UNHCR333"}, reference_id="b"
    )
    envelope = await _ask(dci, tokens, good, twice, other)
    statuses = [
        (a["reference_id"], a["status"], a.get("status_reason_code"))
        for a in envelope["message"]["search_response"]
    ]
    assert statuses == [
        ("a", "succ", None),
        ("a", "rjct", "rjct.reference_id.duplicate"),
        ("b", "succ", None),
    ]


async def test_an_agreement_limits_the_query_types(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens, allowed_query_types=["idtype-value"])
    answer = _answer(
        await _ask(
            dci, tokens, search_request("predicate", [predicate("sex", "eq", "F")], pagination=PAGE)
        )
    )
    assert answer["status_reason_code"] == "rjct.search_criteria.invalid"
    assert "predicate" in answer["status_reason_message"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"version": "2.0.0"}, "rjct.version.invalid"),
        ({"action": "subscribe"}, "rjct.action.invalid"),
        ({"message_ts": "03/12/2026 08:00"}, "rjct.message_ts.invalid"),
        ({"total_count": 5}, "rjct.total_count.invalid"),
        ({"total_count": "one"}, "rjct.total_count.invalid"),
    ],
)
async def test_a_refused_header_is_an_on_search_rejection_with_the_header_code(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory, header: dict[str, Any], code: str
) -> None:
    await _broad(dci, tokens)
    envelope = await _ask(
        dci, tokens, search_request("idtype-value", {"type": "UIN", "value": "NID999001"}), **header
    )
    assert envelope["header"]["status"] == "rjct"
    assert envelope["header"]["status_reason_code"] == code
    assert envelope["message"]["search_response"] == []


async def test_too_many_requests_in_a_message_and_a_replayed_message_id_are_refused(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    requests = [
        search_request("idtype-value", {"type": "UIN", "value": "NID999001"}, reference_id=str(i))
        for i in range(4)
    ]
    envelope = await _ask(dci, tokens, *requests)
    assert envelope["header"]["status_reason_code"] == "rjct.total_count.limit_exceeded"

    message_id = str(uuid.uuid4())
    request = search_request("idtype-value", {"type": "UIN", "value": "NID999001"})
    first = await _ask(dci, tokens, request, message_id=message_id)
    assert _answer(first)["status"] == "succ"
    replay = await _ask(dci, tokens, request, message_id=message_id)
    assert replay["header"]["status"] == "rjct"
    assert replay["header"]["status_reason_code"] == "rjct.message_id.duplicate"
    assert "NID999001" not in str(replay)


def _without(body: dict[str, Any], part: str, name: str | None = None) -> dict[str, Any]:
    if name is None:
        body.pop(part)
    else:
        body[part].pop(name)
    return body


async def test_transport_errors_are_the_standards_error_shape_and_save_nothing(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens)
    request = search_request("idtype-value", {"type": "UIN", "value": "NID999001"})
    message_id = str(uuid.uuid4())

    def body(**header: Any) -> dict[str, Any]:
        return search_message(request, message_id=message_id, **header)

    cases: list[tuple[Any, dict[str, str], int, str, str]] = [
        (
            _without(body(), "header", "message_id"),
            partner(tokens),
            400,
            "err.request.bad",
            "header.message_id",
        ),
        (
            _without(body(), "header", "total_count"),
            partner(tokens),
            400,
            "err.request.bad",
            "header.total_count",
        ),
        (
            _without(body(), "header", "sender_id"),
            partner(tokens),
            400,
            "err.request.bad",
            "header.sender_id",
        ),
        (_without(body(), "header"), partner(tokens), 400, "err.request.bad", "header"),
        (_without(body(), "message"), partner(tokens), 400, "err.request.bad", "message"),
        (
            _without(body(), "message", "transaction_id"),
            partner(tokens),
            400,
            "err.request.bad",
            "transaction_id",
        ),
        ([1, 2], partner(tokens), 400, "err.request.bad", "JSON object"),
        (body(sender_id="unicef-dj"), partner(tokens), 403, "err.sender_id.invalid", "sender_id"),
        (
            body(receiver_id="someone.else"),
            partner(tokens),
            400,
            "err.receiver_id.invalid",
            "receiver_id",
        ),
        (body(is_msg_encrypted=True), partner(tokens), 400, "err.encryption.invalid", "ncrypted"),
        (body(), {}, 401, "err.request.unauthorized", "bearer token"),
        (
            body(),
            {"Authorization": "Bearer not-a-token"},
            401,
            "err.request.unauthorized",
            "malformed",
        ),
        (body(), as_role(tokens, "data_manager"), 403, "err.request.forbidden", "roles"),
    ]
    for payload, headers, status, code, words in cases:
        response = await dci.post(DCI_SEARCH, json=payload, headers=headers)
        assert response.status_code == status, (payload, response.text)
        assert response.headers["content-type"] == "application/json"
        [error] = response.json()["errors"]
        assert error["code"] == code
        assert words in error["message"]
    malformed = await dci.post(
        DCI_SEARCH,
        content=b"{not json",
        headers={**partner(tokens), "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["code"] == "err.request.bad"
    # None of those was remembered: the message id is still new.
    answer = await dci.post(DCI_SEARCH, json=body(), headers=partner(tokens))
    assert answer.json()["header"]["status"] == "succ"


async def test_a_households_size_counts_only_the_people_the_agreement_covers(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    # Refugees only: the national spouse of the visible household is not counted.
    await add_agreement(dci, tokens, allowed_fields=["member_count", "given_name"])
    sizes = {}
    for size in (2, 3):
        answer = _answer(
            await _ask(
                dci,
                tokens,
                search_request("predicate", [predicate("group_size", "eq", size)], pagination=PAGE),
            )
        )
        assert answer["status"] == "succ", answer
        sizes[size] = [r["group_size"] for r in answer["data"]["reg_records"]]
    assert sizes == {2: [2], 3: []}


async def test_a_head_the_agreement_does_not_cover_is_not_described(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    # Refugees only: a household with a refugee child is found, its national head not named.
    await national_headed_refugee_household(beneficiaries_db)
    await add_agreement(dci, tokens, allowed_fields=["head_given_name", "head_sex", "member_count"])
    answer = _answer(
        await _ask(
            dci,
            tokens,
            search_request("predicate", [predicate("group_size", "ge", 1)], pagination=PAGE),
        )
    )
    assert answer["status"] == "succ", answer
    described = sorted(
        (
            record["group_size"],
            {a["name"]: a["value"] for a in record.get("additional_attributes", [])},
        )
        for record in answer["data"]["reg_records"]
    )
    assert described == [(1, {}), (2, {"head_given_name": "Amina", "head_sex": "F"})]
    assert "Fardoussa" not in json.dumps(answer)


def _expression(query: Any, collection: str = "Group") -> dict[str, Any]:
    return {
        "type": "ns:org:QueryType:NoSql",
        "value": {"expression": {"collection": collection, "query": query}},
    }


async def test_an_expression_query_maps_onto_the_same_attributes(
    dci: httpx.AsyncClient, world: World, tokens: TokenFactory
) -> None:
    await _broad(dci, tokens, allowed_query_types=["expression"])
    larger_refugee_households_in_obock = {
        "$and": [
            {"legal_status": {"$eq": "refugee"}},
            {"region_code": {"$in": ["DJ-OB"]}},
            {"$not": {"group_size": {"$lt": 2}}},
        ]
    }
    answer = _answer(
        await _ask(
            dci,
            tokens,
            search_request(
                "expression", _expression(larger_refugee_households_in_obock), pagination=PAGE
            ),
        )
    )
    assert answer["status"] == "succ", answer
    assert [
        r["group_identifier"][0]["identifier_value"] for r in answer["data"]["reg_records"]
    ] == [str(world.visible.id)]
    for query, collection in (
        ({"given_name": {"$regex": "^Am"}}, "Group"),
        ({"salary": {"$gt": 1}}, "Group"),
        ({"given_name": "Amina"}, "Group"),
        ({"given_name": {"$eq": "Amina"}}, "Household"),
    ):
        answer = _answer(
            await _ask(
                dci,
                tokens,
                search_request("expression", _expression(query, collection), pagination=PAGE),
            )
        )
        assert answer["status_reason_code"] == "rjct.search_criteria.invalid", query
