from __future__ import annotations

import httpx

from tests.beneficiaries.helpers import BASE
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory


async def test_reference_areas_are_loaded(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    headers = as_role(tokens, "registrar")
    regions = (
        await registry.get(f"{BASE}/admin-areas", params={"level": 1}, headers=headers)
    ).json()
    assert {r["code"] for r in regions} == {"DJ-DJ", "DJ-AS", "DJ-AR", "DJ-DI", "DJ-OB", "DJ-TA"}
    villages = (
        await registry.get(f"{BASE}/admin-areas", params={"level": 3}, headers=headers)
    ).json()
    refugee = {a["name"].split(" (")[0] for a in villages if a["is_refugee_village"]}
    assert refugee == {"Ali Addeh", "Holl Holl", "Markazi"}
    markazi = next(a for a in villages if a["code"] == "DJ-OB-OBOCK-MARKAZI")
    assert markazi["region_code"] == "DJ-OB"


async def test_a_new_locality_can_be_added_without_code(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    manager = as_role(tokens, "data_manager")
    created = await registry.post(
        f"{BASE}/admin-areas",
        json={
            "code": "DJ-TA-RANDA-DAY",
            "name": "Day",
            "level": 3,
            "parent_code": "DJ-TA-RANDA",
            "area": "rural",
        },
        headers=manager,
    )
    assert created.status_code == 201, created.text
    assert created.json()["region_code"] == "DJ-TA"

    orphan = await registry.post(
        f"{BASE}/admin-areas",
        json={"code": "DJ-TA-NOWHERE-X", "name": "X", "level": 3, "parent_code": "DJ-TA"},
        headers=manager,
    )
    assert orphan.status_code == 422
    assert orphan.json()["errors"][0]["path"] == "body.parent_code"

    registrar = await registry.post(
        f"{BASE}/admin-areas",
        json={"code": "DJ-TA-RANDA-DAY2", "name": "Day", "level": 3, "parent_code": "DJ-TA-RANDA"},
        headers=as_role(tokens, "registrar"),
    )
    assert registrar.status_code == 403


async def test_an_area_code_longer_than_the_registry_keeps_is_a_422(
    registry: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    """Found by the fuzzer: the code's pattern allows 53 characters, the registry keeps 40;
    a longer one was a 500."""
    code = "DJ-" + "-".join(["A" * 16] * 3)
    answer = await registry.post(
        f"{BASE}/admin-areas",
        json={"code": code, "name": "Long", "level": 1},
        headers=as_role(tokens, "data_manager"),
    )
    assert answer.status_code == 422, answer.text
    assert [e["path"] for e in answer.json()["errors"]] == ["body.code"]
