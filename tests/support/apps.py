"""Running an app under test: its lifespan, on a test database, behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from shared.db import Database


@asynccontextmanager
async def serve(
    app: FastAPI, database: Database, base_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    app.state.database = database
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
