"""A service's copy of the gateway's disabled accounts (shared/revocations.py), read over
real HTTP from a stand-in gateway: refreshed in the background, and kept when the gateway
cannot answer (tokens still end at their expiry)."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.revocations import GatewayRevocations
from tests.support.upstream import running


class FixedToken:
    async def token(self) -> str:
        return "service-token"


def _gateway(listed: dict) -> Starlette:
    async def disabled(request: Request) -> Response:
        listed["asked"] += 1
        if request.headers.get("authorization") != "Bearer service-token":
            return JSONResponse({"detail": "no"}, status_code=401)
        if listed["down"]:
            return JSONResponse({"detail": "down"}, status_code=503)
        return JSONResponse({"subjects": listed["subjects"]})

    return Starlette(routes=[Route("/auth/disabled-accounts", disabled)])


async def _until(condition, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_the_list_is_read_with_the_services_token_and_refreshed() -> None:
    listed = {"subjects": ["client:a"], "down": False, "asked": 0}
    async with running(_gateway(listed)) as url:
        revocations = GatewayRevocations(
            f"{url}/auth/disabled-accounts", FixedToken(), refresh_seconds=0.1
        )
        # The first request waits for the first read.
        assert await revocations.contains("client:a")
        assert not await revocations.contains("user:b")
        listed["subjects"] = ["user:b"]
        assert await _until(lambda: revocations.contains("user:b"))
        assert not await revocations.contains("client:a"), "re-enabled: good again"


async def test_a_gateway_that_cannot_answer_leaves_the_list_read_last() -> None:
    listed = {"subjects": ["client:a"], "down": False, "asked": 0}
    async with running(_gateway(listed)) as url:
        revocations = GatewayRevocations(
            f"{url}/auth/disabled-accounts", FixedToken(), refresh_seconds=0.05
        )
        assert await revocations.contains("client:a")
        listed["down"] = True
        asked = listed["asked"]

        async def asked_again() -> bool:
            await revocations.contains("client:a")
            return listed["asked"] > asked + 1

        assert await _until(asked_again)
        assert await revocations.contains("client:a")


async def test_no_gateway_at_all_refuses_nobody() -> None:
    """The service keeps serving while its issuer is down; the tokens it accepts still end
    at their expiry."""
    revocations = GatewayRevocations(
        "http://127.0.0.1:9/auth/disabled-accounts", FixedToken(), refresh_seconds=0.05
    )
    assert not await revocations.contains("client:a")
