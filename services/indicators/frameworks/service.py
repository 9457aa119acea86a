"""The results framework: strategies, their axes, the objectives of each axis. Kept by M&E
officers; every change is audited with the change."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators import records
from services.indicators.clients.references import Named, check_named
from services.indicators.context import Change, Sources
from services.indicators.frameworks import repository
from services.indicators.frameworks.schemas import (
    Framework,
    LatestValue,
    ObjectiveCreate,
    ObjectiveUpdate,
    PartCreate,
    PartUpdate,
    StrategyCreate,
    StrategyUpdate,
    TreeAction,
    TreeAxis,
    TreeIndicator,
    TreeObjective,
)
from services.indicators.models import Axis, Objective, Strategy
from shared.errors import NotFound, UnprocessableEntity
from shared.versioning import require_version


async def get_strategy(session: AsyncSession, code: str, *, for_update: bool = False) -> Strategy:
    found = await repository.strategy_by_code(session, code, for_update=for_update)
    if found is None:
        raise NotFound("No such strategy.")
    return found


async def create_strategy(change: Change, data: StrategyCreate) -> Strategy:
    row = Strategy(id=uuid.uuid4(), **data.model_dump(), created_by=change.principal.subject)
    await records.insert_coded(change, row, "strategy", data, "another strategy has this code")
    return row


async def update_strategy(
    change: Change, code: str, data: StrategyUpdate, expected_version: int | None
) -> Strategy:
    row = await get_strategy(change.session, code, for_update=True)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set)
    start, end = sent.get("start_year", row.start_year), sent.get("end_year", row.end_year)
    if start is not None and end is not None and end < start:
        raise UnprocessableEntity(
            "end_year is before start_year.",
            errors=[{"path": "body.end_year", "message": "before start_year"}],
        )
    await records.apply_changes(change, row, "strategy", sent)
    return row


async def create_axis(change: Change, strategy_code: str, data: PartCreate) -> Axis:
    strategy = await get_strategy(change.session, strategy_code)
    row = Axis(
        id=uuid.uuid4(),
        strategy_id=strategy.id,
        **data.model_dump(),
        created_by=change.principal.subject,
    )
    await records.insert_coded(change, row, "axis", data, "the strategy has an axis with this code")
    return row


async def update_axis(
    change: Change, axis_id: uuid.UUID, data: PartUpdate, expected_version: int | None
) -> Axis:
    row = await repository.axes.get_for_update(change.session, axis_id)
    require_version(expected_version, row.version)
    await records.apply_changes(change, row, "axis", data.model_dump(include=data.model_fields_set))
    return row


async def create_objective(
    change: Change, axis_id: uuid.UUID, data: ObjectiveCreate, sources: Sources
) -> Objective:
    axis = await repository.axes.get(change.session, axis_id)
    values = _links_once(data.model_dump())
    await _check_links(sources, values)
    row = Objective(id=uuid.uuid4(), axis_id=axis.id, **values, created_by=change.principal.subject)
    await records.insert_coded(
        change, row, "objective", data, "the axis has an objective with this code"
    )
    return row


async def update_objective(
    change: Change,
    objective_id: uuid.UUID,
    data: ObjectiveUpdate,
    expected_version: int | None,
    sources: Sources,
) -> Objective:
    row = await repository.objectives.get_for_update(change.session, objective_id)
    require_version(expected_version, row.version)
    sent = _links_once(data.model_dump(include=data.model_fields_set))
    # Only lists that change are checked: an unchanged one needs no service.
    await _check_links(
        sources, {name: value for name, value in sent.items() if getattr(row, name) != value}
    )
    await records.apply_changes(change, row, "objective", sent)
    return row


def _links_once(values: dict[str, Any]) -> dict[str, Any]:
    """Each programme and project once, in the order sent."""
    for name in ("programmes", "projects"):
        if values.get(name) is not None:
            values[name] = list(dict.fromkeys(values[name]))
    return values


async def _check_links(sources: Sources, values: dict[str, Any]) -> None:
    await check_named(
        Named(
            sources.registry,
            "programme",
            values.get("programmes") or [],
            "body.programmes",
            "registry programme",
        ),
        Named(
            sources.funding,
            "project",
            values.get("projects") or [],
            "body.projects",
            "funding project",
        ),
    )


def _latest(body: dict[str, Any] | None, exact: bool) -> LatestValue | None:
    """A snapshot's overall value as the tree shows it: without figures or status when it
    comes from small cells and the reader may not see them."""
    if body is None:
        return None
    hidden = body.get("flagged", False) and not exact
    return LatestValue(
        period=body["period"],
        value=None if hidden else body.get("value"),
        status=None if hidden else body.get("status"),
        snapshot_id=body.get("snapshot_id"),
    )


async def framework(session: AsyncSession, code: str, *, exact: bool) -> Framework:
    """The strategy and everything under it, in six queries whatever its size: axes,
    objectives with the programmes and projects serving them, the indicators measuring
    them with their latest snapshot's overall value, and the actions of the plans carrying
    them out. `exact`: the reader may see values computed from small cells."""
    strategy = await get_strategy(session, code)
    axes = await repository.axes_of(session, strategy.id)
    objectives = await repository.objectives_of(session, [axis.id for axis in axes])
    objective_ids = [item.id for item in objectives]
    rows = await repository.indicators_of(session, objective_ids)
    latest = await repository.latest_values(session, [row.code for row in rows])
    indicators: dict[uuid.UUID, list[TreeIndicator]] = {}
    for indicator in rows:
        indicators.setdefault(indicator.objective_id, []).append(
            TreeIndicator.model_validate(
                {
                    **indicator._asdict(),
                    "latest": _latest(latest.get(indicator.code), exact),
                }
            )
        )
    actions: dict[uuid.UUID, list[TreeAction]] = {}
    for action in await repository.actions_of(session, objective_ids):
        actions.setdefault(action.objective_id, []).append(
            TreeAction.model_validate(action, from_attributes=True)
        )
    by_axis: dict[uuid.UUID, list[TreeObjective]] = {}
    for objective in objectives:
        by_axis.setdefault(objective.axis_id, []).append(
            TreeObjective.model_validate(
                {
                    **records.fields(objective),
                    "indicators": indicators.get(objective.id, []),
                    "actions": actions.get(objective.id, []),
                }
            )
        )
    return Framework.model_validate(
        {
            **records.fields(strategy),
            "axes": [
                TreeAxis.model_validate(
                    {**records.fields(axis), "objectives": by_axis.get(axis.id, [])}
                )
                for axis in axes
            ],
        }
    )
