from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import anyio
from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import AdminArea
from shared.repository import Table

REFERENCE_FILE = Path(__file__).with_name("djibouti.csv")


admin_areas = Table(AdminArea, "No such area.")


async def get_many(session: AsyncSession, codes: set[str]) -> dict[str, AdminArea]:
    if not codes:
        return {}
    rows = await session.execute(select(AdminArea).where(AdminArea.code.in_(codes)))
    return {area.code: area for area in rows.scalars()}


async def localities(session: AsyncSession) -> dict[str, AdminArea]:
    """Every locality (admin level 3) by code: what a whole import resolves against."""
    rows = await session.execute(select(AdminArea).where(AdminArea.level == 3))
    return {area.code: area for area in rows.scalars()}


async def list_areas(
    session: AsyncSession, level: int | None, parent_code: str | None
) -> Sequence[AdminArea]:
    statement = select(AdminArea).order_by(AdminArea.code)
    if level is not None:
        statement = statement.where(AdminArea.level == level)
    if parent_code is not None:
        statement = statement.where(AdminArea.parent_code == parent_code)
    return (await session.execute(statement)).scalars().all()


def add(session: AsyncSession, area: AdminArea) -> None:
    session.add(area)


async def load_reference_file(session: AsyncSession, path: Path = REFERENCE_FILE) -> int:
    """Add the areas in the reference file that are not there yet (parents first); areas
    added or changed through the API are left as they are."""
    text = await anyio.Path(path).read_text(encoding="utf-8")
    rows = sorted(csv.DictReader(io.StringIO(text)), key=lambda row: int(row["level"]))
    region_of: dict[str, str] = {}
    values = []
    for row in rows:
        parent = row["parent_code"] or None
        region = row["code"] if parent is None else region_of[parent]
        region_of[row["code"]] = region
        values.append(
            {
                "code": row["code"],
                "name": row["name"],
                "level": int(row["level"]),
                "parent_code": parent,
                "region_code": region,
                "area": row["area"] or None,
                "is_refugee_village": row["is_refugee_village"] == "true",
            }
        )
    result = await session.execute(
        insert(AdminArea).values(values).on_conflict_do_nothing(index_elements=["code"])
    )
    return cast(CursorResult[Any], result).rowcount or 0
