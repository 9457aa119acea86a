"""Priority action plans and their actions, kept by M&E officers; every change is audited
with the change. An action is checked before anything is written: its objective is one of
the plan's strategy, its period within the plan's, its projects finance no other action of
the plan (the plan row is locked meanwhile), and the funding service knows its responsible
body and projects and has the rates its planned cost is converted with."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators import records
from services.indicators.clients.references import Named, check_named
from services.indicators.context import Change, Sources
from services.indicators.frameworks.service import get_strategy
from services.indicators.models import Plan, PlanAction
from services.indicators.plans import repository
from services.indicators.plans.costs import Converted, in_djf_and_usd
from services.indicators.plans.schemas import (
    Action,
    ActionCreate,
    ActionUpdate,
    Amounts,
    PlanCreate,
    PlanUpdate,
    PlanWithActions,
)
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.money import Money
from shared.versioning import require_version


async def get_plan(session: AsyncSession, code: str, *, for_update: bool = False) -> Plan:
    found = await repository.plan_by_code(session, code, for_update=for_update)
    if found is None:
        raise NotFound("No such plan.")
    return found


async def get_action(
    session: AsyncSession, plan: Plan, code: str, *, for_update: bool = False
) -> PlanAction:
    found = await repository.action_by_code(session, plan.id, code, for_update=for_update)
    if found is None:
        raise NotFound("No such action in this plan.")
    return found


async def create_plan(change: Change, data: PlanCreate) -> Plan:
    strategy = await get_strategy(change.session, data.strategy)
    values = data.model_dump(exclude={"strategy"})
    row = Plan(
        id=uuid.uuid4(), strategy_id=strategy.id, **values, created_by=change.principal.subject
    )
    await records.insert_coded(change, row, "plan", data, "another plan has this code")
    return row


async def update_plan(
    change: Change, code: str, data: PlanUpdate, expected_version: int | None
) -> Plan:
    row = await get_plan(change.session, code, for_update=True)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set)
    start, end = sent.get("start_year", row.start_year), sent.get("end_year", row.end_year)
    if end < start:
        raise _invalid("end_year is before start_year.", "body.end_year", "before start_year")
    first, last = await repository.actions_period(change.session, row.id)
    if first is not None and last is not None and not (start <= first and last <= end):
        raise _invalid(
            "The plan's period must hold every action's.",
            "body",
            f"its actions run from {first} to {last}",
        )
    await records.apply_changes(change, row, "plan", sent)
    return row


async def plan_with_actions(session: AsyncSession, code: str) -> PlanWithActions:
    plan = await get_plan(session, code)
    actions = await repository.actions_of(session, plan.id)
    return PlanWithActions.model_validate(
        {**records.fields(plan), "actions": [action_view(plan, action) for action in actions]}
    )


async def create_action(
    change: Change, plan_code: str, data: ActionCreate, sources: Sources
) -> tuple[Plan, PlanAction]:
    plan = await get_plan(change.session, plan_code, for_update=True)
    values = data.model_dump(exclude={"planned_cost"})
    values["projects"] = list(dict.fromkeys(values["projects"]))
    row_id = uuid.uuid4()
    await _checked(change.session, plan, row_id, values, values, sources)
    converted = await in_djf_and_usd(sources.funding, data.planned_cost, data.start_year)
    row = PlanAction(
        id=row_id,
        plan_id=plan.id,
        **values,
        **_cost_columns(data.planned_cost, converted),
        created_by=change.principal.subject,
    )
    await records.insert_coded(
        change, row, "plan_action", data, "the plan has an action with this code"
    )
    return plan, row


async def update_action(
    change: Change,
    plan_code: str,
    action_code: str,
    data: ActionUpdate,
    expected_version: int | None,
    sources: Sources,
) -> tuple[Plan, PlanAction]:
    plan = await get_plan(change.session, plan_code, for_update=True)
    row = await get_action(change.session, plan, action_code, for_update=True)
    require_version(expected_version, row.version)
    sent = data.model_dump(include=data.model_fields_set, exclude={"planned_cost"})
    if "projects" in sent:
        sent["projects"] = list(dict.fromkeys(sent["projects"]))
    changed = {name: value for name, value in sent.items() if getattr(row, name) != value}
    after = {
        name: changed.get(name, getattr(row, name))
        for name in ("objective_id", "start_year", "end_year")
    }
    if after["end_year"] < after["start_year"]:
        raise _invalid("end_year is before start_year.", "body.end_year", "before start_year")
    current = Money(row.planned_minor, row.planned_currency)
    cost = data.planned_cost or current
    # Only what changes is checked again: an unchanged name needs no service.
    await _checked(change.session, plan, row.id, after, changed, sources)
    columns: dict[str, Any] = dict(changed)
    if cost != current or "start_year" in changed:
        converted = await in_djf_and_usd(sources.funding, cost, after["start_year"])
        columns |= _cost_columns(cost, converted)
    await records.apply_changes(change, row, "plan_action", columns)
    return plan, row


def action_view(plan: Plan, row: PlanAction) -> Action:
    return Action.model_validate(
        {
            **records.fields(row),
            "plan": plan.code,
            "planned_cost": Money(row.planned_minor, row.planned_currency),
            "planned": Amounts(
                djf=Money(row.planned_djf_minor, "DJF"), usd=Money(row.planned_usd_minor, "USD")
            ),
        }
    )


def _cost_columns(cost: Money, converted: Converted) -> dict[str, Any]:
    return {
        "planned_minor": cost.amount_minor,
        "planned_currency": cost.currency,
        "planned_djf_minor": converted.djf.amount_minor,
        "planned_usd_minor": converted.usd.amount_minor,
    }


async def _checked(
    session: AsyncSession,
    plan: Plan,
    action_id: uuid.UUID,
    period: dict[str, Any],
    fresh: dict[str, Any],
    sources: Sources,
) -> None:
    """The checks of an action whose objective and period will be `period`'s, `fresh`
    holding what is new (everything, for a new action)."""
    if "objective_id" in fresh and not await repository.objective_in_strategy(
        session, period["objective_id"], plan.strategy_id
    ):
        raise _invalid(
            "The objective is not one of the plan's strategy.",
            "body.objective_id",
            "no such objective in the plan's strategy",
        )
    if not (plan.start_year <= period["start_year"] and period["end_year"] <= plan.end_year):
        raise _invalid(
            "The action's period must be within the plan's.",
            "body",
            f"the plan runs from {plan.start_year} to {plan.end_year}",
        )
    projects = fresh.get("projects") or []
    elsewhere = await repository.financing_elsewhere(session, plan.id, projects, action_id)
    if elsewhere:
        raise Conflict(
            "A project finances one action of a plan at most: its commitments and "
            "disbursements cannot be split between actions.",
            errors=[
                {"path": f"body.projects.{index}", "message": f"finances {elsewhere[project]}"}
                for index, project in enumerate(projects)
                if project in elsewhere
            ],
        )
    responsible = [fresh["responsible"]] if "responsible" in fresh else []
    await check_named(
        Named(
            sources.funding,
            "partner",
            responsible,
            "body.responsible",
            "funding organisation",
            listed=False,
        ),
        Named(sources.funding, "project", projects, "body.projects", "funding project"),
    )


def _invalid(detail: str, path: str, message: str) -> UnprocessableEntity:
    return UnprocessableEntity(detail, errors=[{"path": path, "message": message}])
