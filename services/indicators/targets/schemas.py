from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_serializer

from services.indicators.fields import Figure, Year
from services.indicators.vocabulary import Direction
from shared.schemas import InputModel

MAX_MILESTONES = 1000
CellValue = Annotated[str, StringConstraints(min_length=1, max_length=80)]
CellDimension = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class MilestoneIn(InputModel):
    year: Year
    value: Figure
    cell: dict[CellDimension, CellValue] = Field(
        default_factory=dict,
        description='The disaggregation cell it is set for, e.g. {"region": "DJ-OB"}; '
        "{} (the default) for the indicator overall. Dimensions must be among the "
        "indicator's disaggregations.",
    )
    note: Annotated[str, StringConstraints(max_length=300)] | None = None


class MilestonesPut(InputModel):
    baselines: list[MilestoneIn] = Field(default_factory=list, max_length=MAX_MILESTONES)
    targets: list[MilestoneIn] = Field(default_factory=list, max_length=MAX_MILESTONES)


class MilestoneOut(BaseModel):
    year: int
    value: Decimal
    cell: dict[str, str]
    note: str | None = None

    @field_serializer("value")
    def _plain(self, value: Decimal) -> str:
        return format(value.normalize(), "f")


class Milestones(BaseModel):
    indicator: str
    direction: Direction
    baselines: list[MilestoneOut]
    targets: list[MilestoneOut]
    status_rule: str = Field(description="How a value's status is worked out.")
