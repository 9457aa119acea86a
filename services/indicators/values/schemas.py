from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, field_serializer

from services.indicators.status import Status


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class IndicatorValue(BaseModel):
    """An indicator's value in one cell, with what it was computed from."""

    indicator: str
    version: int = Field(description="The definition version it was computed with.")
    period: str
    cell: dict[str, str | None] = Field(
        description="The disaggregation values of the cell; {} for the indicator overall."
    )
    value: Decimal | None = Field(description="numerator / denominator * factor, to 6 places.")
    numerator: Decimal | None
    denominator: Decimal | None
    reason: str | None = Field(description="Why there is no value (a zero denominator...).")
    unit: str
    status: Status | None = Field(description="Against the targets (see GET /catalog).")
    target: Decimal | None = None
    target_year: int | None = None
    expected: Decimal | None = Field(
        default=None, description="The value expected this year on the path to the target."
    )
    flagged: bool = Field(
        description="Computed from a count of fewer people than the small-cell threshold."
    )
    suppressed: bool = Field(
        default=False, description="Flagged, and its figures withheld from this reader."
    )
    inputs_as_of: dict[str, date] = Field(
        description="Per service asked, the day its figures were computed as of."
    )
    computed_at: datetime

    @field_serializer("value", "numerator", "denominator", "target", "expected")
    def _exact(self, value: Decimal | None) -> str | None:
        return _plain(value)


class ResultLabels(BaseModel):
    """What the codes of the values stand for, in the language asked for."""

    lang: str
    indicators: dict[str, str]
    dimensions: dict[str, str]
    values: dict[str, dict[str, str]] = Field(description="Per dimension, per value code.")


class ValuesAnswer(BaseModel):
    period: str
    by: list[str]
    filters: dict[str, list[str]]
    small_cell_threshold: int
    values: list[IndicatorValue] = Field(
        description="Per indicator, its overall value (cell {}), then one per cell of the "
        "breakdown that has figures."
    )
    labels: ResultLabels
