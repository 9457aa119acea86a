"""Strategies, axes and objectives in the database, and the tree under a strategy."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import (
    Axis,
    Indicator,
    IndicatorVersion,
    Objective,
    Plan,
    PlanAction,
    Snapshot,
    SnapshotValue,
    Strategy,
)
from shared.repository import Table

strategies = Table(Strategy, "No such strategy.")
axes = Table(Axis, "No such axis.")
objectives = Table(Objective, "No such objective.")


async def strategy_by_code(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Strategy | None:
    statement = select(Strategy).where(Strategy.code == code)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def list_strategies(session: AsyncSession) -> Sequence[Strategy]:
    return (await session.scalars(select(Strategy).order_by(Strategy.code))).all()


async def axes_of(session: AsyncSession, strategy_id: uuid.UUID) -> Sequence[Axis]:
    statement = select(Axis).where(Axis.strategy_id == strategy_id).order_by(Axis.code)
    return (await session.scalars(statement)).all()


async def objectives_of(
    session: AsyncSession, axis_ids: Sequence[uuid.UUID]
) -> Sequence[Objective]:
    if not axis_ids:
        return []
    statement = select(Objective).where(Objective.axis_id.in_(axis_ids)).order_by(Objective.code)
    return (await session.scalars(statement)).all()


async def indicators_of(session: AsyncSession, objective_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    """The indicators serving the objectives, with their current definition's names."""
    if not objective_ids:
        return []
    statement = (
        select(
            Indicator.id,
            Indicator.code,
            Indicator.objective_id,
            Indicator.version,
            IndicatorVersion.name_fr,
            IndicatorVersion.name_en,
            IndicatorVersion.unit,
        )
        .join(
            IndicatorVersion,
            (IndicatorVersion.indicator_id == Indicator.id)
            & (IndicatorVersion.version == Indicator.version),
        )
        .where(Indicator.objective_id.in_(objective_ids))
        .order_by(Indicator.code)
    )
    return (await session.execute(statement)).all()


async def latest_values(session: AsyncSession, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each indicator's overall value (cell {}) in the latest finished snapshot holding it."""
    if not codes:
        return {}
    ranked = (
        select(
            SnapshotValue.indicator,
            SnapshotValue.body,
            Snapshot.id.label("snapshot_id"),
            func.row_number()
            .over(partition_by=SnapshotValue.indicator, order_by=Snapshot.finished_at.desc())
            .label("rank"),
        )
        .join(Snapshot, Snapshot.id == SnapshotValue.snapshot_id)
        .where(
            Snapshot.status == "done",
            SnapshotValue.indicator.in_(codes),
            SnapshotValue.overall,
        )
        .subquery()
    )
    statement = select(ranked.c.indicator, ranked.c.body, ranked.c.snapshot_id).where(
        ranked.c.rank == 1
    )
    rows = (await session.execute(statement)).all()
    return {code: {**body, "snapshot_id": snapshot_id} for code, body, snapshot_id in rows}


async def actions_of(session: AsyncSession, objective_ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    """The actions of every plan serving the objectives, by plan then action code."""
    if not objective_ids:
        return []
    statement = (
        select(
            PlanAction.id,
            PlanAction.objective_id,
            Plan.code.label("plan"),
            PlanAction.code,
            PlanAction.name_fr,
            PlanAction.name_en,
            PlanAction.responsible,
            PlanAction.start_year,
            PlanAction.end_year,
        )
        .join(Plan, Plan.id == PlanAction.plan_id)
        .where(PlanAction.objective_id.in_(objective_ids))
        .order_by(Plan.code, PlanAction.code)
    )
    return (await session.execute(statement)).all()
