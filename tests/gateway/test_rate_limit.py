"""A caller's requests are limited across every gateway process: the count is in the
gateway's database, not in each process's memory."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from services.gateway.app import create_app
from services.gateway.config import CallerRateLimit
from services.gateway.models import RateLimit
from services.gateway.ratelimit.service import RateLimiter
from shared.db import Database
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, bearer_headers, gateway_settings
from tests.support.upstream import free_port

ECHO = "/api/v1/beneficiaries/echo"


async def test_two_gateway_processes_share_one_callers_limit(
    gateway_db: Database, upstream_url: str
) -> None:
    # Next to no refill: what is allowed is the burst.
    settings = gateway_settings(upstream_url, rate_limit_per_second=0.001, rate_limit_burst=4)
    async with (
        serve(create_app(settings), gateway_db, "http://gateway.test") as first,
        serve(create_app(settings), gateway_db, "http://gateway.test") as second,
    ):
        auth = await bearer_headers(first, "admin", ADMIN_SECRET)
        statuses = []
        for n in range(8):
            gateway = first if n % 2 == 0 else second
            statuses.append((await gateway.get(ECHO, headers=auth)).status_code)
        assert statuses == [200] * 4 + [429] * 4
        refused = await second.get(ECHO, headers=auth)
        assert refused.headers["content-type"] == "application/problem+json"
        # The next request is 1,000 s away: the wait is said, not a default second.
        assert int(refused.headers["retry-after"]) > 900


async def test_requests_arriving_together_are_counted_together_each_caller_on_its_own(
    gateway_db: Database,
) -> None:
    limiter = RateLimiter(
        rate_per_second=0.001,
        burst=10,
        callers={"client:small": CallerRateLimit(per_second=0.001, burst=3)},
    )
    limiter.database = gateway_db
    callers = ["client:big"] * 25 + ["client:small"] * 25
    waits = await asyncio.gather(*(limiter.take(caller) for caller in callers))
    allowed = [caller for caller, wait in zip(callers, waits, strict=True) if wait == 0]
    assert allowed.count("client:big") == 10
    assert allowed.count("client:small") == 3
    assert min(wait for wait in waits if wait > 0) > 900


async def test_a_caller_given_an_allowance_of_its_own_is_held_to_it(
    gateway_db: Database, upstream_url: str
) -> None:
    settings = gateway_settings(
        upstream_url, rate_limit_callers={"client:admin": {"per_second": 0.001, "burst": 2}}
    )
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as gateway:
        auth = await bearer_headers(gateway, "admin", ADMIN_SECRET)
        statuses = [(await gateway.get(ECHO, headers=auth)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        # The others keep the default (200 at once).
        assert (await gateway.get("/.well-known/jwks.json")).status_code == 200


async def test_a_caller_whose_allowance_is_whole_again_is_swept_out(
    gateway_db: Database,
) -> None:
    # Two settings on one table: a fast refill that never sweeps, a slow one sweeping at
    # every request.
    fast = RateLimiter(rate_per_second=1000.0, burst=2, sweep_seconds=3600.0)
    slow = RateLimiter(rate_per_second=0.001, burst=2, sweep_seconds=0.0)
    fast.database = slow.database = gateway_db
    assert await fast.take("client:early") == 0
    await asyncio.sleep(0.05)  # 50 intervals: client:early's allowance is whole again
    assert await slow.take("client:late") == 0
    async with gateway_db.sessionmaker() as session:
        callers = set(await session.scalars(select(RateLimit.caller)))
    assert "client:early" not in callers
    assert "client:late" in callers


async def test_without_its_database_a_gateway_process_still_limits_on_its_own() -> None:
    limiter = RateLimiter(rate_per_second=0.001, burst=3)
    limiter.database = Database(f"postgresql+asyncpg://inds:x@127.0.0.1:{free_port()}/gateway")
    try:
        waits = [await limiter.take("client:field-app") for _ in range(4)]
    finally:
        await limiter.database.dispose()
    assert waits[:3] == [0, 0, 0]
    assert waits[3] > 900
