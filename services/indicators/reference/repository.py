"""Population cells and poverty lines in the database; population summed in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import PopulationCell, PopulationUpload, PovertyLine
from shared.repository import Table

poverty_lines = Table(PovertyLine, "No such poverty line.")


async def replace_population(
    session: AsyncSession, upload: PopulationUpload, cells: list[dict[str, Any]]
) -> None:
    """The upload's cells in place of every earlier cell of its years."""
    session.add(upload)
    await session.flush()
    await session.execute(delete(PopulationCell).where(PopulationCell.year.in_(upload.years)))
    await session.execute(
        insert(PopulationCell), [{**cell, "upload_id": upload.id} for cell in cells]
    )


async def uploads(session: AsyncSession) -> Sequence[PopulationUpload]:
    statement = select(PopulationUpload).order_by(
        PopulationUpload.uploaded_at.desc(), PopulationUpload.id
    )
    return (await session.scalars(statement)).all()


async def population(
    session: AsyncSession,
    group_by: Sequence[str],
    filters: Mapping[str, Sequence[Any]],
    excluded: Mapping[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """People summed by `group_by` (year among them if asked), over the cells whose
    dimensions take the `filters`' values and not the `excluded` ones."""
    columns = [getattr(PopulationCell, name) for name in group_by]
    statement = select(*columns, func.sum(PopulationCell.people).label("people"))
    for name, values in filters.items():
        statement = statement.where(getattr(PopulationCell, name).in_(values))
    for name, values in (excluded or {}).items():
        column = getattr(PopulationCell, name)
        statement = statement.where(column.is_(None) | column.not_in(values))
    statement = statement.group_by(*columns).order_by(*columns)
    return [dict(row._mapping) for row in await session.execute(statement)]


async def broken_down_by(session: AsyncSession, year: int) -> set[str] | None:
    """The dimensions the year's figures are broken down by (None: no figures that year)."""
    statement = select(PopulationUpload.dimensions).where(
        PopulationUpload.id.in_(select(PopulationCell.upload_id).where(PopulationCell.year == year))
    )
    found = (await session.scalars(statement)).first()
    return None if found is None else set(found)


async def poverty_line_holder(session: AsyncSession, year: int, area: str, kind: str) -> bool:
    statement = select(PovertyLine.id).where(
        PovertyLine.year == year, PovertyLine.area == area, PovertyLine.kind == kind
    )
    return await session.scalar(statement) is not None


async def list_poverty_lines(session: AsyncSession, year: int | None) -> Sequence[PovertyLine]:
    statement = select(PovertyLine).order_by(PovertyLine.year, PovertyLine.kind, PovertyLine.area)
    if year is not None:
        statement = statement.where(PovertyLine.year == year)
    return (await session.scalars(statement)).all()


def add(session: AsyncSession, row: object) -> None:
    session.add(row)
