"""HTTP clients for calling other services: timeouts, the request id and the service's own
token on every call, and retries only where a retry cannot do a write twice."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import httpx
from httpx_aiohttp import AiohttpTransport

from shared.request_context import REQUEST_ID_HEADER, current_request_id

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class RetryingTransport(httpx.AsyncBaseTransport):
    """Retries a request that never reached the server (connection refused or timed out),
    and only for idempotent methods: a POST is never sent twice by this layer."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, *, retries: int = 2, backoff: float = 0.1
    ) -> None:
        self.inner = inner
        self.retries = retries
        self.backoff = backoff

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempts = self.retries + 1 if request.method in IDEMPOTENT_METHODS else 1
        for attempt in range(attempts):
            try:
                return await self.inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


class TokenSource(Protocol):
    """What `create_http_client` asks for the bearer token of each call."""

    async def token(self) -> str: ...


class ServiceTokenProvider:
    """The calling service's own token (client credentials at the gateway), cached until
    shortly before it expires."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._token and time.monotonic() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            async with httpx.AsyncClient(timeout=10.0) as client:
                response = await client.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                )
            response.raise_for_status()
            payload = response.json()
            self._token = payload["access_token"]
            lifetime = float(payload.get("expires_in", 300))
            self._expires_at = time.monotonic() + max(lifetime - 60, lifetime / 2)
            return self._token


def create_http_client(
    base_url: str,
    *,
    timeout: float = 10.0,
    connect_timeout: float = 3.0,
    retries: int = 2,
    token_provider: TokenSource | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for `base_url`. `transport` replaces the network one (aiohttp, retrying
    connections that never reached the server): tests pass `httpx.ASGITransport(app)` to
    call an app in-process; `retries` then does not apply."""

    async def add_context(request: httpx.Request) -> None:
        request_id = current_request_id()
        if request_id:
            request.headers[REQUEST_ID_HEADER] = request_id
        if token_provider is not None and "authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {await token_provider.token()}"

    if transport is None:
        transport = RetryingTransport(AiohttpTransport(), retries=retries)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        transport=transport,
        event_hooks={"request": [add_context]},
    )
