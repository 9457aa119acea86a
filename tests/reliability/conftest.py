"""One real stack (`inds up --demo`: embedded PostgreSQL, the three services and the
gateway, each its own process) shared by the reliability tests, and a way to look straight
into a service's database to check what was really kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.support.stack import RunningStack, start_stack, stop_stack
from tests.support.upstream import free_port


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The funding service as two processes, as in production: its payroll builders and
    approvals really run side by side."""
    running = start_stack(
        tmp_path_factory.mktemp("reliability") / "data",
        free_port(),
        env={"INDS_FUNDING_WORKERS": "2"},
    )
    yield running
    stop_stack(running)


async def fetch(stack: RunningStack, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """`query`'s rows, read from `service`'s own database on the stack's server."""
    url = make_url(stack.state["database_url"]).set(database=service)
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()
