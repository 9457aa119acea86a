from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from services.funding.rates.schemas import RateUsed
from services.funding.vocabulary import TransactionType
from shared.money import Money


class TransactionRead(BaseModel):
    """A transaction in its own currency, in DJF and in USD at its value date's rates."""

    id: uuid.UUID
    type: TransactionType
    type_name: str = Field(description="IATI TransactionType name, e.g. Incoming Funds.")
    reference: str | None
    transaction_date: date
    value_date: date
    amount: Money
    amount_djf: Money
    amount_usd: Money
    rates: list[RateUsed] = Field(description="The rates used: the currency's, then USD's.")
    agreement_id: uuid.UUID | None
    agreement_amount: Money | None = Field(
        description="The amount in the agreement's currency: what its balance moved by."
    )
    project_id: uuid.UUID | None
    provider_org_id: uuid.UUID | None
    receiver_org_id: uuid.UUID | None
    description: str | None
    payment_cycle_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    created_at: datetime
    created_by: str | None
