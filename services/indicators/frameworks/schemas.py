from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.indicators.fields import Code, Name, ProgrammeCode, ProjectIdentifier, Year
from shared.schemas import InputModel, not_emptied


class StrategyCreate(InputModel):
    code: Code
    name_fr: Name
    name_en: Name
    start_year: Year | None = None
    end_year: Year | None = None

    @model_validator(mode="after")
    def _years_in_order(self) -> StrategyCreate:
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValueError("end_year is before start_year")
        return self


class StrategyUpdate(InputModel):
    """Only the fields sent change; the code does not (indicators and reports name it)."""

    name_fr: Name | None = None
    name_en: Name | None = None
    start_year: Year | None = None
    end_year: Year | None = None

    _not_emptied = not_emptied("name_fr", "name_en")


class PartCreate(InputModel):
    """An axis of a strategy, or an objective of an axis."""

    code: Code
    name_fr: Name
    name_en: Name


class PartUpdate(InputModel):
    name_fr: Name | None = None
    name_en: Name | None = None

    _not_emptied = not_emptied("name_fr", "name_en")


MAX_LINKS = 50
_PROGRAMMES = "Registry programme codes serving the objective; each must exist there."
_PROJECTS = "Funding projects (IATI activity identifiers) serving it; each must exist there."


class ObjectiveCreate(PartCreate):
    programmes: list[ProgrammeCode] = Field(
        default_factory=list, max_length=MAX_LINKS, description=_PROGRAMMES
    )
    projects: list[ProjectIdentifier] = Field(
        default_factory=list, max_length=MAX_LINKS, description=_PROJECTS
    )


class ObjectiveUpdate(PartUpdate):
    """`programmes` and `projects`, when sent, replace the whole list (`[]` empties it)."""

    programmes: list[ProgrammeCode] | None = Field(
        default=None, max_length=MAX_LINKS, description=_PROGRAMMES
    )
    projects: list[ProjectIdentifier] | None = Field(
        default=None, max_length=MAX_LINKS, description=_PROJECTS
    )

    _not_emptied = not_emptied("name_fr", "name_en", "programmes", "projects")


class Strategy(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    start_year: int | None
    end_year: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class Axis(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    strategy_id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    version: int


class Objective(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    axis_id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    programmes: list[str] = Field(description="Registry programme codes serving it.")
    projects: list[str] = Field(description="Funding projects (IATI identifiers) serving it.")
    version: int


class LatestValue(BaseModel):
    """An indicator's overall value in the latest snapshot holding it, and its status
    against the target (both null when there is no value, or when it comes from fewer
    people than the small-cell threshold and the reader may not see it)."""

    period: str
    value: Decimal | None
    status: str | None
    snapshot_id: uuid.UUID | None = None


class TreeIndicator(BaseModel):
    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    unit: str
    version: int = Field(description="The current definition's version.")
    latest: LatestValue | None = Field(
        default=None, description="The latest value and its status; null when none yet."
    )


class TreeAction(BaseModel):
    """An action of a priority action plan serving the objective."""

    id: uuid.UUID
    plan: str = Field(description="The plan's code.")
    code: str
    name_fr: str
    name_en: str
    responsible: str = Field(description="The funding organisation carrying it out (IATI).")
    start_year: int
    end_year: int


class TreeObjective(Objective):
    indicators: list[TreeIndicator]
    actions: list[TreeAction]


class TreeAxis(Axis):
    objectives: list[TreeObjective]


class Framework(Strategy):
    """A strategy with its whole tree: axes, objectives, indicators, ordered by code."""

    axes: list[TreeAxis]
