"""Pure-ASGI middleware shared by every service and the gateway.

Pure ASGI rather than `BaseHTTPMiddleware`: it streams bodies untouched and costs little per
request, which matters on the gateway's hot path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics
from shared.errors import problem_response
from shared.logs import get_logger, reset_request_service, set_request_service
from shared.request_context import (
    REQUEST_ID_HEADER,
    accept_or_create_request_id,
    reset_request_id,
    set_request_id,
)

_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.lower().encode()
_log = get_logger("inds.http")
V = TypeVar("V")


class RequestContextMiddleware:
    """Request id (accepted from `X-Request-ID` or created, echoed back), one access log line,
    metrics, a 422 for a query string that is not text, and a problem+json 500 for anything
    unhandled, without a stack trace."""

    def __init__(self, app: ASGIApp, *, service: str, access_log: bool = True) -> None:
        self.app = app
        self.service = service
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER_BYTES:
                incoming = value.decode("latin-1")
                break
        request_id = accept_or_create_request_id(incoming)
        token = set_request_id(request_id)
        service_token = set_request_service(self.service)
        request_id_bytes = request_id.encode()
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != _REQUEST_ID_HEADER_BYTES
                ]
                headers.append((_REQUEST_ID_HEADER_BYTES, request_id_bytes))
                message = {**message, "headers": headers}
            await send(message)

        try:
            query_errors = unreadable_query(scope.get("query_string", b""))
            if query_errors:
                await _query_problem(scope, query_errors)(scope, receive, send_with_request_id)
                return
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            _log.error("unhandled error", path=scope.get("path"), exc_info=True)
            if not response_started:
                response = problem_response(
                    500,
                    type="internal-error",
                    title="Internal server error",
                    detail="The server could not complete the request; it has been logged.",
                    instance=scope.get("path"),
                )
                await response(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            metrics.observe(self.service, scope["method"], route, status, elapsed)
            if self.access_log:
                _log.info(
                    "request",
                    method=scope["method"],
                    path=scope.get("path"),
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
            reset_request_id(token)
            reset_request_service(service_token)


def unreadable_query(query_string: bytes) -> list[dict[str, Any]]:
    """The query parameters that are not text PostgreSQL can store: a NUL character, or
    bytes that are not UTF-8 (which the framework would silently turn into U+FFFD). Empty
    for a readable query string.

    Checked here, where every service and the gateway first see a request, so that none of
    them can take such a value for a real one (a `%00` reaching a search, a `%ff` matching
    nothing) — as a body holding them is refused."""
    if not query_string:
        return []
    # The common case, decided without decoding: plain ASCII with no escapes and no NUL.
    if b"%" not in query_string and b"\x00" not in query_string and query_string.isascii():
        return []
    errors = []
    for pair in query_string.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decoded(raw_name)
        value = _decoded(raw_value)
        if name is not None and value is not None:
            continue
        # The value is never echoed (it may be personal data); a bad name is not named.
        errors.append(
            {
                "path": f"query.{name}" if name is not None else "query",
                "message": "must be UTF-8 text without NUL characters",
                "type": "string_unicode",
            }
        )
    return errors


def _decoded(raw: bytes) -> str | None:
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _query_problem(scope: Scope, errors: list[dict[str, Any]]) -> Response:
    return problem_response(
        422,
        type="validation-error",
        title="Invalid request",
        detail="One or more query parameters are not valid text.",
        instance=scope.get("path"),
        errors=errors,
    )


def _route_label(scope: Scope) -> str:
    label = scope.get("inds.route")
    if label:
        return label
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or "unmatched"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit} bytes allowed.")


def by_longest_prefix(path: str, table: Mapping[str, V], default: V) -> V:
    """The value for the longest prefix of `path` in `table`, else `default`."""
    best = max((prefix for prefix in table if path.startswith(prefix)), key=len, default=None)
    return table[best] if best is not None else default


class BodyLimitMiddleware:
    """413 for a body over the limit: at once when `Content-Length` says so, otherwise as soon
    as the streamed body passes it (raised from `receive`, so nothing is buffered here and the
    endpoint's transaction rolls back)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, limits: dict[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = by_longest_prefix(scope["path"], self.limits, self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await problem_response(
                    413, detail=BodyTooLarge(limit).detail, instance=scope["path"]
                )(scope, receive, send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
