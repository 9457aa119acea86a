"""Programmes: definition, the eligibility rule form, and changes under If-Match."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from services.beneficiaries.models import AuditEvent
from services.beneficiaries.programmes import rules
from shared.db import Database
from tests.beneficiaries.helpers import BASE
from tests.beneficiaries.payloads import REFUGEES_WITH_DISABILITY, programme
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def test_a_manager_creates_a_programme_that_others_can_read(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    created = await registry.post(
        f"{BASE}/programmes",
        json=programme(eligibility=REFUGEES_WITH_DISABILITY),
        headers=manager,
    )
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"v1"'
    body = created.json()
    assert (body["benefit_amount"], body["benefit_currency"], body["status"]) == (
        30_000,
        "DJF",
        "active",
    )
    assert body["eligibility"] == REFUGEES_WITH_DISABILITY

    for role in ("analyst", "registrar", "service"):
        shown = await registry.get(f"{BASE}/programmes/pnsf", headers=as_role(tokens, role))
        assert shown.status_code == 200, role
        assert shown.json()["id"] == body["id"]
    listed = await registry.get(f"{BASE}/programmes", headers=as_role(tokens, "analyst"))
    assert [p["code"] for p in listed.json()["items"]] == ["pnsf"]
    partner = await registry.get(f"{BASE}/programmes", headers=as_role(tokens, "partner"))
    assert partner.status_code == 403

    again = await registry.post(f"{BASE}/programmes", json=programme(), headers=manager)
    assert again.status_code == 409


async def test_text_postgresql_cannot_store_is_refused_and_nothing_is_saved(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    hidden = programme(description="ligne\u0000cachée")
    refused = await registry.post(f"{BASE}/programmes", json=hidden, headers=manager)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "NUL" in refused.json()["detail"]
    assert (await registry.get(f"{BASE}/programmes/pnsf", headers=manager)).status_code == 404
    created = await registry.post(f"{BASE}/programmes", json=programme(), headers=manager)
    assert created.status_code == 201, "the session is usable again"

    # In a query string too (it used to be searched for, NUL dropped): refused, named.
    searched = await registry.get(
        f"{BASE}/individuals", params={"name": "Ali\u0000 Omar"}, headers=manager
    )
    assert searched.status_code == 422, searched.text
    assert searched.json()["errors"][0]["path"] == "query.name"


async def test_rules_nested_absurdly_deep_are_a_422(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    rule: dict = {"field": "rooms", "op": "gte", "value": 1}
    for _ in range(400):
        rule = {"all": [rule]}
    headers = as_role(tokens, "data_manager") | {"Idempotency-Key": "deep-rules"}
    answer = await registry.post(
        f"{BASE}/programmes", json=programme(eligibility=rule), headers=headers
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["path"] == "body.eligibility"


async def test_only_managers_create_or_change_programmes(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "admin")
    await registry.post(f"{BASE}/programmes", json=programme(), headers=manager)
    for role in ("analyst", "registrar", "service"):
        headers = as_role(tokens, role)
        created = await registry.post(
            f"{BASE}/programmes", json=programme("other"), headers=headers
        )
        assert created.status_code == 403, role
        patched = await registry.patch(
            f"{BASE}/programmes/pnsf",
            json={"benefit_amount": 1},
            headers=headers | {"If-Match": '"v1"'},
        )
        assert patched.status_code == 403, role
    unchanged = await registry.get(f"{BASE}/programmes/pnsf", headers=manager)
    assert unchanged.json()["benefit_amount"] == 30_000


@pytest.mark.parametrize(
    "amount", [30_000.5, 30_000.0, "30000", -5], ids=["fraction", "float", "string", "negative"]
)
async def test_money_is_a_whole_number_of_francs(
    registry: httpx.AsyncClient, tokens: TokenFactory, amount: object
) -> None:
    response = await registry.post(
        f"{BASE}/programmes",
        json=programme(benefit_amount=amount),
        headers=as_role(tokens, "data_manager"),
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["body.benefit_amount"]


def nested_not(depth: int) -> dict:
    rule: dict = {"field": "area", "op": "eq", "value": "rural"}
    for _ in range(depth - 1):
        rule = {"not": rule}
    return rule


@pytest.mark.parametrize(
    ("eligibility", "paths"),
    [
        (
            {
                "all": [
                    {"field": "is_refugee_village", "op": "eq", "value": True},
                    {"field": "income", "op": "lt", "value": 5},
                ]
            },
            ["body.eligibility.all.1.field"],
        ),
        ({"field": "area", "op": "like", "value": "urban"}, ["body.eligibility.op"]),
        ({"field": "area", "op": "lt", "value": "urban"}, ["body.eligibility.op"]),
        ({"field": "member_count", "op": "ge", "value": "5"}, ["body.eligibility.value"]),
        ({"field": "is_refugee_village", "op": "eq", "value": 1}, ["body.eligibility.value"]),
        (
            {"any_member": {"field": "legal_status", "op": "in", "value": ["refugee", "refugees"]}},
            ["body.eligibility.any_member.value.1"],
        ),
        (
            {"any_member": {"field": "is_refugee_village", "op": "eq", "value": True}},
            ["body.eligibility.any_member.field"],
        ),
        (
            {"count_members": {"field": "age", "op": "ge", "value": 65}, "op": "ge"},
            ["body.eligibility.value"],
        ),
        (
            {"any_member": {"any_member": {"field": "age", "op": "lt", "value": 5}}},
            ["body.eligibility.any_member.any_member"],
        ),
        ({"all": []}, ["body.eligibility.all"]),
        ({"field": "area", "op": "eq", "value": "urban", "extra": 1}, ["body.eligibility.extra"]),
        (
            {"field": "region_code", "op": "in", "value": ["DJ-AS", "DJ-XX"]},
            ["body.eligibility.value.1"],
        ),
        (
            {"field": "locality_code", "op": "eq", "value": "DJ-AS"},  # a region, not a locality
            ["body.eligibility.value"],
        ),
        (nested_not(9), ["body.eligibility" + ".not" * 8]),
        (
            {"any": [{"field": "member_count", "op": "eq", "value": n} for n in range(100)]},
            ["body.eligibility"],
        ),
    ],
    ids=[
        "unknown-field",
        "unknown-op",
        "ordering-a-text",
        "number-as-text",
        "yes-no-as-number",
        "unknown-legal-status",
        "household-field-in-member-rule",
        "count-without-value",
        "nested-any-member",
        "empty-all",
        "unknown-key",
        "unknown-region",
        "area-at-wrong-level",
        "too-deep",
        "too-many-conditions",
    ],
)
async def test_bad_eligibility_rules_are_refused_with_paths_and_nothing_is_saved(
    registry: httpx.AsyncClient, tokens: TokenFactory, eligibility: dict, paths: list[str]
) -> None:
    manager = as_role(tokens, "data_manager")
    response = await registry.post(
        f"{BASE}/programmes", json=programme(eligibility=eligibility), headers=manager
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == paths
    assert (await registry.get(f"{BASE}/programmes/pnsf", headers=manager)).status_code == 404


async def test_rules_at_the_limits_are_accepted(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    limits = {
        "all": [
            nested_not(7),  # depth 8 with the "all" around it; 100 conditions in all
            *({"field": "member_count", "op": "ne", "value": n} for n in range(91)),
            {"field": "region_code", "op": "in", "value": ["DJ-AS", "DJ-OB"]},
        ]
    }
    response = await registry.post(
        f"{BASE}/programmes",
        json=programme(eligibility=limits),
        headers=as_role(tokens, "data_manager"),
    )
    assert response.status_code == 201, response.text


async def test_changes_need_the_current_etag(
    registry: httpx.AsyncClient, tokens: TokenFactory, beneficiaries_db: Database
) -> None:
    manager = as_role(tokens, "data_manager")
    await registry.post(f"{BASE}/programmes", json=programme(), headers=manager)
    url = f"{BASE}/programmes/pnsf"

    missing = await registry.patch(url, json={"benefit_amount": 35_000}, headers=manager)
    assert missing.status_code == 428
    stale = await registry.patch(
        url, json={"benefit_amount": 35_000}, headers=manager | {"If-Match": '"v7"'}
    )
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"v1"'

    changed = await registry.patch(
        url,
        json={"benefit_amount": 35_000, "description": "Transferts trimestriels"},
        headers=manager | {"If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert (changed.json()["benefit_amount"], changed.json()["version"]) == (35_000, 2)

    lost_update = await registry.patch(
        url, json={"benefit_amount": 1}, headers=manager | {"If-Match": '"v1"'}
    )
    assert lost_update.status_code == 412
    assert (await registry.get(url, headers=manager)).json()["benefit_amount"] == 35_000

    async with beneficiaries_db.sessionmaker() as session:
        audited = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.detail).where(
                    AuditEvent.resource_type == "programme"
                )
            )
        ).all()
    assert [(a, d.get("fields")) for a, d in audited] == [
        ("create", None),
        ("update", ["benefit_amount", "description"]),
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"name_fr": None}, "body.name_fr"),
        ({"end_date": "2020-01-01", "start_date": "2021-01-01"}, "body.end_date"),
        (
            {"eligibility": {"field": "colour", "op": "eq", "value": "red"}},
            "body.eligibility.field",
        ),
        ({"code": "renamed"}, "body.code"),
    ],
    ids=["clearing-a-required-field", "dates-reversed", "bad-rule", "code-is-fixed"],
)
async def test_a_bad_change_is_refused_and_changes_nothing(
    registry: httpx.AsyncClient, tokens: TokenFactory, change: dict, path: str
) -> None:
    manager = as_role(tokens, "data_manager")
    await registry.post(f"{BASE}/programmes", json=programme(), headers=manager)
    response = await registry.patch(
        f"{BASE}/programmes/pnsf", json=change, headers=manager | {"If-Match": '"v1"'}
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [path]
    after = await registry.get(f"{BASE}/programmes/pnsf", headers=manager)
    assert after.headers["etag"] == '"v1"'


async def test_a_cleared_rule_or_threshold_stays_cleared(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    await registry.post(
        f"{BASE}/programmes",
        json=programme(eligibility=REFUGEES_WITH_DISABILITY),
        headers=manager,
    )
    response = await registry.patch(
        f"{BASE}/programmes/pnsf",
        json={"eligibility": None, "pmt_max_consumption": None, "status": "closed"},
        headers=manager | {"If-Match": "v1"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["eligibility"], body["pmt_max_consumption"], body["status"]) == (
        None,
        None,
        "closed",
    )
    assert body["benefit_amount"] == 30_000  # not sent: not changed
    active = await registry.get(f"{BASE}/programmes?status=active", headers=manager)
    assert active.json()["items"] == []


# The rule form evaluated on its own


def facts(refugee_village: bool, members: list[dict]) -> rules.Facts:
    return rules.Facts(
        household={"is_refugee_village": refugee_village, "area": "rural", "member_count": 3},
        members=members,
    )


def member(**fields) -> dict:
    return {"sex": "F", "age": 30, "has_disability": False, "legal_status": "refugee"} | fields


def test_the_example_rule_holds_only_for_refugee_villages_with_a_disabled_member() -> None:
    assert rules.validate(REFUGEES_WITH_DISABILITY).errors == []
    holds = rules.evaluate(REFUGEES_WITH_DISABILITY, facts(True, [member(has_disability=True)]))
    assert holds == rules.Outcome(True, [])

    nobody_disabled = rules.evaluate(REFUGEES_WITH_DISABILITY, facts(True, [member()]))
    assert not nobody_disabled.passed
    assert nobody_disabled.reasons == [
        {
            "path": "eligibility.all.1",
            "condition": "any member: has_disability eq true",
            "found": "no member matches",
        }
    ]

    elsewhere = rules.evaluate(REFUGEES_WITH_DISABILITY, facts(False, []))
    assert [r["path"] for r in elsewhere.reasons] == ["eligibility.all.0", "eligibility.all.1"]
    assert elsewhere.reasons[0]["found"] is False


def test_counts_negations_and_alternatives() -> None:
    rule = {
        "any": [
            {
                "count_members": {"all": [{"field": "age", "op": "lt", "value": 5}]},
                "op": "ge",
                "value": 2,
            },
            {"not": {"field": "area", "op": "in", "value": ["rural"]}},
        ]
    }
    assert rules.validate(rule).errors == []
    two_toddlers = facts(False, [member(age=1), member(age=4), member(age=30)])
    assert rules.evaluate(rule, two_toddlers).passed
    one_toddler = rules.evaluate(rule, facts(False, [member(age=1), member(age=30)]))
    assert not one_toddler.passed
    assert [(r["path"], r["found"]) for r in one_toddler.reasons] == [
        ("eligibility.any.0", 1),
        ("eligibility.any.1", "the condition holds"),
    ]
