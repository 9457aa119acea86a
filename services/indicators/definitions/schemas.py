from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    field_validator,
)

from services.indicators.fields import IndicatorCode, Name, exact_decimal, exact_decimal_schema
from services.indicators.vocabulary import Direction, Periodicity
from shared.schemas import InputModel, not_emptied

MAX_DISAGGREGATIONS = 5


Factor = Annotated[
    Decimal,
    BeforeValidator(exact_decimal),
    Field(gt=0, max_digits=20, decimal_places=6),
    exact_decimal_schema(20, 6, "100 for a percentage, 1 else.", positive=True),
]
# The parser gives a long expression's error its position; the limit here only keeps a
# body of megabytes out.
ExpressionText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100_000),
    Field(description="In the expression language, e.g. `#{individuals|programme=pnsf}`."),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Unit = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Source = Annotated[str, StringConstraints(min_length=1, max_length=300)]
SdgCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,2}\.[0-9a-z]{1,2}\.[0-9]{1,2}$"),
    Field(description="SDG indicator code, e.g. 1.3.1.", examples=["1.3.1"]),
]
DimensionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _distinct(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("a dimension is named more than once")
    return value


class DefinitionFields(InputModel):
    @field_validator("disaggregations", check_fields=False)
    @classmethod
    def _distinct_dimensions(cls, value: Any) -> Any:
        return _distinct(value) if isinstance(value, list) else value


class IndicatorCreate(DefinitionFields):
    code: IndicatorCode
    objective_id: uuid.UUID | None = Field(
        default=None, description="The objective of the results framework it measures."
    )
    name_fr: Name
    name_en: Name
    description: Text | None = None
    unit: Unit = Field(examples=["%", "households", "DJF"])
    factor: Factor = Decimal(1)
    numerator: ExpressionText
    denominator: ExpressionText | None = Field(
        default=None, description="None for a count or a sum, not a ratio."
    )
    disaggregations: list[DimensionName] = Field(
        default_factory=list,
        max_length=MAX_DISAGGREGATIONS,
        description="Dimensions values may be broken down by: each must apply to every "
        "measure the expressions use.",
    )
    periodicity: Periodicity = "year"
    direction: Direction = Field(
        default="increase",
        description="increase: progress is a rise of the value (coverage); decrease: a fall "
        "(exclusion error). How values are judged against targets.",
    )
    source: Source | None = None
    sdg_code: SdgCode | None = None


class IndicatorUpdate(DefinitionFields):
    """Only the fields sent change, and any change is a new version of the definition;
    `null` clears the optional fields. The code never changes: expressions name it."""

    objective_id: uuid.UUID | None = None
    name_fr: Name | None = None
    name_en: Name | None = None
    description: Text | None = None
    unit: Unit | None = None
    factor: Factor | None = None
    numerator: ExpressionText | None = None
    denominator: ExpressionText | None = None
    disaggregations: list[DimensionName] | None = Field(
        default=None, max_length=MAX_DISAGGREGATIONS
    )
    periodicity: Periodicity | None = None
    direction: Direction | None = None
    source: Source | None = None
    sdg_code: SdgCode | None = None

    _not_emptied = not_emptied(
        "name_fr",
        "name_en",
        "unit",
        "factor",
        "numerator",
        "disaggregations",
        "periodicity",
        "direction",
    )


class DefinitionVersion(BaseModel):
    """One version of a definition, as it was saved."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    objective_id: uuid.UUID | None
    name_fr: str
    name_en: str
    description: str | None
    unit: str
    factor: Decimal
    numerator: str
    denominator: str | None
    disaggregations: list[str]
    periodicity: Periodicity
    direction: Direction
    source: str | None
    sdg_code: str | None
    measures: list[str] = Field(description="The measures the expressions use.")

    @field_serializer("factor")
    def _plain_factor(self, factor: Decimal) -> str:
        # 100, not 100.000000 (the column's scale) or 1E+2.
        return format(factor.normalize(), "f")

    uses_indicators: list[str] = Field(description="The indicators the expressions use.")
    created_at: datetime
    created_by: str | None


class IndicatorDefinition(DefinitionVersion):
    """An indicator with its current definition; `version` is its ETag."""

    id: uuid.UUID
    code: str
