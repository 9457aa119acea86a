"""The gateway's front door: `/api/v1/<service>/...` is authenticated (but for what the
access table opens to all: the registry's DCI signing keys), rate-limited and forwarded
here, before any FastAPI routing; everything else goes on to the gateway's own endpoints,
rate-limited by caller."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access.table import is_public
from services.gateway.config import GatewaySettings
from services.gateway.proxy.forwarder import Forwarder
from services.gateway.ratelimit.local import retry_after
from services.gateway.ratelimit.service import RateLimiter
from shared.auth import TokenVerifier
from shared.errors import ProblemError, Unauthorized
from shared.middleware import by_longest_prefix

UNLIMITED_PATHS = frozenset({"/health", "/ready", "/metrics"})


@dataclass
class Route:
    service: str
    prefix: str
    base_url: str


@dataclass
class ProxyRuntime:
    """What the proxy needs, built with the app and started by its lifespan."""

    settings: GatewaySettings
    forwarder: Forwarder
    limiter: RateLimiter
    verifier: TokenVerifier | None = None

    def routes(self) -> list[Route]:
        return [
            Route(name, f"/api/v1/{name}", url) for name, url in self.settings.upstreams().items()
        ]

    def timeout_for(self, path: str) -> float:
        return by_longest_prefix(path, self.settings.route_timeouts, self.settings.upstream_timeout)

    def body_limit_for(self, path: str) -> int:
        return by_longest_prefix(path, self.settings.body_limits, self.settings.max_body_bytes)


class ProxyMiddleware:
    def __init__(self, app: ASGIApp, *, runtime: ProxyRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self.routes = runtime.routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        route = next(
            (r for r in self.routes if path == r.prefix or path.startswith(r.prefix + "/")), None
        )
        if route is None:
            if path in UNLIMITED_PATHS or await self._within_rate(scope, receive, send):
                await self.app(scope, receive, send)
            return

        scope["inds.route"] = route.prefix + "/*"
        subject = None  # an operation the access table opens to all: by caller, if known
        if not is_public(scope["method"], path):
            try:
                subject = await self._authenticate(scope)
            except ProblemError as problem:
                await _reply(scope, receive, send, problem)
                return
        if not await self._within_rate(scope, receive, send, subject):
            return
        await self.runtime.forwarder.forward(
            scope,
            receive,
            send,
            service=route.service,
            base_url=route.base_url,
            read_timeout=self.runtime.timeout_for(path),
            body_limit=self.runtime.body_limit_for(path),
        )

    async def _authenticate(self, scope: Scope) -> str:
        """The gateway checks tokens too, so junk never reaches a service and limits apply
        per caller; the service checks again for itself."""
        authorization = _header(scope, b"authorization")
        if not authorization or authorization[:7].lower() != "bearer ":
            raise Unauthorized("A bearer token is required.", error="invalid_request")
        assert self.runtime.verifier is not None
        principal = await self.runtime.verifier.verify(authorization[7:].strip())
        return principal.subject

    async def _within_rate(
        self, scope: Scope, receive: Receive, send: Send, subject: str | None = None
    ) -> bool:
        if subject is None:
            subject = await self._optional_subject(scope)
        wait = await self.runtime.limiter.take(subject)
        if wait <= 0:
            return True
        problem = ProblemError(
            "Too many requests from this caller; slow down.",
            status=429,
            type="rate-limited",
            title="Too many requests",
            headers={"Retry-After": retry_after(wait)},
        )
        await _reply(scope, receive, send, problem)
        return False

    async def _optional_subject(self, scope: Scope) -> str:
        authorization = _header(scope, b"authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            try:
                return await self._authenticate(scope)
            except ProblemError:
                pass
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _reply(scope: Scope, receive: Receive, send: Send, problem: ProblemError) -> None:
    await problem.to_response(scope.get("path"))(scope, receive, send)
