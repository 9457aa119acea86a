"""The funding report's query and answer. The query refuses unknown parameters, as `/stats`
does: a misspelt filter silently ignored gives figures that look right and are not."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from services.funding.reports.facts import DIMENSIONS
from shared.money import Money
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

ReportFormat = Literal["json", "csv"]


class ReportQuery(InputModel):
    group_by: QueryValues = Field(
        default_factory=list,
        description="Any of partner, project, year, currency, in the order wanted "
        "(comma-separated); none: the total only.",
    )
    year: list[int] = Field(default_factory=list, description=LIST_HELP)
    partner: list[uuid.UUID] = Field(
        default_factory=list, description="Organisation ids (the funders). " + LIST_HELP
    )
    project: list[uuid.UUID] = Field(default_factory=list, description="Project ids. " + LIST_HELP)
    currency: QueryValues = Field(
        default_factory=list,
        description="ISO 4217 codes: agreements and transactions in these currencies. " + LIST_HELP,
    )
    format: ReportFormat | None = Field(
        default=None, description="json or csv; default: from the Accept header, else json."
    )

    @field_validator("group_by", "currency", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return split_values(value)

    @field_validator("year", mode="before")
    @classmethod
    def _years(cls, value: Any) -> Any:
        return parse_items(value, int, "a whole number")

    @field_validator("partner", "project", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return parse_items(value, uuid.UUID, "an id (UUID)")

    @field_validator("group_by")
    @classmethod
    def _known_dimensions(cls, value: list[str]) -> list[str]:
        return check_dimensions(value, DIMENSIONS)

    @field_validator("year")
    @classmethod
    def _plausible_years(cls, value: list[int]) -> list[int]:
        return plausible_years(value)

    @field_validator("partner", "project")
    @classmethod
    def _distinct_ids(cls, value: list[uuid.UUID]) -> list[uuid.UUID]:
        return distinct(value)

    @field_validator("currency")
    @classmethod
    def _known_currencies(cls, value: list[str]) -> list[str]:
        return currency_codes(value)


class Amounts(BaseModel):
    """One figure in DJF and in USD (the stored conversions, summed); `in_currency` only
    when the report is grouped by currency: the same figure in the group's own currency."""

    djf: Money
    usd: Money
    in_currency: Money | None = None


class Ratio(BaseModel):
    value: str | None = Field(
        description="Decimal string with 4 places (0.2500 is 25 %), or null with a reason."
    )
    reason: str | None = None


class PartnerRef(BaseModel):
    id: uuid.UUID
    iati_identifier: str
    name_fr: str
    name_en: str


class ProjectRef(BaseModel):
    id: uuid.UUID
    iati_identifier: str
    title_fr: str
    title_en: str


class ReportRow(BaseModel):
    """A group's figures. Only the dimensions grouped by appear, null for the facts that
    have no value for it (transactions without an agreement have no partner)."""

    partner: PartnerRef | None = None
    project: ProjectRef | None = None
    year: int | None = None
    currency: str | None = None
    committed: Amounts
    received: Amounts
    disbursed: Amounts
    paid: Amounts
    available: Amounts | None = Field(
        default=None,
        description="The agreements' balance, valued at the rates of `rates_on`. Null when "
        "the report is grouped or filtered by year.",
    )
    disbursement_rate: Ratio


class FundingReport(BaseModel):
    group_by: list[str]
    filters: dict[str, list[Any]] = Field(
        description="The filters applied, the partner scope of a partner's token included."
    )
    generated_at: datetime
    rates_on: date = Field(
        description="The day (Djibouti) whose exchange rates value `available` in DJF and USD."
    )
    rows: list[ReportRow]
    total: ReportRow = Field(description="Every fact matching the filters, whatever the grouping.")
