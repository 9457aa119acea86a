"""Secrets at rest and revocation: the signing keys are encrypted in the database with the
key-encryption key of the environment, and a disabled client's or user's tokens are refused
within seconds, not when they expire."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import OKPAlgorithm
from pydantic import ValidationError
from sqlalchemy import select, update

from inds.stack import Stack, StackOptions
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.gateway.models import SigningKey
from services.gateway.tokens.keys import generate_key
from services.gateway.tokens.sealing import KeyEncryptionError, KeySealer, new_key
from shared.db import Database
from shared.settings import CommonSettings
from tests.support.apps import serve
from tests.support.gateway import KEY_ENCRYPTION_KEY, create_client, gateway_settings, get_token

ECHO = "/api/v1/beneficiaries/echo"
PASSWORD = "a-field-agent-password"


async def stored_keys(database: Database) -> list[SigningKey]:
    async with database.sessionmaker() as session:
        return list((await session.execute(select(SigningKey))).scalars().all())


async def test_a_stored_private_key_is_not_the_key_and_opens_only_with_the_right_one(
    gateway: httpx.AsyncClient, gateway_db: Database
) -> None:
    keys = await stored_keys(gateway_db)
    assert keys
    for key in keys:
        assert "PRIVATE KEY" not in key.private_key_pem
        pem = KeySealer(KEY_ENCRYPTION_KEY).open(key.private_key_pem)
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        if key.algorithm == "EdDSA":  # the stored key is the one the JWKS publishes
            public = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)  # type: ignore[arg-type]
            assert public["x"] == key.public_jwk["x"]
        with pytest.raises(KeyEncryptionError):
            KeySealer(new_key()).open(key.private_key_pem)
        with pytest.raises(KeyEncryptionError):
            KeySealer(None).open(key.private_key_pem)


async def test_a_key_stored_in_the_clear_is_encrypted_at_start_and_still_signs(
    gateway_db: Database, settings: GatewaySettings
) -> None:
    legacy = generate_key("EdDSA")  # as gateways stored keys before encryption
    async with gateway_db.sessionmaker() as session, session.begin():
        await session.execute(
            update(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .values(retired_at=datetime.now(UTC))
        )
        session.add(legacy)

    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        token = await get_token(
            gateway, "admin", settings.bootstrap_admin_secret.get_secret_value()
        )  # type: ignore[union-attr]
        echoed = await gateway.get(ECHO, headers={"Authorization": f"Bearer {token}"})

    assert echoed.status_code == 200
    stored = next(key for key in await stored_keys(gateway_db) if key.kid == legacy.kid)
    assert stored.retired_at is None  # still the signing key, now encrypted
    assert "PRIVATE KEY" not in stored.private_key_pem
    assert KeySealer(KEY_ENCRYPTION_KEY).open(stored.private_key_pem) == legacy.private_key_pem


async def test_a_new_key_encryption_key_listed_first_re_encrypts_the_keys(
    gateway: httpx.AsyncClient, gateway_db: Database, upstream_url: str
) -> None:
    newer = new_key()
    rotated = gateway_settings(upstream_url, key_encryption_key=f"{newer},{KEY_ENCRYPTION_KEY}")
    async with serve(create_app(rotated), gateway_db, "http://gateway.test"):
        pass
    for key in await stored_keys(gateway_db):
        KeySealer(newer).open(key.private_key_pem)


async def test_a_wrong_key_encryption_key_stops_the_start_with_a_clear_message(
    gateway: httpx.AsyncClient, gateway_db: Database, upstream_url: str
) -> None:
    wrong = gateway_settings(upstream_url, key_encryption_key=new_key())
    with pytest.raises(KeyEncryptionError, match="INDS_GATEWAY_KEY_ENCRYPTION_KEY does not"):
        async with serve(create_app(wrong), gateway_db, "http://gateway.test"):
            pass


def test_production_needs_a_well_formed_key_encryption_key() -> None:
    production = CommonSettings(environment="production")
    with pytest.raises(ValidationError, match="INDS_GATEWAY_KEY_ENCRYPTION_KEY must be set"):
        GatewaySettings(common=production)
    with pytest.raises(ValidationError, match="must be Fernet keys"):
        GatewaySettings(common=production, key_encryption_key="not-a-key")
    assert GatewaySettings(common=production, key_encryption_key=new_key()).key_encryption_key


async def refused_within(gateway: httpx.AsyncClient, token: str, seconds: float) -> httpx.Response:
    """Call through the gateway until the token is refused, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        response = await gateway.get(ECHO, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_a_disabled_clients_token_is_refused_by_every_gateway_within_seconds(
    gateway: httpx.AsyncClient,
    admin_headers: dict[str, str],
    gateway_db: Database,
    settings: GatewaySettings,
) -> None:
    client_id, secret = await create_client(gateway, admin_headers, "soon-disabled")
    token = await get_token(gateway, client_id, secret)
    # A second gateway process on the same database learns of the disabling from it.
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as replica:
        assert (await replica.get(ECHO, headers={"Authorization": f"Bearer {token}"})).is_success

        disabled = await gateway.post(
            f"/api/v1/admin/clients/{client_id}/disable", headers=admin_headers
        )
        assert disabled.status_code == 200

        for each in (gateway, replica):
            refused = await refused_within(each, token, settings.revocation_refresh_seconds + 5)
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
            assert "disabled" in refused.json()["detail"]
        # The gateway's own API refuses it too, and the client gets no new token.
        own = await gateway.get(
            "/api/v1/admin/clients", headers={"Authorization": f"Bearer {token}"}
        )
        assert own.status_code == 401
        fresh = await gateway.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert fresh.status_code == 401

    enabled = await gateway.post(f"/api/v1/admin/clients/{client_id}/enable", headers=admin_headers)
    assert enabled.status_code == 200
    await asyncio.sleep(settings.revocation_refresh_seconds)
    again = await gateway.get(ECHO, headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 200


async def test_a_disabled_users_access_and_refresh_tokens_are_refused_within_seconds(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str], settings: GatewaySettings
) -> None:
    created = await gateway.post(
        "/api/v1/admin/users",
        json={
            "username": "idriss",
            "full_name": "Idriss Omar",
            "password": PASSWORD,
            "roles": ["registrar"],
            "regions": ["DJ-AS"],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    signed_in = await gateway.post(
        "/auth/token", data={"grant_type": "password", "username": "idriss", "password": PASSWORD}
    )
    tokens = signed_in.json()
    access = tokens["access_token"]
    assert (await gateway.get(ECHO, headers={"Authorization": f"Bearer {access}"})).is_success

    await gateway.post("/api/v1/admin/users/idriss/disable", headers=admin_headers)

    refused = await refused_within(gateway, access, settings.revocation_refresh_seconds + 5)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    renewed = await gateway.post(
        "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert renewed.status_code == 400
    assert renewed.json()["error"] == "invalid_grant"


def test_inds_up_keeps_a_development_key_in_the_data_folder_and_needs_one_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INDS_GATEWAY_KEY_ENCRYPTION_KEY", raising=False)
    development = Stack(StackOptions(data_dir=tmp_path))
    made = development._key_encryption_key()
    assert KeySealer(made).encrypts
    kept = tmp_path / "gateway-key-encryption.key"
    assert kept.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert Stack(StackOptions(data_dir=tmp_path))._key_encryption_key() == made

    production = Stack(StackOptions(data_dir=tmp_path / "prod", environment="production"))
    with pytest.raises(SystemExit, match="INDS_GATEWAY_KEY_ENCRYPTION_KEY must be set"):
        production._key_encryption_key()
    monkeypatch.setenv("INDS_GATEWAY_KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
    assert production._key_encryption_key() == KEY_ENCRYPTION_KEY
