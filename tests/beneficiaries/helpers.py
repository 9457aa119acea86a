"""Small helpers shared by the registry's tests: its URL prefix, registering a household
through the API, and counting rows."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from shared.db import Database

BASE = "/api/v1/beneficiaries"


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Register a household; it must be created."""
    response = await client.post(f"{BASE}/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def count(database: Database, model: type, *where: Any) -> int:
    async with database.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))
