"""What the payment-cycle endpoints take and answer. Amounts are `Money`: integer minor units
beside their ISO 4217 code; rates are decimal strings (DJF per unit)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from services.funding.vocabulary import BuildStatus, CycleStatus, LineStatus, ReportedStatus
from shared.money import Money
from shared.schemas import InputModel

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CycleCreate(InputModel):
    programme: str = Field(min_length=1, max_length=32, description="The registry's code.")
    period: str = Field(
        min_length=1,
        max_length=10,
        description="As the programme's benefit period names them: quarterly 2026Q3, monthly "
        "2026-07, yearly 2026, one-off a short label.",
    )
    agreement_id: uuid.UUID = Field(description="The active agreement the payroll is charged to.")
    payment_provider_id: uuid.UUID | None = Field(
        default=None, description="The organisation that receives the disbursement and pays."
    )


class CycleCancel(InputModel):
    reason: Reason


class NoBody(InputModel):
    """An action without a body (what an Idempotency-Key's request is compared on)."""


class BuildProgress(BaseModel):
    status: BuildStatus
    message: str | None
    enrollments_read: int = Field(description="Enrollments read from the registry so far.")
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None


class ApprovalRates(BaseModel):
    """The DJF value of one unit of each currency, fixed when the cycle was approved: every
    line goes into the agreement's currency with them, whenever it settles."""

    cycle_currency: str
    cycle_rate_to_djf: Decimal
    agreement_currency: str
    agreement_rate_to_djf: Decimal


class Cycle(BaseModel):
    id: uuid.UUID
    reference: str = Field(description="The payment list id in the payment file.")
    programme: str
    period: str
    agreement_id: uuid.UUID
    payment_provider_id: uuid.UUID | None
    status: CycleStatus
    benefit: Money = Field(description="What each household is paid for the period.")
    build: BuildProgress
    lines_count: int
    total: Money = Field(description="The lines' total, in the cycle's currency.")
    excluded: dict[str, int] = Field(
        description="Enrollments left out of the payroll, by reason: already_paid, "
        "in_another_cycle, no_head, no_phone, taken_by_concurrent_build."
    )
    reserved: Money = Field(description="Held against the agreement at approval, in its currency.")
    rates: ApprovalRates | None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_by: str | None
    sent_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class Payee(BaseModel):
    individual_id: uuid.UUID | None
    given_name: str | None
    father_name: str | None
    grandfather_name: str | None
    phone: str | None = Field(description="The mobile-money account (E.164).")


class Line(BaseModel):
    line_no: int
    reference: str
    household_id: uuid.UUID
    registry_number: str
    enrollment_id: uuid.UUID
    region_code: str
    locality_code: str | None
    amount: Money
    status: LineStatus
    provider_reference: str | None
    settled_on: date | None
    status_changed_at: datetime | None
    payee: Payee = Field(description="Who is paid (the household's head) and on what account.")


class StatusTotals(BaseModel):
    status: LineStatus
    lines: int
    amount: Money


class RegionTotals(BaseModel):
    region_code: str
    lines: int
    amount: Money
    by_status: list[StatusTotals]


class Summary(BaseModel):
    cycle_id: uuid.UUID
    reference: str
    status: CycleStatus
    lines: int
    amount: Money
    by_status: list[StatusTotals]
    by_region: list[RegionTotals]


class ReportRowError(BaseModel):
    row: int = Field(description="The file's row (the header is row 1), or a JSON item (1 up).")
    column: str
    message: str


class ReconciliationResult(BaseModel):
    report_id: uuid.UUID
    cycle_id: uuid.UUID
    file_format: str
    file_sha256: str
    already_applied: bool = Field(
        description="This very file was applied before: nothing changed this time; the "
        "answer is the first time's."
    )
    rows: int
    applied: dict[ReportedStatus, int] = Field(description="Lines changed, by new status.")
    unchanged: int = Field(description="Lines already in the status reported.")
    errors: list[ReportRowError] = Field(description="Rows not applied, the first 1,000.")
    error_count: int
    paid: Money = Field(description="Paid by this report (in the cycle's currency).")
    refunded: Money = Field(description="Payments reversed by this report.")
    released: Money = Field(
        description="Reservation given back to the agreement (failed lines), in its currency."
    )
    transactions: list[uuid.UUID] = Field(
        description="Transactions recorded: expenditure for lines paid, negative expenditure "
        "for payments reversed, a negative disbursement for money the provider did not pay "
        "out (failed lines)."
    )
    cycle_status: CycleStatus


class ReportedLine(BaseModel):
    """One row of a provider's report, once read."""

    row: int
    reference: str
    status: ReportedStatus
    provider_reference: str | None
    settled_on: date
