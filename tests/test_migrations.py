"""Each service's models and its migrations describe the same schema, and every migration
can be undone and redone."""

from __future__ import annotations

import importlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from inds.migrate import (
    alembic_config,
    drop_databases,
    ensure_databases,
    service_database_urls,
    upgrade_on,
)
from inds.paths import SERVICES


def _metadata(service: str):
    return importlib.import_module(f"services.{service}.models").Base.metadata


@pytest.mark.parametrize("service", SERVICES)
async def test_models_match_migrations(service: str, engines: dict[str, AsyncEngine]) -> None:
    def differences(connection) -> list:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, _metadata(service))

    async with engines[service].connect() as connection:
        assert await connection.run_sync(differences) == []


@pytest.mark.parametrize("service", SERVICES)
def test_one_head_per_service(service: str) -> None:
    assert len(ScriptDirectory.from_config(alembic_config(service)).get_heads()) == 1


@pytest.mark.parametrize("service", SERVICES)
async def test_downgrade_to_base_and_back(service: str, postgres_url: str) -> None:
    name = f"inds_test_updown_{uuid.uuid4().hex[:8]}"
    await ensure_databases(postgres_url, {service: name})
    engine = create_async_engine(
        service_database_urls(postgres_url, {service: name})[service], poolclass=NullPool
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_on, service)
            await connection.run_sync(_downgrade_to_base, service)
            tables = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_tables"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
            assert tables == 0
            await connection.run_sync(upgrade_on, service)
    finally:
        await engine.dispose()
        await drop_databases(postgres_url, [name])


def _downgrade_to_base(connection, service: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(service, connection=connection), "base")
