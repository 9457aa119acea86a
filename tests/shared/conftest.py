"""The kit is tested through a service app built from the kit alone (`kit_app`), on a real
PostgreSQL database: the probes need none of its tables, so the registry's test database,
rolled back after each test, serves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shared.db import Database
from tests.shared.kit_app import create_kit_app, kit_settings
from tests.support.apps import serve
from tests.support.tokens import TokenFactory


@pytest.fixture
async def service(
    beneficiaries_db: Database, tokens: TokenFactory
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_kit_app(kit_settings(tokens, max_body_bytes=2000))
    async with serve(app, beneficiaries_db, "http://kit.test") as client:
        yield client
