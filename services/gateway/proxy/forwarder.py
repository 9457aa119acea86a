"""Forwarding one request to a service and streaming its answer back.

aiohttp rather than httpx's default transport: on these machines httpx's pool cost a proxy
three quarters of its throughput (encode/httpx#3215). Bodies are streamed both ways and never
buffered, so a 1 GB export passes through in constant memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Message, Receive, Scope, Send
from yarl import URL

from shared.errors import problem_response
from shared.logs import get_logger
from shared.middleware import BodyTooLarge
from shared.request_context import REQUEST_ID_HEADER, current_request_id

_log = get_logger("inds.gateway.proxy")

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"x-request-id",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)
# Hop-by-hop, plus what the gateway's own server sets (date, server) or sets itself.
DROPPED_RESPONSE_HEADERS = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"upgrade",
        b"trailer",
        b"x-request-id",
        b"date",
        b"server",
    }
)
SAFE_TO_RETRY = frozenset({"GET", "HEAD", "OPTIONS"})
# How long an idle connection to a service is kept for reuse: shorter than the services' own
# keep-alive (uvicorn closes an idle connection after 5 s). Kept longer, a connection the
# service is closing at that moment is picked for the next request, which then fails with a
# reset or a disconnect: a GET is retried, a POST cannot be, and the caller got a 502.
UPSTREAM_IDLE_SECONDS = 3.0


class Forwarder:
    def __init__(
        self,
        *,
        connect_timeout: float,
        retries: int,
        max_connections: int,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.max_connections = max_connections
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            keepalive_timeout=UPSTREAM_IDLE_SECONDS,
            ttl_dns_cache=300,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        service: str,
        base_url: str,
        read_timeout: float,
        body_limit: int,
    ) -> None:
        assert self.session is not None, "forwarder not started"
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        target = base_url.rstrip("/") + raw_path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers, declared_length, has_body = _request_headers(scope)
        too_large = BodyTooLarge(body_limit).detail
        if declared_length is not None and declared_length > body_limit:
            await _problem(scope, receive, send, 413, too_large)
            return

        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.connect_timeout, sock_read=read_timeout
        )
        body = _BodyStream(receive, body_limit) if has_body else None
        attempts = self.retries + 1 if (method in SAFE_TO_RETRY and not has_body) else 1
        for attempt in range(attempts):
            relay = _Relay(send, receive)
            try:
                async with self.session.request(
                    method,
                    URL(target, encoded=True),
                    headers=headers,
                    data=body.chunks() if body else None,
                    allow_redirects=False,
                    timeout=timeout,
                    compress=False,
                ) as upstream:
                    if attempt + 1 < attempts and _asks_for_a_quick_retry(upstream):
                        await _pause_before_retry(attempt)
                        continue
                    await relay.stream(upstream)
                return
            except Exception as exc:
                if body is not None and body.too_large:
                    if not relay.started:
                        await _problem(scope, receive, send, 413, too_large)
                    return
                if relay.started:
                    # Headers are gone: all that is left is to end the answer short.
                    _log.warning(
                        "upstream broke off mid-answer", service=service, error=type(exc).__name__
                    )
                    return
                retriable = isinstance(
                    exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError
                )
                if retriable and attempt + 1 < attempts:
                    await _pause_before_retry(attempt)
                    continue
                status, type_, detail = _failure(exc, service, read_timeout)
                _log.warning(
                    "upstream failed", service=service, status=status, error=type(exc).__name__
                )
                await _problem(scope, receive, send, status, detail, type_=type_)
                return


async def _pause_before_retry(attempt: int) -> None:
    await asyncio.sleep(0.05 * (2**attempt))


def _asks_for_a_quick_retry(upstream: aiohttp.ClientResponse) -> bool:
    """A service's 503 with `Retry-After` of a second at most (its database dropped a
    connection, say): a request safe to repeat is repeated here rather than failed."""
    wait = upstream.headers.get("Retry-After", "")
    return upstream.status == 503 and wait.isdigit() and int(wait) <= 1


def _failure(exc: Exception, service: str, read_timeout: float) -> tuple[int, str, str]:
    """What the caller is told when a service could not answer."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return 503, "service-unavailable", f"The {service} service is unavailable."
    if isinstance(exc, TimeoutError):
        return (
            504,
            "gateway-timeout",
            f"The {service} service did not answer within {read_timeout:g} seconds.",
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
        # The service went away with the request in flight (it died, or is restarting).
        return (
            503,
            "service-unavailable",
            f"The {service} service closed the connection before answering: retry (a write "
            "with the same Idempotency-Key is applied at most once).",
        )
    if isinstance(exc, aiohttp.ClientError):
        return 502, "bad-gateway", f"The {service} service gave no valid answer."
    raise exc


class _Relay:
    """Sends the service's answer on, and stops reading it if the caller goes away."""

    def __init__(self, send: Send, receive: Receive) -> None:
        self.send = send
        self.receive = receive
        self.started = False

    async def stream(self, upstream: aiohttp.ClientResponse) -> None:
        await self.send(
            {
                "type": "http.response.start",
                "status": upstream.status,
                "headers": [
                    (name.lower(), value)
                    for name, value in upstream.raw_headers
                    if name.lower() not in DROPPED_RESPONSE_HEADERS
                ],
            }
        )
        self.started = True
        watcher: asyncio.Task[None] | None = None
        try:
            async for chunk in upstream.content.iter_any():
                if watcher is None:
                    # A long answer: watch for the caller hanging up (the request body has
                    # been read by now, so the next message can only be a disconnect).
                    watcher = asyncio.ensure_future(_disconnected(self.receive))
                elif watcher.done():
                    return
                await self.send({"type": "http.response.body", "body": chunk, "more_body": True})
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if watcher is not None:
                watcher.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _BodyStream:
    """The caller's body, passed on chunk by chunk, cut off past the size limit."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.too_large = False

    async def chunks(self) -> AsyncIterator[bytes]:
        received = 0
        while True:
            message: Message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ConnectionAbortedError("the caller went away while sending its body")
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                self.too_large = True
                raise ConnectionAbortedError("request body over the limit")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


def _request_headers(scope: Scope) -> tuple[list[tuple[str, str]], int | None, bool]:
    headers: list[tuple[str, str]] = []
    declared: int | None = None
    chunked = False
    forwarded_for = None
    host = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"x-forwarded-for":
            forwarded_for = value.decode("latin-1")
        elif name == b"host":
            host = value.decode("latin-1")
        if name in HOP_BY_HOP:
            continue
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
    client = scope.get("client")
    if client:
        chain = f"{forwarded_for}, {client[0]}" if forwarded_for else client[0]
        headers.append(("X-Forwarded-For", chain))
    headers.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
    if host:
        headers.append(("X-Forwarded-Host", host))
    request_id = current_request_id()
    if request_id:
        headers.append((REQUEST_ID_HEADER, request_id))
    has_body = chunked or bool(declared)
    return headers, declared, has_body


async def _problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    *,
    type_: str | None = None,
) -> None:
    response = problem_response(status, type=type_, detail=detail, instance=scope.get("path"))
    await response(scope, receive, send)
