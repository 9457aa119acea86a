"""The `/stats` query and answers, in the registry's shape. The query refuses unknown
parameters, dimensions and values, and dimensions that do not apply to the measure: a
misspelt filter silently ignored would give the indicators service wrong numbers that look
right."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from services.funding.stats.catalog import (
    DIMENSIONS,
    FIXED_VALUES,
    MAX_DIMENSIONS,
    MEASURES,
    FilterType,
    Kind,
    Level,
    Measure,
)
from shared.disclosure import DisclosureControl, DisclosureRule
from shared.schemas import InputModel
from shared.stats import (
    LIST_HELP,
    QueryValues,
    check_dimensions,
    currency_codes,
    distinct,
    parse_items,
    plausible_years,
    split_values,
)

FilterValue = list[str] | list[int]
# A dimension's value, a figure, or the `suppressed` flag of a withheld row.
DimensionValue = str | int | bool | None

_STRING_FILTERS = ("programme", "region", "period", "line_status", "partner", "project", "currency")


def _not_applying(name: str, info: ValidationInfo) -> str | None:
    """Why dimension `name` cannot be used with the measure asked for, if it cannot."""
    measure = info.data.get("measure")
    if measure is None or DIMENSIONS[name].applies_to(measure):
        return None
    family = MEASURES[measure].family
    return f"{name} does not apply to {measure} (a {family} measure); see /stats/catalog"


class StatsQuery(InputModel):
    measure: Measure = Field(description="What is counted or summed (see /stats/catalog).")
    group_by: QueryValues = Field(
        default_factory=list,
        description=f"Up to {MAX_DIMENSIONS} dimensions of the measure, comma-separated.",
    )
    as_of: date | None = Field(
        default=None,
        description="Ledger measures count agreements signed and transactions dated on or "
        "before this day (default: today in Djibouti); payment measures are today's lines.",
    )

    programme: QueryValues = Field(default_factory=list, description=LIST_HELP)
    region: QueryValues = Field(default_factory=list, description=LIST_HELP)
    period: QueryValues = Field(default_factory=list, description=LIST_HELP)
    line_status: QueryValues = Field(default_factory=list, description=LIST_HELP)
    partner: QueryValues = Field(
        default_factory=list, description="IATI organisation identifiers. " + LIST_HELP
    )
    project: QueryValues = Field(
        default_factory=list, description="IATI activity identifiers. " + LIST_HELP
    )
    year: list[int] = Field(default_factory=list, description=LIST_HELP)
    currency: QueryValues = Field(default_factory=list, description=LIST_HELP)

    @field_validator("group_by", *_STRING_FILTERS, mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_values(value)

    @field_validator("year", mode="before")
    @classmethod
    def _years(cls, value: Any) -> Any:
        return parse_items(value, int, "a whole number")

    @field_validator("group_by")
    @classmethod
    def _known_dimensions(cls, value: list[str], info: ValidationInfo) -> list[str]:
        check_dimensions(value, DIMENSIONS, MAX_DIMENSIONS)
        for name in value:
            reason = _not_applying(name, info)
            if reason:
                raise ValueError(reason)
        return value

    @field_validator(*_STRING_FILTERS)
    @classmethod
    def _known_values(cls, value: list[str], info: ValidationInfo) -> list[str]:
        name = str(info.field_name)
        value = distinct(value)
        if value:
            reason = _not_applying(name, info)
            if reason:
                raise ValueError(reason)
        # The bad value is not echoed: the shared rule for validation messages.
        allowed = FIXED_VALUES.get(name)
        if allowed is not None and not set(value) <= set(allowed):
            raise ValueError("unknown value; expected one of: " + ", ".join(allowed))
        if name == "currency":
            value = currency_codes(value)
        if any(len(item) > 150 for item in value):
            raise ValueError("value too long")
        return value

    @field_validator("year")
    @classmethod
    def _plausible_years(cls, value: list[int]) -> list[int]:
        return plausible_years(value)

    def dimension_filters(self) -> dict[str, tuple[Any, ...]]:
        """Each dimension filtered on -> the values it may take."""
        return {name: tuple(getattr(self, name)) for name in DIMENSIONS if getattr(self, name)}


class StatsAnswer(BaseModel):
    measure: Measure
    group_by: list[str]
    filters: dict[str, FilterValue] = Field(description="The filters applied.")
    as_of: date
    rows: list[dict[str, DimensionValue]] = Field(
        description="One row per combination of dimension values that has units, ordered by "
        "the dimensions; `value` is the measure in it (a count, or a sum in the measure's "
        "minor units). A withheld row (payment measures, small cells) has `value: null` and "
        "`suppressed: true`; other rows carry no `suppressed` member.",
        examples=[
            [
                {"region": "DJ-DJ", "value": 2140},
                {"region": "DJ-OB", "value": None, "suppressed": True},
            ]
        ],
    )
    total: int | None = Field(
        description="The measure over everything matching the filters; null when withheld "
        "(a small total, for a caller whose answers are protected)."
    )
    disclosure_control: DisclosureControl | None = Field(
        default=None,
        description="How small cells were withheld (see `/stats/catalog`); null: exact figures.",
    )


class CatalogValue(BaseModel):
    value: str | int
    label: str
    id: str | None = Field(
        default=None,
        description="The funding service's id of the organisation or project the value names.",
    )


class CatalogMeasure(BaseModel):
    name: Measure
    kind: Kind
    unit: str
    description: str
    dimensions: list[str] = Field(description="The dimensions (and filters) that apply.")


class CatalogDimension(BaseModel):
    name: str
    level: Level
    description: str
    measures: list[str] = Field(description="The measures this dimension applies to.")
    values: list[CatalogValue] | None = Field(
        description="The possible values, or null when the set is open."
    )


class CatalogFilter(BaseModel):
    name: str
    type: FilterType
    description: str


class StatsCatalog(BaseModel):
    measures: list[CatalogMeasure]
    dimensions: list[CatalogDimension]
    filters: list[CatalogFilter]
    max_dimensions: int
    disclosure_control: DisclosureRule = Field(
        description="Small-cell protection: the threshold, whom it applies to, the rule."
    )
