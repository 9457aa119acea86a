"""Baselines and targets in the database, and the years an indicator's strategy spans."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import Axis, Milestone, Objective, Strategy


async def of(session: AsyncSession, indicator_ids: Sequence[uuid.UUID]) -> Sequence[Milestone]:
    statement = (
        select(Milestone)
        .where(Milestone.indicator_id.in_(indicator_ids))
        .order_by(Milestone.kind, Milestone.year, Milestone.id)
    )
    return (await session.scalars(statement)).all()


async def replace(
    session: AsyncSession, indicator_id: uuid.UUID, rows: Sequence[Milestone]
) -> None:
    await session.execute(delete(Milestone).where(Milestone.indicator_id == indicator_id))
    session.add_all(rows)
    await session.flush()


async def strategy_years(
    session: AsyncSession, objective_id: uuid.UUID | None
) -> tuple[str, int | None, int | None] | None:
    """The code, first and last year of the strategy the objective belongs to."""
    if objective_id is None:
        return None
    statement = (
        select(Strategy.code, Strategy.start_year, Strategy.end_year)
        .join(Axis, Axis.strategy_id == Strategy.id)
        .join(Objective, Objective.axis_id == Axis.id)
        .where(Objective.id == objective_id)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1], row[2])
