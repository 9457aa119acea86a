"""The reliability tests run on the suite's real stack (the `stack` fixture of
tests/conftest.py: `inds up --demo`, the gateway and funding as two processes each); this is
a way to look straight into a service's database to check what was really kept."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from tests.support.stack import RunningStack


async def fetch(stack: RunningStack, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """`query`'s rows, read from `service`'s own database on the stack's server."""
    url = make_url(stack.state["database_url"]).set(database=service)
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()
