"""Plans and their actions in the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.models import Axis, Objective, Plan, PlanAction


async def plan_by_code(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> Plan | None:
    statement = select(Plan).where(Plan.code == code)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def list_plans(session: AsyncSession, strategy_id: uuid.UUID | None) -> Sequence[Plan]:
    statement = select(Plan).order_by(Plan.code)
    if strategy_id is not None:
        statement = statement.where(Plan.strategy_id == strategy_id)
    return (await session.scalars(statement)).all()


async def actions_of(session: AsyncSession, plan_id: uuid.UUID) -> Sequence[PlanAction]:
    statement = select(PlanAction).where(PlanAction.plan_id == plan_id).order_by(PlanAction.code)
    return (await session.scalars(statement)).all()


async def action_by_code(
    session: AsyncSession, plan_id: uuid.UUID, code: str, *, for_update: bool = False
) -> PlanAction | None:
    statement = select(PlanAction).where(PlanAction.plan_id == plan_id, PlanAction.code == code)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def objective_in_strategy(
    session: AsyncSession, objective_id: uuid.UUID, strategy_id: uuid.UUID
) -> bool:
    statement = (
        select(Objective.id)
        .join(Axis, Axis.id == Objective.axis_id)
        .where(Objective.id == objective_id, Axis.strategy_id == strategy_id)
    )
    return await session.scalar(statement) is not None


async def financing_elsewhere(
    session: AsyncSession, plan_id: uuid.UUID, projects: Sequence[str], action_id: uuid.UUID
) -> dict[str, str]:
    """Of `projects`, those financing another action of the plan -> that action's code."""
    if not projects:
        return {}
    project = func.unnest(PlanAction.projects).label("project")
    inner = (
        select(PlanAction.code, project)
        .where(PlanAction.plan_id == plan_id, PlanAction.id != action_id)
        .subquery()
    )
    statement = select(inner.c.project, inner.c.code).where(inner.c.project.in_(projects))
    return {row.project: row.code for row in await session.execute(statement)}


async def actions_period(
    session: AsyncSession, plan_id: uuid.UUID
) -> tuple[int | None, int | None]:
    """The first and last year of the plan's actions (None: no action)."""
    statement = select(func.min(PlanAction.start_year), func.max(PlanAction.end_year)).where(
        PlanAction.plan_id == plan_id
    )
    first, last = (await session.execute(statement)).one()
    return first, last


async def objectives_and_axes(
    session: AsyncSession, objective_ids: Sequence[uuid.UUID]
) -> tuple[Sequence[Objective], Sequence[Axis]]:
    if not objective_ids:
        return [], []
    objectives = (
        await session.scalars(select(Objective).where(Objective.id.in_(objective_ids)))
    ).all()
    axis_ids = {objective.axis_id for objective in objectives}
    axes = (await session.scalars(select(Axis).where(Axis.id.in_(axis_ids)))).all()
    return objectives, axes
