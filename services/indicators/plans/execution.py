"""A plan's execution: each action's planned cost against what the funding service records
for the projects financing it within the action's period — committed (agreements, by the
year they were signed) and disbursed (disbursements, by their transaction date's year) —
in DJF and USD as funding converts them (each amount at its own date's rates), summed by
objective, axis and plan.

The figures come from funding's `/stats` only, never its tables: one request per measure
(`committed`, `committed_usd`, `disbursed`, `disbursed_usd`), each grouped by project and
year over the plan's projects, the four asked concurrently. A project finances one action
of a plan at most, so no amount counts twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.clients.stats import StatsAnswer, StatsClient
from services.indicators.context import Sources
from services.indicators.models import PlanAction
from services.indicators.plans import repository
from services.indicators.plans.schemas import (
    ActionExecution,
    Amounts,
    AxisExecution,
    Execution,
    Figures,
    ObjectiveExecution,
)
from services.indicators.plans.service import get_plan
from shared.money import Money

# (figure, currency) -> the funding measure giving it.
MEASURES: dict[tuple[str, str], str] = {
    ("committed", "DJF"): "committed",
    ("committed", "USD"): "committed_usd",
    ("disbursed", "DJF"): "disbursed",
    ("disbursed", "USD"): "disbursed_usd",
}
GROUP_BY = ("project", "year")

Ledger = dict[str, dict[tuple[str, int], int]]


async def ledger(funding: StatsClient, projects: Sequence[str]) -> tuple[Ledger, date | None]:
    """measure -> (project, year) -> minor units, and the day they are of."""
    if not projects:
        return {measure: {} for measure in MEASURES.values()}, None
    answers: list[StatsAnswer] = await asyncio.gather(
        *(funding.stats(measure, GROUP_BY, {"project": projects}) for measure in MEASURES.values())
    )
    sums: Ledger = {}
    for measure, answer in zip(MEASURES.values(), answers, strict=True):
        sums[measure] = {
            (str(row["project"]), int(str(row["year"]))): int(str(row["value"] or 0))
            for row in answer.rows
            if row.get("project") is not None and row.get("year") is not None
        }
    return sums, min(answer.as_of for answer in answers)


def _figures(action: PlanAction, sums: Ledger) -> Figures:
    years = range(action.start_year, action.end_year + 1)

    def recorded(figure: str, currency: str) -> Money:
        cells = sums[MEASURES[(figure, currency)]]
        total = sum(cells.get((project, year), 0) for project in action.projects for year in years)
        return Money(total, currency)

    return Figures(
        planned=Amounts(
            djf=Money(action.planned_djf_minor, "DJF"), usd=Money(action.planned_usd_minor, "USD")
        ),
        committed=Amounts(djf=recorded("committed", "DJF"), usd=recorded("committed", "USD")),
        disbursed=Amounts(djf=recorded("disbursed", "DJF"), usd=recorded("disbursed", "USD")),
    )


def _sum(figures: Iterable[Figures]) -> Figures:
    parts = list(figures)

    def amounts(pick: str) -> Amounts:
        chosen = [getattr(part, pick) for part in parts]
        return Amounts(
            djf=sum((item.djf for item in chosen), Money.zero("DJF")),
            usd=sum((item.usd for item in chosen), Money.zero("USD")),
        )

    return Figures(
        planned=amounts("planned"), committed=amounts("committed"), disbursed=amounts("disbursed")
    )


async def execution(session: AsyncSession, code: str, sources: Sources) -> Execution:
    plan = await get_plan(session, code)
    actions = await repository.actions_of(session, plan.id)
    projects = sorted({project for action in actions for project in action.projects})
    sums, as_of = await ledger(sources.funding, projects)
    objectives, axes = await repository.objectives_and_axes(
        session, list({action.objective_id for action in actions})
    )
    by_objective: dict[uuid.UUID, list[ActionExecution]] = {}
    for action in actions:
        by_objective.setdefault(action.objective_id, []).append(
            ActionExecution(
                id=action.id,
                code=action.code,
                name_fr=action.name_fr,
                name_en=action.name_en,
                responsible=action.responsible,
                start_year=action.start_year,
                end_year=action.end_year,
                projects=action.projects,
                figures=_figures(action, sums),
            )
        )
    by_axis: dict[uuid.UUID, list[ObjectiveExecution]] = {}
    for objective in sorted(objectives, key=lambda item: item.code):
        items = by_objective[objective.id]
        by_axis.setdefault(objective.axis_id, []).append(
            ObjectiveExecution(
                id=objective.id,
                code=objective.code,
                name_fr=objective.name_fr,
                name_en=objective.name_en,
                figures=_sum(item.figures for item in items),
                actions=items,
            )
        )
    axis_views = [
        AxisExecution(
            id=axis.id,
            code=axis.code,
            name_fr=axis.name_fr,
            name_en=axis.name_en,
            figures=_sum(item.figures for item in by_axis[axis.id]),
            objectives=by_axis[axis.id],
        )
        for axis in sorted(axes, key=lambda item: item.code)
    ]
    return Execution(
        plan=plan.code,
        name_fr=plan.name_fr,
        name_en=plan.name_en,
        start_year=plan.start_year,
        end_year=plan.end_year,
        as_of=as_of,
        figures=_sum(axis.figures for axis in axis_views),
        axes=axis_views,
    )
