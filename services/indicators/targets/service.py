"""Baselines and targets, replaced as a whole set: every entry is checked (the indicator's
disaggregations, the values the services publish for them, the strategy's years) before
anything is written, so a bad entry saves nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.catalog import service as catalog
from services.indicators.context import Change, Sources
from services.indicators.definitions import service as definitions
from services.indicators.expressions.names import Names
from services.indicators.models import IndicatorVersion, Milestone
from services.indicators.status import STATUS_RULE
from services.indicators.targets import repository
from services.indicators.targets.schemas import (
    MilestoneIn,
    MilestoneOut,
    Milestones,
    MilestonesPut,
)
from shared.errors import UnprocessableEntity


async def get(session: AsyncSession, code: str) -> Milestones:
    indicator, definition = await definitions.get(session, code)
    return view(code, definition, await repository.of(session, [indicator.id]))


async def replace(change: Change, sources: Sources, code: str, data: MilestonesPut) -> Milestones:
    session = change.session
    indicator, definition = await definitions.get(session, code)
    years = await repository.strategy_years(session, indicator.objective_id)
    names = await catalog.names(session, sources) if _any_cell(data) else None
    errors: list[dict[str, Any]] = []
    seen: set[tuple[str, int, tuple[tuple[str, str], ...]]] = set()
    rows = []
    for kind, entries in (("baseline", data.baselines), ("target", data.targets)):
        for index, entry in enumerate(entries):
            path = f"body.{kind}s.{index}"
            errors += _problems(entry, kind, path, definition, names, years)
            key = (kind, entry.year, tuple(sorted(entry.cell.items())))
            if key in seen:
                errors.append({"path": path, "message": f"a second {kind} of this year and cell"})
            seen.add(key)
            rows.append(
                Milestone(
                    indicator_id=indicator.id,
                    kind=kind,
                    year=entry.year,
                    cell=entry.cell,
                    value=entry.value,
                    note=entry.note,
                    created_by=change.principal.subject,
                )
            )
    if errors:
        raise UnprocessableEntity(
            "Some baselines or targets are not valid; nothing was saved.", errors=errors
        )
    await repository.replace(session, indicator.id, rows)
    await change.audit.record_write(
        session,
        change.principal,
        "update",
        "indicator_targets",
        indicator.id,
        detail={"baselines": len(data.baselines), "targets": len(data.targets)},
    )
    return view(code, definition, rows)


def view(code: str, definition: IndicatorVersion, rows: Sequence[Milestone]) -> Milestones:
    def shown(kind: str) -> list[MilestoneOut]:
        return [
            MilestoneOut(year=row.year, value=row.value, cell=row.cell, note=row.note)
            for row in rows
            if row.kind == kind
        ]

    return Milestones(
        indicator=code,
        direction=definition.direction,  # type: ignore[arg-type]
        baselines=shown("baseline"),
        targets=shown("target"),
        status_rule=STATUS_RULE,
    )


def _any_cell(data: MilestonesPut) -> bool:
    return any(entry.cell for entry in (*data.baselines, *data.targets))


def _problems(
    entry: MilestoneIn,
    kind: str,
    path: str,
    definition: IndicatorVersion,
    names: Names | None,
    years: tuple[str, int | None, int | None] | None,
) -> list[dict[str, Any]]:
    problems = []
    for dimension, value in entry.cell.items():
        if dimension not in definition.disaggregations:
            allowed = ", ".join(definition.disaggregations) or "none"
            problems.append(
                {
                    "path": f"{path}.cell.{dimension}",
                    "message": f"not a disaggregation of the indicator (it has: {allowed})",
                }
            )
        elif names is not None and not _known_value(names, definition, dimension, value):
            problems.append(
                {"path": f"{path}.cell.{dimension}", "message": f"unknown value of {dimension}"}
            )
    if years is not None:
        strategy, first, last = years
        # A baseline may predate the strategy (its situation when it started); a target
        # falls within it.
        if last is not None and entry.year > last:
            problems.append(
                {"path": f"{path}.year", "message": f"after {strategy}, which ends in {last}"}
            )
        elif kind == "target" and first is not None and entry.year < first:
            problems.append(
                {"path": f"{path}.year", "message": f"before {strategy}, which starts in {first}"}
            )
    return problems


def _known_value(names: Names, definition: IndicatorVersion, dimension: str, value: str) -> bool:
    """Whether every measure the indicator uses that knows the dimension's values has it."""
    for measure in definition.measures:
        info = names.measures.get(measure)
        known = None if info is None else info.dimensions.get(dimension)
        if known is not None and known.values is not None and value not in known.values:
            return False
    return True
