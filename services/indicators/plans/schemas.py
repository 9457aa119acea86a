from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.indicators.fields import (
    Code,
    Name,
    OrganisationIdentifier,
    ProjectIdentifier,
    Year,
)
from shared.money import Money, NonNegativeMoney
from shared.schemas import InputModel, not_emptied

MAX_PROJECTS = 50
_PROJECTS = (
    "The funding projects (IATI activity identifiers) that finance the action; each must "
    "exist in the funding service, and finances at most one action of the plan."
)
_RESPONSIBLE = "The body carrying it out: a funding organisation's IATI identifier (ADDS...)."
_PLANNED = (
    "What the action is planned to cost over its period, in any currency; converted to DJF "
    "and USD at the funding service's rates in force on the first day of its period."
)


def _in_order(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("end_year is before start_year")


class PlanCreate(InputModel):
    code: Code
    strategy: Code = Field(description="The code of the strategy the plan carries out.")
    name_fr: Name
    name_en: Name
    start_year: Year
    end_year: Year

    @model_validator(mode="after")
    def _years_in_order(self) -> PlanCreate:
        _in_order(self.start_year, self.end_year)
        return self


class PlanUpdate(InputModel):
    """Only the fields sent change; the period must still hold every action's."""

    name_fr: Name | None = None
    name_en: Name | None = None
    start_year: Year | None = None
    end_year: Year | None = None

    _not_emptied = not_emptied("name_fr", "name_en", "start_year", "end_year")


class Plan(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    strategy_id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    start_year: int
    end_year: int
    version: int
    created_at: datetime
    updated_at: datetime


class ActionCreate(InputModel):
    code: Code
    objective_id: uuid.UUID = Field(description="An objective of the plan's strategy.")
    name_fr: Name
    name_en: Name
    responsible: OrganisationIdentifier = Field(description=_RESPONSIBLE)
    start_year: Year = Field(description="Within the plan's period.")
    end_year: Year
    planned_cost: NonNegativeMoney = Field(description=_PLANNED)
    projects: list[ProjectIdentifier] = Field(
        default_factory=list, max_length=MAX_PROJECTS, description=_PROJECTS
    )

    @model_validator(mode="after")
    def _years_in_order(self) -> ActionCreate:
        _in_order(self.start_year, self.end_year)
        return self


class ActionUpdate(InputModel):
    """Only the fields sent change; `projects`, when sent, replaces the whole list."""

    objective_id: uuid.UUID | None = None
    name_fr: Name | None = None
    name_en: Name | None = None
    responsible: OrganisationIdentifier | None = Field(default=None, description=_RESPONSIBLE)
    start_year: Year | None = None
    end_year: Year | None = None
    planned_cost: NonNegativeMoney | None = Field(default=None, description=_PLANNED)
    projects: list[ProjectIdentifier] | None = Field(
        default=None, max_length=MAX_PROJECTS, description=_PROJECTS
    )

    _not_emptied = not_emptied(
        "objective_id",
        "name_fr",
        "name_en",
        "responsible",
        "start_year",
        "end_year",
        "planned_cost",
        "projects",
    )


class Amounts(BaseModel):
    djf: Money
    usd: Money


class Action(BaseModel):
    id: uuid.UUID
    plan: str = Field(description="The plan's code.")
    objective_id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    responsible: str
    start_year: int
    end_year: int
    planned_cost: Money = Field(description="As sent, in its own currency.")
    planned: Amounts = Field(description="In DJF and USD at its first day's rates.")
    projects: list[str]
    version: int


class PlanWithActions(Plan):
    actions: list[Action] = Field(description="By code.")


class Figures(BaseModel):
    """Planned (the actions' costs) against what the funding service records: committed
    (agreements signed in the period) and disbursed (disbursements dated in it)."""

    planned: Amounts
    committed: Amounts
    disbursed: Amounts


class ActionExecution(BaseModel):
    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    responsible: str
    start_year: int
    end_year: int
    projects: list[str]
    figures: Figures


class ObjectiveExecution(BaseModel):
    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    figures: Figures = Field(description="Its actions' together.")
    actions: list[ActionExecution]


class AxisExecution(BaseModel):
    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    figures: Figures = Field(description="Its objectives' together.")
    objectives: list[ObjectiveExecution]


class Execution(BaseModel):
    plan: str
    name_fr: str
    name_en: str
    start_year: int
    end_year: int
    as_of: date | None = Field(
        description="The funding service's day the figures are of; null when no action "
        "names a project (nothing was asked)."
    )
    figures: Figures = Field(description="The whole plan's.")
    axes: list[AxisExecution] = Field(
        description="The axes, objectives and actions of the plan, by code; axes and "
        "objectives without an action of the plan are left out."
    )
