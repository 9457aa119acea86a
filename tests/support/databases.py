"""Test databases: created on a server, migrated to head, dropped afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from inds.migrate import drop_databases, ensure_databases, service_database_urls, upgrade_on

# Tests write in transactions they roll back, and PostgreSQL counts rolled-back rows as
# changes: autovacuum would analyze a table mid-run as it stands committed (empty), and the
# planner, told the registry is empty, then reads the test's thousand people with a scan per
# row (a household read taking seconds, depending on when the analyze fell). Never analyzed,
# a table is planned from its size on disk.
_NO_AUTOVACUUM = text("""
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT schemaname, tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('ALTER TABLE %I.%I SET (autovacuum_enabled = false)', t.schemaname, t.tablename);
  END LOOP;
END $$
""")


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
                await connection.execute(_NO_AUTOVACUUM)
            await engine.dispose()
        yield urls
    finally:
        await drop_databases(postgres_url, list(names.values()))
