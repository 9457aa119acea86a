"""The `/stats` query and answers. The query refuses unknown parameters: a misspelt filter
silently ignored would give the indicators service wrong numbers that look right."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from services.beneficiaries.stats.catalog import (
    DIMENSIONS,
    FIXED_VALUES,
    MAX_DIMENSIONS,
    MAX_MEASURES,
    MAX_POVERTY_LINE,
    FilterType,
    Level,
    Measure,
)
from services.beneficiaries.vocabulary import AREAS
from shared.disclosure import DisclosureControl, DisclosureRule
from shared.schemas import InputModel
from shared.stats import LIST_HELP, QueryValues, check_dimensions, distinct, split_values

FilterValue = list[str] | bool | int | date
DimensionValue = str | bool | None


class StatsQuery(InputModel):
    measure: Measure | None = Field(default=None, description="What is counted.")
    measures: list[Measure] = Field(
        default_factory=list,
        max_length=MAX_MEASURES,
        description="Instead of `measure`: several measures of the same units "
        "(individuals and the consumption and poverty measures), comma-separated, counted "
        "in one pass; each row then holds one member per measure instead of `count`.",
    )
    group_by: QueryValues = Field(
        default_factory=list,
        description=f"Up to {MAX_DIMENSIONS} dimensions, comma-separated (see /stats/catalog).",
    )
    as_of: date | None = Field(
        default=None, description="The day ages are computed on (default: today in Djibouti)."
    )

    region: QueryValues = Field(default_factory=list, description=LIST_HELP)
    commune: QueryValues = Field(default_factory=list, description=LIST_HELP)
    locality: QueryValues = Field(default_factory=list, description=LIST_HELP)
    area: QueryValues = Field(default_factory=list, description=LIST_HELP)
    refugee_village: bool | None = None
    displacement_status: QueryValues = Field(default_factory=list, description=LIST_HELP)
    pmt_band: QueryValues = Field(default_factory=list, description=LIST_HELP)
    sex: QueryValues = Field(default_factory=list, description=LIST_HELP)
    age_group: QueryValues = Field(default_factory=list, description=LIST_HELP)
    legal_status: QueryValues = Field(default_factory=list, description=LIST_HELP)
    disability: bool | None = None
    programme: QueryValues = Field(default_factory=list, description=LIST_HELP)
    enrollment_status: QueryValues = Field(default_factory=list, description=LIST_HELP)

    poverty_line: int | None = Field(
        default=None,
        ge=1,
        le=MAX_POVERTY_LINE,
        description="DJF per person per year, one line for every area: the poverty "
        "measures take it or `poverty_lines`, the other measures refuse both.",
    )
    poverty_lines: list[str] = Field(
        default_factory=list,
        description="The line of each area, `area:DJF per person per year`, every area "
        "once, comma-separated (`urban:120000,rural:90000`): each person is read against "
        "the line of their household's area.",
    )
    pmt_min: int | None = Field(default=None, ge=1, description="DJF per person per year.")
    pmt_max: int | None = Field(default=None, ge=1, description="DJF per person per year.")
    registered_from: date | None = None
    registered_to: date | None = None

    @field_validator(
        "measures",
        "poverty_lines",
        "group_by",
        "region",
        "commune",
        "locality",
        "area",
        "displacement_status",
        "pmt_band",
        "sex",
        "age_group",
        "legal_status",
        "programme",
        "enrollment_status",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_values(value)

    @field_validator("group_by")
    @classmethod
    def _known_dimensions(cls, value: list[str]) -> list[str]:
        return check_dimensions(value, DIMENSIONS, MAX_DIMENSIONS)

    @field_validator(
        "region",
        "commune",
        "locality",
        "area",
        "displacement_status",
        "pmt_band",
        "sex",
        "age_group",
        "legal_status",
        "programme",
        "enrollment_status",
    )
    @classmethod
    def _known_values(cls, value: list[str], info: ValidationInfo) -> list[str]:
        value = distinct(value)
        # The bad value is not echoed: the shared rule for validation messages.
        allowed = FIXED_VALUES.get(str(info.field_name))
        if allowed is not None and not set(value) <= set(allowed):
            raise ValueError("unknown value; expected one of: " + ", ".join(allowed))
        return value

    @field_validator("measures")
    @classmethod
    def _distinct_measures(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a measure is named twice")
        return value

    @field_validator("poverty_lines")
    @classmethod
    def _line_of_each_area(cls, value: list[str]) -> list[str]:
        lines: dict[str, int] = {}
        for item in value:
            area, _, amount = item.partition(":")
            if area not in AREAS or area in lines:
                raise ValueError("expected each of " + ", ".join(AREAS) + " once")
            if not amount.isdigit() or not 1 <= int(amount) <= MAX_POVERTY_LINE:
                raise ValueError(f"a line is a whole number of DJF, 1 to {MAX_POVERTY_LINE}")
            lines[area] = int(amount)
        if value and set(lines) != set(AREAS):
            raise ValueError("expected each of " + ", ".join(AREAS) + " once")
        return [f"{area}:{amount}" for area, amount in lines.items()]

    def lines_by_area(self) -> dict[str, int]:
        """`poverty_lines` as area -> DJF."""
        return {
            area: int(amount)
            for area, _, amount in (item.partition(":") for item in self.poverty_lines)
        }

    @field_validator("pmt_max")
    @classmethod
    def _pmt_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        lowest = info.data.get("pmt_min")
        if value is not None and lowest is not None and value < lowest:
            raise ValueError("must not be below pmt_min")
        return value

    @field_validator("registered_to")
    @classmethod
    def _registration_range(cls, value: date | None, info: ValidationInfo) -> date | None:
        earliest = info.data.get("registered_from")
        if value is not None and earliest is not None and value < earliest:
            raise ValueError("must not be before registered_from")
        return value

    def dimension_filters(self) -> dict[str, tuple[Any, ...]]:
        """Each dimension filtered on -> the values it may take."""
        filters: dict[str, tuple[Any, ...]] = {}
        for name in DIMENSIONS:
            value = getattr(self, name)
            if isinstance(value, bool):
                filters[name] = (value,)
            elif value:
                filters[name] = tuple(value)
        return filters


Figure = int | float


class StatsAnswer(BaseModel):
    measure: Measure | None = Field(description="The measure asked; null when `measures` were.")
    measures: list[Measure] | None = Field(
        default=None, description="The measures asked together, when they were."
    )
    group_by: list[str]
    filters: dict[str, FilterValue] = Field(
        description="The filters applied, region limits of the caller's account included."
    )
    as_of: date
    rows: list[dict[str, DimensionValue | Figure]] = Field(
        description="One row per combination of dimension values that has units, ordered by "
        "the dimensions; `count` is the number of units in it. A withheld row (small, or "
        "withheld so that a small one cannot be worked out) has `count: null` and "
        "`suppressed: true`; other rows carry no `suppressed` member. Asked `measures`, "
        "a row holds each measure's figure under its name instead of `count` (a withheld "
        "figure null). Sums of fractions (poverty_gap_ratio...) have 6 decimal places.",
        examples=[
            [
                {"region": "DJ-AS", "sex": "F", "count": 812},
                {"region": "DJ-OB", "sex": "F", "count": None, "suppressed": True},
            ]
        ],
    )
    total: Figure | None = Field(
        description="Distinct units matching the filters, whatever the grouping (a sum "
        "measure: its sum over them); null when withheld (a small total, for a caller whose "
        "answers are protected), or when `measures` were asked."
    )
    totals: dict[str, Figure | None] | None = Field(
        default=None, description="Asked `measures`: each one's total, as `total`."
    )
    disclosure_control: DisclosureControl | None = Field(
        default=None,
        description="How small cells were withheld (see `/stats/catalog`); null: exact counts.",
    )


class CatalogValue(BaseModel):
    value: str | bool
    label: str


class CatalogMeasure(BaseModel):
    name: Measure
    description: str
    kind: Literal["count", "sum"] = "count"
    unit: str = "units"
    parameters: list[str] = Field(
        default_factory=list, description="Query parameters the measure requires."
    )
    batch: str | None = Field(
        default=None,
        description="Measures of the same batch can be asked in one request (`measures=`), "
        "counted in one pass over their units; null: asked alone.",
    )


class CatalogDimension(BaseModel):
    name: str
    level: Level
    description: str
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
