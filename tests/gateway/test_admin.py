from __future__ import annotations

import httpx
import jwt

from tests.support.gateway import bearer_headers, create_client, get_token


async def test_created_client_shows_its_secret_once(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await gateway.post(
        "/api/v1/admin/clients",
        json={"client_id": "wfp", "name": "WFP SCOPE", "roles": ["partner"], "partner_id": "wfp"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["client_secret"]
    assert created["partner_id"] == "wfp"
    assert created["created_by"] == "client:admin"

    shown = await gateway.get("/api/v1/admin/clients/wfp", headers=admin_headers)
    assert shown.status_code == 200
    assert "client_secret" not in shown.json()
    assert "secret_hash" not in shown.text

    token = await get_token(gateway, "wfp", created["client_secret"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["partner_id"] == "wfp"
    assert claims["roles"] == ["partner"]


async def test_a_name_postgresql_cannot_store_is_a_422_and_no_client(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    refused = await gateway.post(
        "/api/v1/admin/clients",
        json={"client_id": "su", "name": "a\u0000b", "roles": ["analyst"]},
        headers=admin_headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await gateway.get("/api/v1/admin/clients/su", headers=admin_headers)).status_code == 404


async def test_duplicate_client_is_a_conflict(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_client(gateway, admin_headers, "unicef")
    again = await gateway.post(
        "/api/v1/admin/clients",
        json={"client_id": "unicef", "name": "again", "roles": ["analyst"]},
        headers=admin_headers,
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_invalid_accounts_are_refused_with_field_paths(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    partner_without_id = await gateway.post(
        "/api/v1/admin/clients",
        json={"client_id": "p1", "name": "p", "roles": ["partner"]},
        headers=admin_headers,
    )
    assert partner_without_id.status_code == 422
    assert "partner_id" in partner_without_id.json()["errors"][0]["message"]

    unknown_role = await gateway.post(
        "/api/v1/admin/clients",
        json={"client_id": "p2", "name": "p", "roles": ["superuser"]},
        headers=admin_headers,
    )
    assert unknown_role.status_code == 422
    assert unknown_role.json()["errors"][0]["path"] == "body.roles.0"

    short_password = await gateway.post(
        "/api/v1/admin/users",
        json={"username": "u1", "full_name": "U", "password": "Pw-9xq", "roles": ["registrar"]},
        headers=admin_headers,
    )
    assert short_password.status_code == 422
    assert short_password.json()["errors"][0]["path"] == "body.password"
    assert "Pw-9xq" not in short_password.text, "the rejected value must not be echoed"

    listed = await gateway.get("/api/v1/admin/clients", headers=admin_headers)
    assert {c["client_id"] for c in listed.json()["items"]} == {"admin"}


async def test_generated_password_is_shown_once_and_can_be_reset(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = await gateway.post(
        "/api/v1/admin/users",
        json={"username": "hodan", "full_name": "Hodan Omar", "roles": ["data_manager"]},
        headers=admin_headers,
    )
    assert created.status_code == 201
    password = created.json()["password"]
    assert password and len(password) >= 32
    login = {"grant_type": "password", "username": "hodan", "password": password}
    assert (await gateway.post("/auth/token", data=login)).status_code == 200

    reset = await gateway.post("/api/v1/admin/users/hodan/reset-password", headers=admin_headers)
    assert reset.status_code == 200
    assert (await gateway.post("/auth/token", data=login)).status_code == 400
    login["password"] = reset.json()["password"]
    assert (await gateway.post("/auth/token", data=login)).status_code == 200

    disabled = await gateway.post("/api/v1/admin/users/hodan/disable", headers=admin_headers)
    assert disabled.json()["disabled"] is True
    assert (await gateway.post("/auth/token", data=login)).status_code == 400


async def test_listing_walks_pages_with_a_cursor(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for name in ("c-one", "c-two", "c-three", "c-four"):
        await create_client(gateway, admin_headers, name)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await gateway.get("/api/v1/admin/clients", params=params, headers=admin_headers)
        ).json()
        assert len(page["items"]) <= 2
        seen += [c["client_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(["admin", "c-one", "c-two", "c-three", "c-four"])

    bad = await gateway.get(
        "/api/v1/admin/clients", params={"cursor": "garbage!"}, headers=admin_headers
    )
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("/invalid-cursor")


async def test_admin_api_needs_an_admin(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    client_id, secret = await create_client(gateway, admin_headers, "analyst-1")
    analyst = await bearer_headers(gateway, client_id, secret)

    forbidden = await gateway.get("/api/v1/admin/clients", headers=analyst)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"

    anonymous = await gateway.get("/api/v1/admin/clients")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    rotate = await gateway.post("/api/v1/admin/keys/rotate", headers=analyst)
    assert rotate.status_code == 403


async def test_unknown_account_is_404(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await gateway.post("/api/v1/admin/clients/nobody/disable", headers=admin_headers)
    assert response.status_code == 404
    assert response.json()["status"] == 404
