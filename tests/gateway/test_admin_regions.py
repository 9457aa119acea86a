"""Accounts limited to regions name regions the registry knows."""

from __future__ import annotations

import httpx

from services.beneficiaries.app import create_app as create_registry_app
from services.gateway.app import create_app
from services.gateway.clients.registry import RegistryClient
from services.gateway.config import GatewaySettings
from services.gateway.tokens.service import GatewayIdentity
from shared.auth import TokenVerifier
from shared.db import Database
from shared.http_client import create_http_client
from tests.support import upstream
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, bearer_headers, gateway_settings
from tests.support.registry import registry_settings
from tests.support.tokens import TokenFactory
from tests.support.upstream import free_port


def a_user(username: str, regions: list[str]) -> dict:
    return {"username": username, "full_name": username, "roles": ["registrar"], "regions": regions}


async def test_an_unknown_region_is_a_422_naming_it_and_no_account(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for path, body in (
        ("/api/v1/admin/users", a_user("amina", ["DJ-AS", "DJ-ZZ"])),
        (
            "/api/v1/admin/clients",
            {"client_id": "ngo", "name": "NGO", "roles": ["registrar"], "regions": ["DJ-ZZ"]},
        ),
    ):
        refused = await gateway.post(path, json=body, headers=admin_headers)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert "DJ-ZZ" in problem["detail"] and "DJ-AS" not in problem["detail"]
        index = body["regions"].index("DJ-ZZ")
        assert [error["path"] for error in problem["errors"]] == [f"body.regions.{index}"]

    assert (
        await gateway.get("/api/v1/admin/users/amina", headers=admin_headers)
    ).status_code == 404
    assert (
        await gateway.get("/api/v1/admin/clients/ngo", headers=admin_headers)
    ).status_code == 404


async def test_known_regions_are_accepted_with_the_gateways_own_short_token(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = await gateway.post(
        "/api/v1/admin/users", json=a_user("amina", ["DJ-DJ", "DJ-AS"]), headers=admin_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["regions"] == ["DJ-AS", "DJ-DJ"]

    # The registry checks the token as it checks every caller's: against the gateway's keys.
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier(issuer="urn:inds:gateway", audience="inds-api", jwks=jwks)
    caller = await verifier.verify(upstream.admin_area_tokens[-1])
    assert caller.subject == "service:gateway"
    assert caller.roles == frozenset(), "no role: it opens only what any signed-in caller reads"
    assert caller.claims["exp"] - caller.claims["iat"] <= 300


async def test_no_regions_needs_no_registry(gateway_db: Database) -> None:
    settings = gateway_settings(f"http://127.0.0.1:{free_port()}")
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        admin = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        created = await gateway.post("/api/v1/admin/users", json=a_user("hodan", []), headers=admin)
        assert created.status_code == 201, created.text


async def test_an_unreachable_registry_is_a_503_and_no_account(gateway_db: Database) -> None:
    settings = gateway_settings(f"http://127.0.0.1:{free_port()}")
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        admin = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        refused = await gateway.post(
            "/api/v1/admin/users", json=a_user("amina", ["DJ-AS"]), headers=admin
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"]
        assert "beneficiaries" in refused.json()["detail"]
        missing = await gateway.get("/api/v1/admin/users/amina", headers=admin)
        assert missing.status_code == 404


async def test_the_real_registry_answers_the_gateways_question(
    settings: GatewaySettings,
    gateway_db: Database,
    beneficiaries_db: Database,
    tokens: TokenFactory,
) -> None:
    """The contract with the real registry app: its path, its query, its answer's shape, and
    that it takes the token the gateway signs for itself."""
    gateway_app = create_app(settings)
    async with serve(gateway_app, gateway_db, "http://gateway.test") as gateway:
        jwks = (await gateway.get("/.well-known/jwks.json")).json()
    registry = create_registry_app(registry_settings(tokens))
    registry.state.token_verifier.set_keys(jwks)  # as if fetched from the gateway
    identity = GatewayIdentity(
        gateway_app.state.key_ring, gateway_db, issuer="urn:inds:gateway", audience="inds-api"
    )
    async with serve(registry, beneficiaries_db, "http://beneficiaries.test"):
        http = create_http_client(
            "http://beneficiaries.test",
            token_provider=identity,
            transport=httpx.ASGITransport(app=registry),
        )
        async with http:
            regions = await RegistryClient(http).region_codes()
    assert {"DJ-DJ", "DJ-AS", "DJ-AR", "DJ-DI", "DJ-OB", "DJ-TA"} <= regions
    assert not any(code.count("-") > 1 for code in regions), "regions only, no communes"
