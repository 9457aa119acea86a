"""Creating the service databases and running each service's Alembic migrations."""

from __future__ import annotations

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url

from inds.paths import MIGRATIONS_DIR, SERVICES
from shared.settings import database_url_for


def alembic_config(
    service: str, url: str | None = None, connection: Connection | None = None
) -> Config:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS_DIR / service))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / service / "versions"))
    if url is not None:
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def next_revision_id(service: str) -> str:
    """Revisions are numbered 0001, 0002, ... so their order reads off the file names."""
    numbers = [
        int(path.name[:4])
        for path in (MIGRATIONS_DIR / service / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring `service`'s database to `revision` (blocking: call it outside an event loop)."""
    command.upgrade(alembic_config(service, url), revision)


def upgrade_on(connection: Connection, service: str, revision: str = "head") -> None:
    """The same inside a caller's connection (`await conn.run_sync(upgrade_on, service)`)."""
    command.upgrade(alembic_config(service, connection=connection), revision)


async def ensure_databases(server_url: str, names: dict[str, str]) -> None:
    """Create the databases in `names` (service -> database name) that do not exist yet."""
    connection = await asyncpg.connect(_libpq_url(server_url))
    try:
        existing = {
            row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")
        }
        for name in names.values():
            if name not in existing:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_databases(server_url: str, names: list[str]) -> None:
    connection = await asyncpg.connect(_libpq_url(server_url))
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def service_database_urls(server_url: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """Each service's database URL on the server at `server_url` (its own name by default)."""
    names = names or {service: service for service in SERVICES}
    return {service: database_url_for(server_url, name) for service, name in names.items()}


def _libpq_url(url: str) -> str:
    """asyncpg wants a plain postgresql:// URL, without a SQLAlchemy driver name."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
