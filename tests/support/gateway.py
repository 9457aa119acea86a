"""Calling the gateway under test: its settings, tokens from it, API clients made on it."""

from __future__ import annotations

from typing import Any

import httpx

from services.gateway.config import GatewaySettings
from shared.settings import CommonSettings
from tests.support.upstream import free_port

ADMIN_SECRET = "admin-secret-for-tests-0123456789"
# Encrypts the signing keys of every gateway under test (a fixed one: the test database may
# keep keys a previous run committed).
KEY_ENCRYPTION_KEY = "oMQKWAkiO58i-L_LzNxtu6y9gMnTU8rzfjzUMe3ZmFk="


def gateway_settings(upstream_url: str, **overrides: Any) -> GatewaySettings:
    closed = f"http://127.0.0.1:{free_port()}"
    common = CommonSettings(
        environment="test",
        beneficiaries_url=upstream_url,
        funding_url=closed,
        indicators_url=closed,
    )
    overrides.setdefault("bootstrap_admin_secret", ADMIN_SECRET)
    overrides.setdefault("key_encryption_key", KEY_ENCRYPTION_KEY)
    return GatewaySettings(common=common, **overrides)


async def get_token(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def bearer_headers(client: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    """An Authorization header with a fresh token for the client."""
    return {"Authorization": f"Bearer {await get_token(client, client_id, secret)}"}


async def create_client(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str], client_id: str, **fields: Any
) -> tuple[str, str]:
    """Create an API client; return (client_id, secret)."""
    body = {"client_id": client_id, "name": client_id, "roles": ["analyst"], **fields}
    response = await gateway.post("/api/v1/admin/clients", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return client_id, response.json()["client_secret"]
