from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.funding.fields import ExactCode, IsoDate, text
from services.funding.rates.schemas import RateUsed
from services.funding.vocabulary import TransactionType
from shared.money import Money, PositiveMoney
from shared.schemas import InputModel


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


Type = Annotated[TransactionType, ExactCode]


class TransactionCreate(InputModel):
    """A transaction recorded by hand. Incoming funds (1) on an agreement raise what it has
    received, by the amount in the agreement's currency at the value date's rates; other
    types leave its balance alone (payrolls move reserved and paid money themselves)."""

    type: Type = Field(
        description="IATI TransactionType: 1 Incoming Funds, 2 Outgoing Commitment, "
        "3 Disbursement, 4 Expenditure, 11 Incoming Commitment, 12 Outgoing Pledge, "
        "13 Incoming Pledge."
    )
    transaction_date: IsoDate
    value_date: IsoDate | None = Field(
        default=None,
        description="The date whose exchange rates value the amount; default: the "
        "transaction date.",
    )
    amount: PositiveMoney
    agreement_id: uuid.UUID | None = Field(
        default=None, description="Active agreements only (409 when closed or cancelled)."
    )
    project_id: uuid.UUID | None = Field(
        default=None, description="Default: the agreement's. One of the two is needed."
    )
    provider_org_id: uuid.UUID | None = Field(
        default=None,
        description="Default for incoming funds, commitments and pledges: the agreement's funder.",
    )
    receiver_org_id: uuid.UUID | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    reference: Annotated[str, StringConstraints(max_length=100)] | None = None


class TransactionReversal(InputModel):
    reason: Annotated[str, text(500)] = Field(description="Why: kept as its description.")
    transaction_date: IsoDate | None = Field(
        default=None, description="Default: today (Djibouti). Not before the original's."
    )
