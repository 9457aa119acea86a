from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from services.funding.fields import DECIMAL_PATTERN, ExactDecimal, IsoDate
from shared.money import CurrencyCode
from shared.schemas import InputModel

_RATE_HELP = (
    'DJF per unit of the currency, e.g. "177.721" for USD. Send the rate as a string (or a '
    "whole number): a JSON number with decimals is refused, as it would reach the service as "
    "a binary float that has lost digits. At most 10 decimals and 20 digits."
)

# DJF per unit of the currency, as central banks quote it (177.721 DJF per USD); stored
# exactly with ten decimals.
RateValue = Annotated[
    Decimal,
    ExactDecimal,
    Field(gt=0, max_digits=20, decimal_places=10),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}],
            "description": _RATE_HELP,
            "examples": ["177.721"],
        }
    ),
]


class ExchangeRateCreate(InputModel):
    currency: CurrencyCode = Field(description="ISO 4217 code; DJF itself has no rate.")
    rate_date: IsoDate = Field(
        description="YYYY-MM-DD. The rate holds from this date until the next one."
    )
    rate_to_djf: RateValue = Field(description=_RATE_HELP)
    source: str = Field(min_length=1, max_length=200, description="e.g. Banque Centrale")


class ExchangeRate(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    currency: str
    rate_date: date
    rate_to_djf: Decimal
    source: str
    created_at: datetime
    created_by: str | None


class RatesUpload(BaseModel):
    """What a CSV of rates did."""

    created: int
    unchanged: int = Field(description="Rows already recorded with the same rate.")
    rates: list[ExchangeRate]


class RateUsed(BaseModel):
    """The rate an amount was converted with (DJF per unit, valid from `rate_date`)."""

    currency: str
    rate_date: date | None = Field(description="None for DJF (no rate needed).")
    rate_to_djf: Decimal
