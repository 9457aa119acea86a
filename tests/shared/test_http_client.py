from __future__ import annotations

import httpx
import pytest

from shared.http_client import RetryingTransport, create_http_client
from shared.request_context import reset_request_id, set_request_id
from tests.support.upstream import free_port, running, upstream_app


class FlakyTransport(httpx.AsyncBaseTransport):
    """Refuses the first `failures` connections, then answers 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, request=request)


async def test_idempotent_requests_are_retried_on_connection_errors() -> None:
    inner = FlakyTransport(failures=2)
    async with httpx.AsyncClient(
        transport=RetryingTransport(inner, retries=2, backoff=0)
    ) as client:
        assert (await client.get("http://svc/x")).status_code == 200
    assert inner.attempts == 3


async def test_posts_are_never_retried() -> None:
    inner = FlakyTransport(failures=1)
    async with httpx.AsyncClient(
        transport=RetryingTransport(inner, retries=2, backoff=0)
    ) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("http://svc/x", json={})
    assert inner.attempts == 1


async def test_request_id_and_service_token_travel_with_each_call() -> None:
    class FixedToken:
        async def token(self) -> str:
            return "service-token"

    async with running(upstream_app) as url:
        client = create_http_client(url, token_provider=FixedToken())
        marker = set_request_id("req-77")
        try:
            seen = (await client.get("/api/v1/beneficiaries/echo")).json()["headers"]
        finally:
            reset_request_id(marker)
            await client.aclose()
    assert seen["x-request-id"] == "req-77"
    assert seen["authorization"] == "Bearer service-token"


async def test_a_closed_port_fails_after_the_retries() -> None:
    client = create_http_client(f"http://127.0.0.1:{free_port()}", retries=1)
    try:
        # httpx-aiohttp reports a refused connection as ConnectTimeout: callers catch both.
        with pytest.raises((httpx.ConnectError, httpx.ConnectTimeout)):
            await client.get("/anything")
    finally:
        await client.aclose()
