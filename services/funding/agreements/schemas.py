from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.funding.fields import IsoDate
from services.funding.rates.schemas import RateUsed
from services.funding.vocabulary import AgreementStatus
from shared.money import Money, PositiveMoney
from shared.schemas import InputModel, not_emptied

Reference = Annotated[
    str,
    StringConstraints(max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/#:()-]*$"),
    Field(description="The agreement's number, e.g. IDA-D7420-DJ.", examples=["IDA-D7420-DJ"]),
]
MAX_TRANCHES = 120


class TrancheIn(InputModel):
    due_date: IsoDate
    amount: PositiveMoney = Field(description="In the agreement's currency.")


class AgreementCreate(InputModel):
    reference: Reference
    project_id: uuid.UUID
    funder_id: uuid.UUID = Field(description="The organisation that commits the money.")
    amount: PositiveMoney = Field(
        description="The commitment; its currency is the agreement's, in which its balance is kept."
    )
    signed_date: IsoDate = Field(description="The commitment is valued in DJF and USD at it.")
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    tranches: list[TrancheIn] = Field(
        default_factory=list,
        max_length=MAX_TRANCHES,
        description="Planned payments (IATI planned disbursements); together at most the "
        "commitment.",
    )


class AgreementUpdate(InputModel):
    """Only the fields sent change; `tranches`, when sent, replace them all. `status`: active
    -> closed or cancelled (409 while payrolls hold money reserved on it); closed -> active
    reopens it; cancelled is final. A closed or cancelled agreement changes only its status.
    The currency (of `amount`) changes only while no transaction is recorded on it."""

    reference: Reference | None = None
    amount: PositiveMoney | None = None
    signed_date: IsoDate | None = None
    period_start: IsoDate | None = None
    period_end: IsoDate | None = None
    status: AgreementStatus | None = None
    tranches: list[TrancheIn] | None = Field(default=None, max_length=MAX_TRANCHES)

    _not_emptied = not_emptied("reference", "amount", "signed_date", "status", "tranches")


class Tranche(BaseModel):
    id: uuid.UUID
    due_date: date
    amount: Money


class Agreement(BaseModel):
    id: uuid.UUID
    reference: str
    project_id: uuid.UUID
    funder_id: uuid.UUID
    currency: str
    amount: Money = Field(description="The commitment, in the agreement's currency.")
    committed_djf: Money = Field(description="The commitment at the signed date's rates.")
    committed_usd: Money
    rates: list[RateUsed] = Field(description="The rates used: the currency's, then USD's.")
    signed_date: date
    period_start: date | None
    period_end: date | None
    status: AgreementStatus
    tranches: list[Tranche]
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None


class Balance(BaseModel):
    """What the agreement committed, received, holds for approved payrolls and paid out, in
    its currency. `available` = received - reserved - paid: what a payroll may still reserve."""

    agreement_id: uuid.UUID
    status: AgreementStatus
    currency: str
    committed: Money
    received: Money
    reserved: Money
    paid: Money
    available: Money
    open_cycles: int = Field(
        description="Payment cycles charged to it that are approved, sent or reconciling."
    )
