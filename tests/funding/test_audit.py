"""`GET /audit`: who changed or read what, newest first, for admin and finance roles; reads
still queued are flushed into the answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import Principal
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

AUDIT = "/api/v1/funding/audit"
RATES = "/api/v1/funding/exchange-rates"


async def record_rate(
    funding: httpx.AsyncClient, headers: dict[str, str], day: str
) -> dict[str, Any]:
    body = {"currency": "USD", "rate_date": day, "rate_to_djf": "177.721", "source": "BCD"}
    response = await funding.post(RATES, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def entries(
    funding: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await funding.get(AUDIT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_money_changes_are_listed_newest_first_with_who_and_what(
    funding: httpx.AsyncClient, tokens: TokenFactory, officer: dict[str, str]
) -> None:
    first = await record_rate(funding, officer, "2026-01-01")
    second = await record_rate(funding, officer, "2026-01-02")
    page = await entries(funding, as_role(tokens, "admin"), resource_type="exchange_rate")
    listed = page["items"]
    assert [entry["resource_id"] for entry in listed] == [second["id"], first["id"]]
    newest = listed[0]
    assert newest["actor"] == "user:finance_officer"
    assert newest["roles"] == ["finance_officer"]
    assert newest["action"] == "create"
    assert newest["detail"]["currency"] == "USD"
    assert newest["detail"]["after"] == "177.7210000000"
    assert newest["request_id"]

    one = await entries(funding, as_role(tokens, "admin"), resource_id=first["id"])
    assert [entry["resource_id"] for entry in one["items"]] == [first["id"]]


async def test_keyset_pages_go_back_in_time_without_repeats(
    funding: httpx.AsyncClient, tokens: TokenFactory, officer: dict[str, str]
) -> None:
    ids = [(await record_rate(funding, officer, f"2026-02-0{day}"))["id"] for day in range(1, 6)]
    admin = as_role(tokens, "admin")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"resource_type": "exchange_rate", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await entries(funding, admin, **params)
        seen += [entry["resource_id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))

    bad = await funding.get(AUDIT, params={"cursor": "not-ours"}, headers=admin)
    assert bad.status_code == 400


async def test_filters_by_actor_action_and_time(
    funding: httpx.AsyncClient, tokens: TokenFactory, officer: dict[str, str]
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await record_rate(funding, officer, "2026-03-01")
    other = tokens.bearer(sub="user:amina", roles=["finance_officer"])
    await record_rate(funding, other, "2026-03-02")
    admin = as_role(tokens, "admin")

    by_amina = await entries(funding, admin, actor="user:amina")
    assert [entry["detail"]["rate_date"] for entry in by_amina["items"]] == ["2026-03-02"]
    assert (await entries(funding, admin, action="approve"))["items"] == []
    since = await entries(funding, admin, since=before.isoformat(), resource_type="exchange_rate")
    assert len(since["items"]) == 2
    until = await entries(funding, admin, until=before.isoformat(), resource_type="exchange_rate")
    assert until["items"] == []


async def test_reads_still_queued_are_in_the_answer(
    funding: httpx.AsyncClient, funding_app: FastAPI, tokens: TokenFactory
) -> None:
    """A payroll's lines read by finance staff are queued; the audit answer flushes first."""
    line_id, household_id = uuid.uuid4(), uuid.uuid4()
    reader = Principal(subject="user:approver", roles=frozenset({"finance_approver"}))
    await funding_app.state.audit.record_reads(
        reader, "payment_line", [(line_id, household_id)], detail={"via": "lines"}
    )
    page = await entries(funding, as_role(tokens, "finance_approver"), action="read")
    assert [(e["resource_id"], e["household_id"]) for e in page["items"]] == [
        (str(line_id), str(household_id))
    ]
    assert page["items"][0]["actor"] == "user:approver"


@pytest.mark.parametrize("role", ["admin", "finance_officer", "finance_approver"])
async def test_audit_readers(funding: httpx.AsyncClient, tokens: TokenFactory, role: str) -> None:
    assert (await funding.get(AUDIT, headers=as_role(tokens, role))).status_code == 200


@pytest.mark.parametrize("role", ["analyst", "partner", "service", "registrar"])
async def test_other_roles_are_refused(
    funding: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    assert (await funding.get(AUDIT, headers=as_role(tokens, role))).status_code == 403
    assert (await funding.get(AUDIT)).status_code == 401
