"""The gateway app: `create_app()` for uvicorn (`--factory`)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from services.gateway.accounts.endpoints import router as accounts_router
from services.gateway.bootstrap import ensure_accounts
from services.gateway.clients.registry import RegistryClient
from services.gateway.config import GatewaySettings, get_settings
from services.gateway.console.endpoints import router as console_router
from services.gateway.docs.endpoints import router as docs_router
from services.gateway.docs.openapi import ServiceSpecs
from services.gateway.health import aggregated_health
from services.gateway.proxy.forwarder import Forwarder
from services.gateway.proxy.middleware import ProxyMiddleware, ProxyRuntime
from services.gateway.ratelimit.service import RateLimiter
from services.gateway.throttle.service import Throttle
from services.gateway.tokens.endpoints import admin_router as keys_router
from services.gateway.tokens.endpoints import router as tokens_router
from services.gateway.tokens.keys import KeyRing
from services.gateway.tokens.revocation import DisabledAccounts
from services.gateway.tokens.sealing import KeySealer
from services.gateway.tokens.service import GatewayIdentity
from shared.app_factory import create_service_app
from shared.auth import TokenVerifier
from shared.http_client import create_http_client

DESCRIPTION = """
The single entry to the INDS platform: the social registry (`/api/v1/beneficiaries`),
funding (`/api/v1/funding`) and monitoring & evaluation (`/api/v1/indicators`).

Get a token at `POST /auth/token` (OAuth2 client credentials, or password for staff and
field agents, who also get a refresh token to renew it without the password) and send it as
`Authorization: Bearer <token>`; `POST /auth/revoke` signs a device out. Every error is
`application/problem+json` (RFC 9457) and carries the request id also sent back in
`X-Request-ID`. Staff sign in to the web console at `/console/`.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    key_ring = KeyRing(
        algorithm=settings.signing_algorithm,
        token_ttl_seconds=settings.token_ttl_seconds,
        refresh_seconds=settings.key_refresh_seconds,
        sealer=KeySealer(
            settings.key_encryption_key.get_secret_value() if settings.key_encryption_key else None
        ),
    )
    disabled_accounts = DisabledAccounts(refresh_seconds=settings.revocation_refresh_seconds)
    runtime = ProxyRuntime(
        settings=settings,
        forwarder=Forwarder(
            connect_timeout=settings.upstream_connect_timeout,
            retries=settings.upstream_retries,
            max_connections=settings.upstream_max_connections,
        ),
        limiter=RateLimiter(
            rate_per_second=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
            callers=settings.rate_limit_callers,
        ),
    )

    async def startup(app: FastAPI) -> None:
        database = app.state.database
        disabled_accounts.database = database
        runtime.limiter.database = database
        await key_ring.ensure_active_key(database)
        await ensure_accounts(database, settings)
        await runtime.forwarder.start()
        app.state.http = create_http_client("", timeout=5.0, retries=0)
        identity = GatewayIdentity(
            key_ring,
            database,
            issuer=settings.common.jwt_issuer,
            audience=settings.common.jwt_audience,
        )
        app.state.registry_http = create_http_client(
            settings.common.beneficiaries_url,
            timeout=settings.registry_timeout,
            connect_timeout=settings.upstream_connect_timeout,
            token_provider=identity,
        )
        app.state.registry = RegistryClient(app.state.registry_http)

    async def shutdown(app: FastAPI) -> None:
        await runtime.forwarder.close()
        await app.state.http.aclose()
        await app.state.registry_http.aclose()

    async def gateway_keys() -> dict:
        # An unknown kid may be a key another replica just rotated in.
        await key_ring.load(app.state.database)
        return key_ring.jwks()

    verifier = TokenVerifier(
        issuer=settings.common.jwt_issuer,
        audience=settings.common.jwt_audience,
        key_source=gateway_keys,
        refresh_interval_seconds=1.0,
        revocations=disabled_accounts,
    )
    runtime.verifier = verifier
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["X-Request-ID", "ETag", "Retry-After", "Location"],
            )
        )
    middleware.append(Middleware(ProxyMiddleware, runtime=runtime))

    app = create_service_app(
        settings,
        title="INDS gateway",
        description=DESCRIPTION,
        routers=[tokens_router, accounts_router, keys_router, docs_router, console_router],
        on_startup=[startup],
        on_shutdown=[shutdown],
        middleware=middleware,
        health=aggregated_health,
        token_verifier=verifier,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.key_ring = key_ring
    app.state.disabled_accounts = disabled_accounts
    app.state.throttle = Throttle(settings)
    app.state.proxy = runtime
    app.state.service_specs = ServiceSpecs(settings.upstreams())
    return app
