"""The standard pack (standard_pack.json): the indicators every M&E pole reports, defined
on demand. Each is checked and saved like any definition, in a savepoint of its own: one
that the services cannot support yet (a programme the registry does not have) is reported
and left out, the others saved; one already defined is left as it is. An indicator the pack
gives baselines and targets (`milestones`) gets them with its definition."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.indicators.context import Change, Sources
from services.indicators.definitions import repository, service
from services.indicators.definitions.schemas import IndicatorCreate
from services.indicators.targets import service as targets
from services.indicators.targets.schemas import MilestonesPut
from shared.errors import ProblemError

PACK_FILE = Path(__file__).with_name("standard_pack.json")


@dataclass
class PackOutcome:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def _content() -> dict[str, Any]:
    return json.loads(PACK_FILE.read_text(encoding="utf-8"))


def standard_pack() -> tuple[IndicatorCreate, ...]:
    return tuple(IndicatorCreate.model_validate(entry) for entry in _content()["definitions"])


def pack_milestones() -> dict[str, MilestonesPut]:
    """The baselines and targets the pack sets with some of its indicators (the refugee
    households' 1,500), by indicator code."""
    return {
        code: MilestonesPut.model_validate(entry)
        for code, entry in _content().get("milestones", {}).items()
    }


async def load(change: Change, sources: Sources) -> PackOutcome:
    outcome = PackOutcome()
    # Every definition is checked against the same catalogues: asked once for the pack.
    sources = sources.remembering_catalogues()
    milestones = pack_milestones()
    for data in standard_pack():
        if await repository.by_code(change.session, data.code) is not None:
            outcome.existing.append(data.code)
            continue
        try:
            async with change.session.begin_nested():
                await service.create(change, sources, data)
                if data.code in milestones:
                    await targets.replace(change, sources, data.code, milestones[data.code])
        except ProblemError as problem:
            if problem.status >= 500:
                raise  # a service down: nothing of the pack is saved
            outcome.refused.append(
                {
                    "code": data.code,
                    "detail": problem.detail,
                    "errors": problem.extensions.get("errors", []),
                }
            )
            continue
        outcome.created.append(data.code)
    return outcome
