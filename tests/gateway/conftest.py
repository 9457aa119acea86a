from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.db import Database
from tests.support.apps import serve
from tests.support.gateway import ADMIN_SECRET, bearer_headers, gateway_settings
from tests.support.upstream import running, upstream_app


@pytest.fixture(scope="session")
async def upstream_url() -> AsyncIterator[str]:
    async with running(upstream_app) as url:
        yield url


@pytest.fixture
def settings(upstream_url: str) -> GatewaySettings:
    return gateway_settings(upstream_url)


@pytest.fixture
async def gateway(
    gateway_db: Database, settings: GatewaySettings
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings), gateway_db, "http://gateway.test") as client:
        yield client


@pytest.fixture
async def admin_headers(gateway: httpx.AsyncClient) -> dict[str, str]:
    return await bearer_headers(gateway, "admin", ADMIN_SECRET)
