from __future__ import annotations

import base64
import time

import httpx
import jwt

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.auth import TokenVerifier
from shared.db import Database
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, create_client, gateway_settings, get_token


async def test_client_credentials_in_form_give_a_signed_token(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "admin",
            "client_secret": ADMIN_SECRET,
        },
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900

    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert all("d" not in key for key in jwks["keys"]), "private key material must not be published"

    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    claims = jwt.decode(
        body["access_token"],
        key.key,
        algorithms=["EdDSA"],
        audience="inds-api",
        issuer="urn:inds:gateway",
    )
    assert claims["sub"] == "client:admin"
    assert claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60


async def test_client_credentials_over_http_basic(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("admin", ADMIN_SECRET)
    )
    assert response.status_code == 200


async def test_wrong_secret_and_unknown_client_look_the_same(gateway: httpx.AsyncClient) -> None:
    wrong = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("admin", "nope")
    )
    unknown = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("ghost", "nope")
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Basic")
        assert response.json()["error"] == "invalid_client"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_malformed_basic_header_is_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unsupported_grant_type(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/auth/token", data={"grant_type": "implicit"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_password_grant_for_a_user(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = await gateway.post(
        "/api/v1/admin/users",
        json={
            "username": "amina.registrar",
            "full_name": "Amina Ali",
            "password": "a-long-enough-password",
            "roles": ["registrar"],
            "regions": ["DJ-AS"],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["password"] is None  # she chose it: nothing to show

    ok = await gateway.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "amina.registrar",
            "password": "a-long-enough-password",
        },
    )
    assert ok.status_code == 200
    claims = jwt.decode(ok.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "user:amina.registrar"
    assert claims["roles"] == ["registrar"]
    assert claims["regions"] == ["DJ-AS"]

    wrong = await gateway.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "amina.registrar",
            "password": "wrong-password!!",
        },
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


async def test_disabled_client_gets_no_new_token(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    client_id, secret = await create_client(gateway, admin_headers, "wfp-scope")
    await get_token(gateway, client_id, secret)

    disabled = await gateway.post(
        f"/api/v1/admin/clients/{client_id}/disable", headers=admin_headers
    )
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    refused = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert refused.status_code == 401
    assert "disabled" in refused.json()["detail"]

    await gateway.post(f"/api/v1/admin/clients/{client_id}/enable", headers=admin_headers)
    await get_token(gateway, client_id, secret)


async def test_rotated_secret_replaces_the_old_one(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    client_id, old = await create_client(gateway, admin_headers, "payroll")
    rotated = await gateway.post(
        f"/api/v1/admin/clients/{client_id}/rotate-secret", headers=admin_headers
    )
    assert rotated.status_code == 200
    new = rotated.json()["client_secret"]
    assert new != old
    refused = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, old)
    )
    assert refused.status_code == 401
    await get_token(gateway, client_id, new)


async def test_key_rotation_keeps_earlier_tokens_valid(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    before = await get_token(gateway, "admin", ADMIN_SECRET)
    rotated = await gateway.post("/api/v1/admin/keys/rotate", headers=admin_headers)
    assert rotated.status_code == 200
    after = await get_token(gateway, "admin", ADMIN_SECRET)

    old_kid = jwt.get_unverified_header(before)["kid"]
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert new_kid == rotated.json()["kid"] != old_kid

    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    assert {old_kid, new_kid} <= {key["kid"] for key in jwks["keys"]}
    verifier = TokenVerifier(issuer="urn:inds:gateway", audience="inds-api", jwks=jwks)
    assert (await verifier.verify(before)).subject == "client:admin"
    assert (await verifier.verify(after)).subject == "client:admin"

    keys = (await gateway.get("/api/v1/admin/keys", headers=admin_headers)).json()
    assert [k["kid"] for k in keys if k["retired_at"] is None] == [new_kid]


async def test_a_key_rotated_at_one_gateway_process_is_published_by_every_other_at_once(
    gateway: httpx.AsyncClient,
    admin_headers: dict[str, str],
    gateway_db: Database,
    settings: GatewaySettings,
) -> None:
    """A service meeting a token of the new key asks the JWKS of whichever gateway process
    the balancer picks; one that had not re-read the keys yet would leave the service
    refusing the new tokens until it may ask again."""
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as replica:
        assert (await replica.get("/.well-known/jwks.json")).status_code == 200  # keys read
        rotated = await gateway.post("/api/v1/admin/keys/rotate", headers=admin_headers)
        assert rotated.status_code == 200
        jwks = (await replica.get("/.well-known/jwks.json")).json()
    assert rotated.json()["kid"] in {key["kid"] for key in jwks["keys"]}


async def test_rs256_gateway(gateway_db: Database, upstream_url: str) -> None:
    settings = gateway_settings(upstream_url, signing_algorithm="RS256")
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as client:
        token = await get_token(client, "admin", ADMIN_SECRET)
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        jwks = (await client.get("/.well-known/jwks.json")).json()
        verifier = TokenVerifier(issuer="urn:inds:gateway", audience="inds-api", jwks=jwks)
        assert (await verifier.verify(token)).roles == {"admin"}


async def test_a_service_gets_and_reuses_its_own_token(
    gateway_db: Database, upstream_url: str
) -> None:
    from services.gateway.config import BootstrapClient
    from shared.http_client import ServiceTokenProvider
    from tests.support.upstream import running

    settings = gateway_settings(
        upstream_url,
        bootstrap_clients=[
            BootstrapClient(
                client_id="svc-funding", secret="funding-secret-0123456789", roles=["service"]
            )
        ],
    )
    app = create_app(settings)
    app.state.database = gateway_db
    async with running(app, lifespan="on") as url:
        provider = ServiceTokenProvider(
            f"{url}/auth/token", "svc-funding", "funding-secret-0123456789"
        )
        token = await provider.token()
        assert await provider.token() == token, "cached until shortly before it expires"
        async with httpx.AsyncClient() as client:
            jwks = (await client.get(f"{url}/.well-known/jwks.json")).json()
    principal = await TokenVerifier(
        issuer="urn:inds:gateway", audience="inds-api", jwks=jwks
    ).verify(token)
    assert principal.subject == "client:svc-funding"
    assert principal.roles == {"service"}
