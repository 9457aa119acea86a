"""Failed token requests slow down: per account and per client address, in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.gateway.throttle.service import LoginThrottled, Policy, Throttle, account_key
from shared.db import Database
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, bearer_headers, gateway_settings

PASSWORD = "the-right-password"


@pytest.fixture
def settings(upstream_url: str) -> GatewaySettings:
    # The defaults but a lower address limit, so a spray needs fewer (costly) hashes.
    return gateway_settings(upstream_url, login_address_max_failures=8)


@pytest.fixture
def app(settings: GatewaySettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def gateway(gateway_db: Database, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app, gateway_db, "http://gateway.test") as client:
        yield client


@pytest.fixture
async def hodan(gateway: httpx.AsyncClient) -> str:
    admin = await bearer_headers(gateway, "admin", ADMIN_SECRET)
    for username in ("hodan", "ali"):
        created = await gateway.post(
            "/api/v1/admin/users",
            json={
                "username": username,
                "full_name": username,
                "password": PASSWORD,
                "roles": ["registrar"],
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
    return "hodan"


def login(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await client.post("/auth/token", data=login(username, "wrong-password!"))
        assert response.status_code == 400, response.text


async def expire_locks(database: Database) -> None:
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        )


def assert_throttled(response: httpx.Response, wait: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/login-throttled")
    # The lock runs from the failure that set it: the seconds since (password hashing on a
    # busy machine takes some) are off it, but not half of it, so 30 s is told from 60 s.
    assert wait // 2 < int(response.headers["retry-after"]) <= wait


async def test_five_failures_lock_the_account_even_for_the_right_password(
    gateway: httpx.AsyncClient, gateway_db: Database, hodan: str
) -> None:
    await fail(gateway, hodan, 5)
    assert_throttled(await gateway.post("/auth/token", data=login(hodan, PASSWORD)), 30)
    # Someone else's sign-in from the same address is not held up.
    assert (await gateway.post("/auth/token", data=login("ali", PASSWORD))).status_code == 200

    async with gateway_db.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT subject, address, detail FROM auth_event"
                    " WHERE event = 'login_locked_out'"
                )
            )
        ).all()
        keys = (await session.execute(text("SELECT key FROM login_throttle"))).scalars().all()
    assert [(row.subject, row.address) for row in rows] == [("user:hodan", "203.0.113.7")]
    assert rows[0].detail == {"scope": "account", "failures": 5, "locked_seconds": 30}
    assert "wrong-password" not in str(rows) and PASSWORD not in str(rows)
    assert not any("hodan" in key for key in keys), "logins are kept only as hashes"

    await expire_locks(gateway_db)
    assert (await gateway.post("/auth/token", data=login(hodan, PASSWORD))).status_code == 200


async def test_each_further_failure_doubles_the_lock_out(
    gateway: httpx.AsyncClient, gateway_db: Database, hodan: str
) -> None:
    await fail(gateway, hodan, 5)
    for wait in (60, 120):
        await expire_locks(gateway_db)
        await fail(gateway, hodan, 1)
        assert_throttled(await gateway.post("/auth/token", data=login(hodan, PASSWORD)), wait)


def test_lock_outs_grow_to_a_bound_and_no_further() -> None:
    policy = Policy(max_failures=5, lockout_seconds=30, max_lockout_seconds=900)
    assert [policy.lockout(n) for n in range(1, 12)] == [
        None,
        None,
        None,
        None,
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]
    assert policy.lockout(10_000) == 900


async def test_attempts_refused_while_locked_do_not_stretch_the_lock(
    gateway: httpx.AsyncClient, gateway_db: Database, hodan: str
) -> None:
    await fail(gateway, hodan, 5)
    for _ in range(10):
        refused = await gateway.post("/auth/token", data=login(hodan, "wrong-password!"))
        assert_throttled(refused, 30)
    async with gateway_db.sessionmaker() as session:
        failures = (
            await session.execute(text("SELECT max(failures) FROM login_throttle"))
        ).scalar()
    assert failures == 5


async def test_a_success_forgets_the_accounts_failures(
    gateway: httpx.AsyncClient, hodan: str
) -> None:
    # Six failures in all, more than the five that lock an account, fewer than the
    # address's eight: only the success in between keeps the account open.
    await fail(gateway, hodan, 3)
    assert (await gateway.post("/auth/token", data=login(hodan, PASSWORD))).status_code == 200
    await fail(gateway, hodan, 3)
    assert (await gateway.post("/auth/token", data=login(hodan, PASSWORD))).status_code == 200


async def test_a_password_reset_lifts_the_lock_out(gateway: httpx.AsyncClient, hodan: str) -> None:
    await fail(gateway, hodan, 5)
    admin = await bearer_headers(gateway, "admin", ADMIN_SECRET)
    reset = await gateway.post(f"/api/v1/admin/users/{hodan}/reset-password", headers=admin)
    new_password = reset.json()["password"]
    assert (await gateway.post("/auth/token", data=login(hodan, new_password))).status_code == 200


async def test_unknown_logins_are_locked_out_alike(
    gateway: httpx.AsyncClient, gateway_db: Database
) -> None:
    """Whether a login exists must not show: an unknown one is throttled the same way."""
    await fail(gateway, "nobody-here", 5)
    assert_throttled(await gateway.post("/auth/token", data=login("nobody-here", "x")), 30)
    async with gateway_db.sessionmaker() as session:
        subjects = (
            (
                await session.execute(
                    text("SELECT subject FROM auth_event WHERE event = 'login_locked_out'")
                )
            )
            .scalars()
            .all()
        )
    assert subjects == [None], "a login that names nobody is not recorded"


async def test_one_address_spraying_many_accounts_is_stopped(
    gateway: httpx.AsyncClient, app: FastAPI, hodan: str
) -> None:
    for index in range(8):  # one guess at each of eight accounts: no account limit reached
        await fail(gateway, f"guess-{index}", 1)
    assert_throttled(await gateway.post("/auth/token", data=login("ali", PASSWORD)), 30)

    # The same people signing in from elsewhere are not refused.
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as other:
        assert (await other.post("/auth/token", data=login("ali", PASSWORD))).status_code == 200


async def test_a_success_does_not_reset_the_address_limit(
    gateway: httpx.AsyncClient, hodan: str
) -> None:
    for index in range(4):
        await fail(gateway, f"guess-{index}", 1)
    assert (await gateway.post("/auth/token", data=login("ali", PASSWORD))).status_code == 200
    for index in range(4, 8):
        await fail(gateway, f"guess-{index}", 1)
    assert_throttled(await gateway.post("/auth/token", data=login("ali", PASSWORD)), 30)


async def test_api_client_secrets_are_throttled_too(gateway: httpx.AsyncClient) -> None:
    for _ in range(5):
        wrong = await gateway.post(
            "/auth/token", data={"grant_type": "client_credentials"}, auth=("admin", "nope")
        )
        assert wrong.status_code == 401
    right = await gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=("admin", ADMIN_SECRET)
    )
    assert_throttled(right, 30)


async def test_unusable_refresh_tokens_count_against_the_address(
    gateway: httpx.AsyncClient,
) -> None:
    for _ in range(8):
        response = await gateway.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": "guess"}
        )
        assert response.status_code == 400
    again = await gateway.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": "guess"}
    )
    assert_throttled(again, 30)


async def test_parallel_guesses_at_one_account_are_not_checked_at_once(
    engines: dict[str, AsyncEngine], settings: GatewaySettings
) -> None:
    """While one attempt at an account with recent failures is being checked, another is
    refused at once (429, retry in a second) instead of being checked beside it: a burst
    of parallel guesses cannot slip in before the failures are counted. Two real
    connections, as two gateway replicas would have."""
    throttle = Throttle(settings)
    login = f"race-{uuid.uuid4().hex[:8]}"
    key = account_key("user", login)
    engine = engines["gateway"]
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO login_throttle VALUES (:key, 1, now(), NULL)"), {"key": key}
        )
    try:
        async with AsyncSession(engine) as first, AsyncSession(engine) as second:
            async with throttle.attempt(first, account=("user", login), address=None):
                with pytest.raises(LoginThrottled) as refused:
                    async with throttle.attempt(second, account=("user", login), address=None):
                        pytest.fail("checked beside the first attempt")
                assert refused.value.headers["Retry-After"] == "1"
            await first.rollback()
            # Once the first is done, the next attempt goes ahead.
            await second.rollback()
            async with throttle.attempt(second, account=("user", login), address=None):
                pass
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM login_throttle WHERE key = :key"), {"key": key}
            )
