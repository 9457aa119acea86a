"""The indicators service under test, reading the real registry and funding apps in-process
(their `/stats/catalog` over HTTP through ASGI, on their own test databases)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.beneficiaries.app import create_app as create_registry_app
from services.funding.app import create_app as create_funding_app
from services.indicators.app import create_app
from services.indicators.clients.stats import StatsClient
from services.indicators.config import IndicatorsSettings
from services.indicators.context import Sources
from shared.db import Database
from shared.http_client import create_http_client
from shared.service_client import ServiceClient
from shared.settings import CommonSettings
from tests.indicators.payloads import DEFINITIONS
from tests.indicators.registry_set import add_registry_set, female_heads, sdg131, upload_population
from tests.support.apps import serve
from tests.support.funding import funding_settings, registry_client
from tests.support.registry import as_role, registry_settings
from tests.support.tokens import TokenFactory

REGISTRY_URL = "http://beneficiaries.test"
FUNDING_URL = "http://funding.test"


@pytest.fixture
async def indicators_db(engines: dict[str, AsyncEngine]) -> AsyncIterator[Database]:
    async with engines["indicators"].connect() as connection:
        transaction = await connection.begin()
        try:
            yield Database.bound_to(connection)
        finally:
            await transaction.rollback()


class ServiceToken:
    """What the gateway would give the indicators service: a token with the service role."""

    def __init__(self, tokens: TokenFactory) -> None:
        self.tokens = tokens

    async def token(self) -> str:
        return self.tokens.token(sub="client:svc-indicators", roles=["service"])


class OneAtATime(httpx.AsyncBaseTransport):
    """An app in-process, answering one request at a time: the test's app shares one
    database connection (its transaction rolls back after the test), which cannot serve
    two statements at once. It counts the requests sent before earlier ones were answered:
    what the caller asks concurrently."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.lock = asyncio.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.paths.append(request.url.path)
        try:
            async with self.lock:
                response = await self.inner.handle_async_request(request)
                await response.aread()
                return response
        finally:
            self.in_flight -= 1


def stats_client(
    tokens: TokenFactory, service: str, url: str, transport: httpx.AsyncBaseTransport
) -> StatsClient:
    http = create_http_client(url, token_provider=ServiceToken(tokens), transport=transport)
    return StatsClient(ServiceClient(http, service), f"/api/v1/{service}")


@pytest.fixture
def registry_app(tokens: TokenFactory) -> FastAPI:
    return create_registry_app(registry_settings(tokens))


@pytest.fixture
async def registry(
    registry_app: FastAPI, beneficiaries_db: Database
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(registry_app, beneficiaries_db, REGISTRY_URL) as client:
        yield client


@pytest.fixture
def funding_app(tokens: TokenFactory, registry_app: FastAPI) -> FastAPI:
    app = create_funding_app(funding_settings(tokens))
    app.state.registry = registry_client(tokens, httpx.ASGITransport(app=registry_app))
    return app


@pytest.fixture
async def funding(
    funding_app: FastAPI, funding_db: Database, registry: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(funding_app, funding_db, FUNDING_URL) as client:
        yield client


def indicators_settings(tokens: TokenFactory) -> IndicatorsSettings:
    return IndicatorsSettings(
        common=CommonSettings(environment="test", jwt_public_jwks=tokens.jwks_json),
        snapshot_poll_interval=None,
    )


@pytest.fixture
def transports(registry_app: FastAPI, funding_app: FastAPI) -> dict[str, OneAtATime]:
    """How the indicators service reaches the registry and funding apps."""
    return {"beneficiaries": OneAtATime(registry_app), "funding": OneAtATime(funding_app)}


@pytest.fixture
def indicators_app(tokens: TokenFactory, transports: dict[str, OneAtATime]) -> FastAPI:
    app = create_app(indicators_settings(tokens))
    app.state.sources = Sources(
        registry=stats_client(tokens, "beneficiaries", REGISTRY_URL, transports["beneficiaries"]),
        funding=stats_client(tokens, "funding", FUNDING_URL, transports["funding"]),
    )
    return app


@pytest.fixture
async def indicators(
    indicators_app: FastAPI,
    indicators_db: Database,
    registry: httpx.AsyncClient,
    funding: httpx.AsyncClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """The indicators API, asking the registry and funding above."""
    async with serve(indicators_app, indicators_db, "http://indicators.test") as client:
        yield client


@pytest.fixture
def officer(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "me_officer")


@pytest.fixture
def analyst(tokens: TokenFactory) -> dict[str, str]:
    return as_role(tokens, "analyst")


@pytest.fixture
async def defined(
    indicators: httpx.AsyncClient,
    registry: httpx.AsyncClient,
    beneficiaries_db: Database,
    officer: dict[str, str],
) -> None:
    await add_registry_set(beneficiaries_db)
    await upload_population(indicators, officer)
    for body in (sdg131(), female_heads()):
        created = await indicators.post(DEFINITIONS, json=body, headers=officer)
        assert created.status_code == 201, created.text
