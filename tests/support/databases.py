"""Test databases: created on a server, migrated to head, dropped afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from inds.migrate import drop_databases, ensure_databases, service_database_urls, upgrade_on


@asynccontextmanager
async def migrated_databases(
    postgres_url: str, names: dict[str, str]
) -> AsyncIterator[dict[str, str]]:
    """Create the databases `names` (service -> database name), migrate each to its
    service's head, and yield service -> URL; drop them on the way out."""
    await ensure_databases(postgres_url, names)
    urls = service_database_urls(postgres_url, names)
    try:
        for service, url in urls.items():
            engine = create_async_engine(url, poolclass=NullPool)
            async with engine.begin() as connection:
                await connection.run_sync(upgrade_on, service)
            await engine.dispose()
        yield urls
    finally:
        await drop_databases(postgres_url, list(names.values()))
