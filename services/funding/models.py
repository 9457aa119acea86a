"""The funding service's tables. Money is always an integer count of minor units beside its
ISO 4217 code (`*_minor`, `currency`); amounts converted to DJF and USD at their value date
are stored with the dates of the rates used, so every report adds integers and shows its
rates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.funding.vocabulary import (
    AGREEMENT_STATUSES,
    BUILD_STATUSES,
    CYCLE_STATUSES,
    HOLDING_LINE_STATUSES,
    LINE_STATUSES,
    ORGANISATION_TYPES,
    TRANSACTION_TYPES,
)
from shared.models import (
    AuditEventColumns,
    IdempotencyRecordColumns,
    Timestamps,
    Versioned,
    new_metadata,
)


def _in(column: str, values: tuple[object, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = new_metadata()


cycle_number_seq = Sequence("payment_cycle_number_seq", metadata=Base.metadata)


class Organisation(Timestamps, Versioned, Base):
    """A partner (funder) or implementer: World Bank, WFP, ADDS, a mobile-money operator."""

    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint(_in("type", ORGANISATION_TYPES), name="type"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    iati_identifier: Mapped[str] = mapped_column(String(100), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    # The gateway's partner id of the accounts acting for this organisation.
    partner_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(80))


class Project(Timestamps, Versioned, Base):
    """A financed operation (an IATI activity): a World Bank cash-transfer project, WFP's
    country strategic plan."""

    __tablename__ = "project"
    __table_args__ = (CheckConstraint("status BETWEEN 1 AND 6", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    iati_identifier: Mapped[str] = mapped_column(String(150), unique=True)
    reporting_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"))
    title_fr: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int] = mapped_column(SmallInteger)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    sector_code: Mapped[str] = mapped_column(String(5))
    recipient_country: Mapped[str] = mapped_column(String(2))
    # Registry programme codes (checked with the registry when saved).
    programme_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    created_by: Mapped[str | None] = mapped_column(String(80))


class Participant(Base):
    """An organisation taking part in a project, in an IATI role."""

    __tablename__ = "participant"
    __table_args__ = (
        PrimaryKeyConstraint("project_id", "organisation_id", "role"),
        CheckConstraint("role BETWEEN 1 AND 4", name="role"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[int] = mapped_column(SmallInteger)


class Agreement(Timestamps, Versioned, Base):
    """A partner's commitment to a project, with what it has received, holds in reserve for
    approved payrolls and has paid out, in the agreement's currency. The database refuses
    any change that would reserve or pay money not received."""

    __tablename__ = "agreement"
    __table_args__ = (
        CheckConstraint(_in("status", AGREEMENT_STATUSES), name="status"),
        CheckConstraint("committed_minor > 0", name="committed"),
        CheckConstraint("reserved_minor >= 0 AND paid_minor >= 0", name="not_negative"),
        CheckConstraint("reserved_minor + paid_minor <= received_minor", name="funded"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    funder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    committed_minor: Mapped[int] = mapped_column(BigInteger)
    signed_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    received_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # The commitment in DJF and USD at the signed date's rates, and those rates.
    committed_djf_minor: Mapped[int] = mapped_column(BigInteger)
    committed_usd_minor: Mapped[int] = mapped_column(BigInteger)
    rate_to_djf: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    rate_date: Mapped[date | None] = mapped_column(Date)
    usd_rate_to_djf: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    usd_rate_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(80))


class Tranche(Base):
    """A planned payment of the agreement (IATI planned-disbursement), in its currency."""

    __tablename__ = "tranche"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), index=True
    )
    due_date: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ExchangeRate(Base):
    """How many DJF one unit of a currency was worth from `rate_date` on (until the next)."""

    __tablename__ = "exchange_rate"
    __table_args__ = (
        UniqueConstraint("currency", "rate_date"),
        CheckConstraint("rate_to_djf > 0", name="positive"),
        CheckConstraint("currency <> 'DJF'", name="not_djf"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    currency: Mapped[str] = mapped_column(String(3))
    rate_date: Mapped[date] = mapped_column(Date)
    rate_to_djf: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))


class Transaction(Base):
    """An IATI transaction. Never edited: a correction is a new transaction that reverses
    it (the same amount, negated)."""

    __tablename__ = "transaction"
    __table_args__ = (
        CheckConstraint(_in("type", tuple(TRANSACTION_TYPES)), name="type"),
        CheckConstraint("amount_minor <> 0", name="amount"),
        Index("ix_transaction_value_date", "value_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    type: Mapped[int] = mapped_column(SmallInteger)
    reference: Mapped[str | None] = mapped_column(String(100))
    transaction_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # The same amount in DJF and USD at the value date's rates, and those rates (DJF per
    # unit, from their date; DJF itself: 1 and no date).
    amount_djf_minor: Mapped[int] = mapped_column(BigInteger)
    amount_usd_minor: Mapped[int] = mapped_column(BigInteger)
    rate_to_djf: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    rate_date: Mapped[date | None] = mapped_column(Date)
    usd_rate_to_djf: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    usd_rate_date: Mapped[date] = mapped_column(Date)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreement.id"), index=True)
    # The amount in the agreement's currency (what its balance moves by).
    agreement_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("project.id"), index=True)
    provider_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    receiver_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    description: Mapped[str | None] = mapped_column(String(500))
    payment_cycle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_cycle.id"), index=True
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("transaction.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))


class PaymentCycle(Timestamps, Versioned, Base):
    """One payroll of a programme for one period, charged to one agreement."""

    __tablename__ = "payment_cycle"
    __table_args__ = (
        CheckConstraint(_in("status", CYCLE_STATUSES), name="status"),
        CheckConstraint(_in("build_status", BUILD_STATUSES), name="build_status"),
        Index("ix_payment_cycle_programme_period", "programme_code", "period"),
        Index("ix_payment_cycle_build", "build_status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(
        String(20),
        unique=True,
        server_default=text(
            "'PC-' || to_char(now(), 'YYYY') || '-' || "
            "lpad(nextval('payment_cycle_number_seq')::text, 5, '0')"
        ),
    )
    programme_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(10))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement.id"), index=True)
    payment_provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    currency: Mapped[str] = mapped_column(String(3))
    benefit_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="draft")

    build_status: Mapped[str] = mapped_column(String(10), default="queued")
    build_message: Mapped[str | None] = mapped_column(String(500))
    build_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    build_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    build_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enrollments_read: Mapped[int] = mapped_column(Integer, default=0)
    lines_count: Mapped[int] = mapped_column(Integer, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Enrollments left out, by reason (already_paid, in_open_cycle, ...).
    excluded: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    # Fixed at approval: the DJF value of one unit of the cycle's and of the agreement's
    # currency (1 for DJF), which turn every line into the agreement's currency, and what
    # was reserved against the agreement.
    cycle_rate_to_djf: Mapped[Decimal | None] = mapped_column(Numeric(20, 10))
    agreement_rate_to_djf: Mapped[Decimal | None] = mapped_column(Numeric(20, 10))
    reserved_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    created_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))


class PaymentLine(Base):
    """One household's payment in a cycle. A household holds at most one pending or paid line
    per programme and period, whichever cycle it is in (the partial unique index)."""

    __tablename__ = "payment_line"
    __table_args__ = (
        CheckConstraint(_in("status", LINE_STATUSES), name="status"),
        CheckConstraint("amount_minor > 0", name="amount"),
        UniqueConstraint("cycle_id", "line_no"),
        Index(
            "uq_payment_line_household_period",
            "programme_code",
            "period",
            "household_id",
            unique=True,
            postgresql_where=text(_in("status", HOLDING_LINE_STATUSES)),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_cycle.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    programme_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(10))
    household_id: Mapped[uuid.UUID] = mapped_column()
    registry_number: Mapped[str] = mapped_column(String(20))
    enrollment_id: Mapped[uuid.UUID] = mapped_column()
    payee_id: Mapped[uuid.UUID | None] = mapped_column()
    payee_given_name: Mapped[str | None] = mapped_column(String(100))
    payee_father_name: Mapped[str | None] = mapped_column(String(100))
    payee_grandfather_name: Mapped[str | None] = mapped_column(String(100))
    payee_phone: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(40))
    locality_code: Mapped[str | None] = mapped_column(String(40))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    settled_on: Mapped[date | None] = mapped_column(Date)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReconciliationReport(Base):
    """A provider's report applied to a cycle; the same file twice is applied once."""

    __tablename__ = "reconciliation_report"
    __table_args__ = (UniqueConstraint("cycle_id", "file_sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_cycle.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(80))


class AuditEvent(AuditEventColumns, Base):
    __tablename__ = "audit_event"
    __table_args__ = AuditEventColumns.indexes("audit_event")


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (PrimaryKeyConstraint("principal", "key"),)
