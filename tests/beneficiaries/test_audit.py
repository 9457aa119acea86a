"""`GET /audit`: who read or changed what in the registry, newest first, for admins and data
managers; reads still queued are flushed into the answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.beneficiaries.helpers import BASE, register
from tests.beneficiaries.payloads import household
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

AUDIT = f"{BASE}/audit"


async def entries(
    registry: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await registry.get(AUDIT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_households_trail_lists_its_creation_and_the_reads_still_queued(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    first = await register(registry, registrar, household())
    other = await register(registry, registrar, household())
    read = await registry.get(f"{BASE}/households/{first['id']}", headers=registrar)
    assert read.status_code == 200

    trail = (await entries(registry, manager, household_id=first["id"]))["items"]
    # Newest first: the read of the household and each member, then its registration.
    actions = [entry["action"] for entry in trail]
    assert len(actions) > 1
    assert actions == ["read"] * (len(actions) - 1) + ["create"]
    assert all(entry["actor"] == "user:registrar" for entry in trail)
    assert all(entry["household_id"] == first["id"] for entry in trail)

    reads = await entries(registry, manager, action="read", resource_id=first["id"])
    assert [entry["household_id"] for entry in reads["items"]] == [first["id"]]
    assert (await entries(registry, manager, household_id=other["id"], action="read"))[
        "items"
    ] == []


async def test_keyset_pages_go_back_in_time_without_repeats(
    registry: httpx.AsyncClient, registrar: dict[str, str], manager: dict[str, str]
) -> None:
    ids = [(await register(registry, registrar, household()))["id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"action": "create", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await entries(registry, manager, **params)
        seen += [entry["resource_id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [resource_id for resource_id in seen if resource_id in ids] == list(reversed(ids))
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("role", ["registrar", "analyst", "service"])
async def test_only_managers_read_the_trail(
    registry: httpx.AsyncClient, tokens: TokenFactory, role: str
) -> None:
    assert (await registry.get(AUDIT, headers=as_role(tokens, role))).status_code == 403
    assert (await registry.get(AUDIT, headers=as_role(tokens, "admin"))).status_code == 200
