"""Refresh tokens for people (password grant): rotating, single use, revocable, hashed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import text

from shared.db import Database
from tests.support.gateway import ADMIN_SECRET

PASSWORD = "a-field-agent-password"


@pytest.fixture
async def agent(gateway: httpx.AsyncClient, admin_headers: dict[str, str]) -> str:
    created = await gateway.post(
        "/api/v1/admin/users",
        json={
            "username": "fatouma",
            "full_name": "Fatouma Said",
            "password": PASSWORD,
            "roles": ["registrar"],
            "regions": ["DJ-AS"],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    return "fatouma"


async def sign_in(gateway: httpx.AsyncClient, username: str = "fatouma") -> dict:
    response = await gateway.post(
        "/auth/token", data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(gateway: httpx.AsyncClient, token: str) -> httpx.Response:
    return await gateway.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def test_a_refresh_gives_a_new_access_token_and_a_new_refresh_token(
    gateway: httpx.AsyncClient, agent: str
) -> None:
    first = await sign_in(gateway)
    assert first["refresh_token"]

    renewed = await refresh(gateway, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.headers["cache-control"] == "no-store"
    body = renewed.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "user:fatouma"
    assert claims["roles"] == ["registrar"]
    assert claims["regions"] == ["DJ-AS"]

    # The new one works in its turn: a day of syncs is a chain of refreshes.
    again = await refresh(gateway, body["refresh_token"])
    assert again.status_code == 200, again.text


async def test_api_clients_get_no_refresh_token(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("admin", ADMIN_SECRET)
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()


async def test_a_spent_refresh_token_presented_again_revokes_the_whole_chain(
    gateway: httpx.AsyncClient, gateway_db: Database, agent: str
) -> None:
    first = (await sign_in(gateway))["refresh_token"]
    second = (await refresh(gateway, first)).json()["refresh_token"]
    other_device = (await sign_in(gateway))["refresh_token"]

    replayed = await refresh(gateway, first)
    assert replayed.status_code == 400
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.json()["error"] == "invalid_grant"

    # Whoever held the newest token of that chain is signed out too.
    assert (await refresh(gateway, second)).status_code == 400
    # Another sign-in of the same person is not that chain: it goes on.
    assert (await refresh(gateway, other_device)).status_code == 200

    async with gateway_db.sessionmaker() as session:
        events = (
            await session.execute(
                text("SELECT subject, detail FROM auth_event WHERE event = 'refresh_token_reused'")
            )
        ).all()
    assert [subject for subject, _ in events] == ["user:fatouma"]
    assert first not in str(events[0].detail) and second not in str(events[0].detail)


async def test_refresh_tokens_are_stored_only_as_hashes(
    gateway: httpx.AsyncClient, gateway_db: Database, agent: str
) -> None:
    token = (await sign_in(gateway))["refresh_token"]
    async with gateway_db.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT t.token_hash, t.issued_at, t.expires_at, c.started_at, c.expires_at"
                    " FROM refresh_token t JOIN refresh_chain c ON c.id = t.chain_id"
                )
            )
        ).all()
        dump = await session.execute(text("SELECT row_to_json(t)::text FROM refresh_token t"))
        stored_text = " ".join(row[0] for row in dump)
    assert len(rows) == 1
    token_hash, issued_at, expires_at, started_at, chain_ends = rows[0]
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored_text
    # The defaults: a token lives 3 days, a sign-in at most 30.
    assert expires_at - issued_at == timedelta(days=3)
    assert chain_ends - started_at == timedelta(days=30)


async def test_an_expired_refresh_token_is_refused(
    gateway: httpx.AsyncClient, gateway_db: Database, agent: str
) -> None:
    token = (await sign_in(gateway))["refresh_token"]
    async with gateway_db.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE refresh_token SET expires_at = now() - interval '1 second'")
        )
    refused = await refresh(gateway, token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert "sign in again" in refused.json()["detail"]


async def test_the_chain_ends_at_its_bound_however_often_it_is_refreshed(
    gateway: httpx.AsyncClient, gateway_db: Database, agent: str
) -> None:
    token = (await sign_in(gateway))["refresh_token"]
    async with gateway_db.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE refresh_chain SET expires_at = now() + interval '1 hour'")
        )
    renewed = await refresh(gateway, token)
    async with gateway_db.sessionmaker() as session:
        expires_at, chain_ends = (
            await session.execute(
                text(
                    "SELECT t.expires_at, c.expires_at FROM refresh_token t"
                    " JOIN refresh_chain c ON c.id = t.chain_id WHERE t.spent_at IS NULL"
                )
            )
        ).one()
    assert renewed.status_code == 200
    assert expires_at == chain_ends, "a renewed token never outlives its sign-in"


@pytest.mark.parametrize("action", ["disable", "reset-password"])
async def test_disabling_or_resetting_the_password_revokes_refresh_tokens(
    gateway: httpx.AsyncClient, admin_headers: dict[str, str], agent: str, action: str
) -> None:
    token = (await sign_in(gateway))["refresh_token"]
    done = await gateway.post(f"/api/v1/admin/users/{agent}/{action}", headers=admin_headers)
    assert done.status_code == 200
    refused = await refresh(gateway, token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    if action == "disable":
        await gateway.post(f"/api/v1/admin/users/{agent}/enable", headers=admin_headers)
        # Enabling again does not bring an old sign-in back.
        assert (await refresh(gateway, token)).status_code == 400


async def test_revoking_signs_the_chain_out(gateway: httpx.AsyncClient, agent: str) -> None:
    first = (await sign_in(gateway))["refresh_token"]
    current = (await refresh(gateway, first)).json()["refresh_token"]

    revoked = await gateway.post("/auth/revoke", data={"token": first})
    assert revoked.status_code == 200
    assert revoked.content == b""
    assert (await refresh(gateway, current)).status_code == 400, "the whole sign-in ends"

    # RFC 7009: an unknown or already revoked token is answered the same way.
    assert (await gateway.post("/auth/revoke", data={"token": "nonsense"})).status_code == 200
    assert (await gateway.post("/auth/revoke", data={"token": current})).status_code == 200
    hinted = await gateway.post(
        "/auth/revoke", data={"token": "x", "token_type_hint": "access_token"}
    )
    assert hinted.status_code == 400
    assert hinted.json()["error"] == "unsupported_token_type"


async def test_refresh_needs_a_token(gateway: httpx.AsyncClient) -> None:
    missing = await gateway.post("/auth/token", data={"grant_type": "refresh_token"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    unknown = await refresh(gateway, "not-a-token")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_grant"


async def test_a_new_sign_in_clears_the_ended_ones(
    gateway: httpx.AsyncClient, gateway_db: Database, agent: str
) -> None:
    """Each sign-in leaves a chain; those that can serve no more go at the next one, so a
    person signing in every day does not grow the table for ever."""
    for _ in range(3):
        token = (await sign_in(gateway))["refresh_token"]
        await gateway.post("/auth/revoke", data={"token": token})
    await sign_in(gateway)
    async with gateway_db.sessionmaker() as session:
        chains = (await session.execute(text("SELECT count(*) FROM refresh_chain"))).scalar()
    assert chains == 1
