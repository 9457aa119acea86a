"""One way to build a service app: logging, problem+json, request context, health, the
database, token verification and the service's identity for calling others."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

from shared.auth import TokenVerifier, jwks_over_http
from shared.db import Database
from shared.errors import install_error_handlers
from shared.health import HealthEndpoint, liveness, operations_router
from shared.http_client import ServiceTokenProvider
from shared.logs import configure_logging
from shared.middleware import BodyLimitMiddleware, RequestContextMiddleware
from shared.problem_docs import document_problems
from shared.revocations import GatewayRevocations
from shared.settings import ServiceSettings

LifespanHook = Callable[[FastAPI], Awaitable[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    middleware: Sequence[Middleware] = (),
    health: HealthEndpoint = liveness,
    token_verifier: TokenVerifier | None = None,
    version: str = "0.1.0",
    **fastapi_options: Any,
) -> FastAPI:
    """`middleware` runs inside the request context (request id, logs, metrics), outermost
    first."""
    configure_logging(settings.service_name, settings.common.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Tests put a database bound to their own transaction on the state before startup.
        if getattr(app.state, "database", None) is None:
            if not settings.database_url:
                raise RuntimeError(
                    f"no database configured: set INDS_{settings.service_name.upper()}"
                    "_DATABASE_URL or INDS_DATABASE_URL"
                )
            app.state.database = Database(
                settings.database_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                application_name=settings.service_name,
            )
        for hook in on_startup:
            await hook(app)
        # What exists after start-up lives as long as the process: keep it out of the
        # cyclic collector's full passes, which otherwise stall every request in flight.
        gc.freeze()
        # Requests that build many objects at once (a 500-household sync batch, an import
        # batch) otherwise spend a fifth of their time in young-generation passes, which
        # collect nearly nothing here: almost everything is freed by reference counting.
        gc.set_threshold(50_000, 20, 20)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await app.state.database.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        # One schema per model, whether sent or read: generated clients refuse two models
        # of one name (Gps-Input, Gps-Output) and drop the types that use them.
        separate_input_output_schemas=False,
        # Operation ids are the endpoints' function names (`register_household`): what a
        # generated client's functions are called.
        generate_unique_id_function=_operation_id,
        **fastapi_options,
    )
    app.state.settings = settings
    app.state.database = None
    app.state.service_token = service_token_provider_for(settings)
    app.state.token_verifier = token_verifier or token_verifier_for(
        settings, app.state.service_token
    )
    install_error_handlers(app)
    document_problems(app)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, limits=settings.body_limits
    )
    for layer in reversed(middleware):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.include_router(operations_router(health))
    for router in routers:
        app.include_router(router)
    return app


def _operation_id(route: APIRoute) -> str:
    return route.name


def token_verifier_for(
    settings: ServiceSettings, service_token: ServiceTokenProvider | None = None
) -> TokenVerifier:
    """The service's verifier: keys from the gateway (or configured), and, when the service
    has a token of its own to ask with, the gateway's list of disabled accounts."""
    common = settings.common
    jwks = orjson.loads(common.jwt_public_jwks) if common.jwt_public_jwks else None
    revocations = None
    if service_token is not None:
        revocations = GatewayRevocations(
            common.gateway_url.rstrip("/") + "/auth/disabled-accounts",
            service_token,
            refresh_seconds=settings.revocation_refresh_seconds,
        )
    return TokenVerifier(
        issuer=common.jwt_issuer,
        audience=common.jwt_audience,
        jwks=jwks,
        key_source=None if jwks else jwks_over_http(common.jwks_url()),
        revocations=revocations,
    )


def service_token_provider_for(settings: ServiceSettings) -> ServiceTokenProvider | None:
    if settings.client_secret is None:
        return None
    return ServiceTokenProvider(
        settings.common.gateway_url.rstrip("/") + "/auth/token",
        settings.resolved_client_id(),
        settings.client_secret.get_secret_value(),
    )
