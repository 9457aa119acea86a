"""One real PostgreSQL per test session (embedded, or `INDS_TEST_DATABASE_URL`), the four
service databases migrated once, and each test inside a transaction that rolls back; and one
real stack (`inds up --demo`) for the tests that use the system from outside."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from inds.embedded_db import EmbeddedPostgres
from inds.paths import SERVICES
from shared.db import Database
from tests.support.databases import migrated_databases
from tests.support.stack import SUITE_STACK_ENV, RunningStack, running_stack
from tests.support.tokens import TokenFactory


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    external = os.environ.get("INDS_TEST_DATABASE_URL")
    if external:
        yield external
        return
    folder = Path(tempfile.mkdtemp(prefix="inds-test-"))
    server = EmbeddedPostgres(folder / "pg")
    try:
        yield server.start(throwaway=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """`inds up --demo` (embedded PostgreSQL, the services and the gateway, each its own
    process), started once for the end-to-end and reliability tests, which each make the
    data they assert on. The gateway and funding run as two processes each
    (`SUITE_STACK_ENV`)."""
    with running_stack(env=SUITE_STACK_ENV) as running:
        yield running


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    """The key service tests sign their tokens with (the apps under test trust it)."""
    return TokenFactory()


@pytest.fixture(scope="session")
async def database_urls(postgres_url: str) -> AsyncIterator[dict[str, str]]:
    """service -> URL of its freshly migrated test database (unique names, so a shared
    server can host several runs)."""
    suffix = uuid.uuid4().hex[:8]
    names = {service: f"inds_test_{suffix}_{service}" for service in SERVICES}
    async with migrated_databases(postgres_url, names) as urls:
        yield urls


@pytest.fixture(scope="session")
async def engines(database_urls: dict[str, str]) -> AsyncIterator[dict[str, AsyncEngine]]:
    created = {service: create_async_engine(url) for service, url in database_urls.items()}
    yield created
    for engine in created.values():
        await engine.dispose()


async def _rolled_back(engine: AsyncEngine) -> AsyncIterator[Database]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield Database.bound_to(connection)
        finally:
            await transaction.rollback()


@pytest.fixture
async def gateway_db(engines: dict[str, AsyncEngine]) -> AsyncIterator[Database]:
    async for database in _rolled_back(engines["gateway"]):
        yield database


@pytest.fixture
async def beneficiaries_db(engines: dict[str, AsyncEngine]) -> AsyncIterator[Database]:
    async for database in _rolled_back(engines["beneficiaries"]):
        yield database


@pytest.fixture
async def funding_db(engines: dict[str, AsyncEngine]) -> AsyncIterator[Database]:
    async for database in _rolled_back(engines["funding"]):
        yield database
