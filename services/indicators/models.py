"""The indicators service's tables: the results framework (strategy -> axis -> objective ->
indicator), indicator definitions kept version by version, and the reference data
(population, poverty lines) that expressions use beside the services' measures."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.indicators.vocabulary import (
    DIRECTIONS,
    MILESTONE_KINDS,
    PERIODICITIES,
    POVERTY_LINE_AREAS,
    POVERTY_LINE_KINDS,
    SNAPSHOT_STATUSES,
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


class Strategy(Timestamps, Versioned, Base):
    """A national strategy followed by the M&E pole: INDS, SNPS 2018-2022 and successors."""

    __tablename__ = "strategy"
    __table_args__ = (CheckConstraint("end_year IS NULL OR end_year >= start_year", name="years"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    start_year: Mapped[int | None] = mapped_column(SmallInteger)
    end_year: Mapped[int | None] = mapped_column(SmallInteger)
    created_by: Mapped[str | None] = mapped_column(String(80))


class Axis(Timestamps, Versioned, Base):
    """A strategic axis of a strategy."""

    __tablename__ = "axis"
    __table_args__ = (UniqueConstraint("strategy_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("strategy.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(String(80))


class Objective(Timestamps, Versioned, Base):
    """An objective of an axis: what indicators measure progress towards."""

    __tablename__ = "objective"
    __table_args__ = (UniqueConstraint("axis_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    axis_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("axis.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    # The registry programmes (codes) and funding projects (IATI activity identifiers) that
    # serve the objective, as checked against those services when saved.
    programmes: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), default=list, server_default="{}"
    )
    projects: Mapped[list[str]] = mapped_column(
        ARRAY(String(150)), default=list, server_default="{}"
    )
    created_by: Mapped[str | None] = mapped_column(String(80))


class Indicator(Timestamps, Versioned, Base):
    """An indicator: its code, and its current definition. `version` is both the ETag and
    the number of the current definition: every change is a new definition version, and the
    earlier ones stay (a value keeps the version it was computed with)."""

    __tablename__ = "indicator"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    objective_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("objective.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(80))


class IndicatorVersion(Base):
    """One version of an indicator's definition, never changed once written."""

    __tablename__ = "indicator_version"
    __table_args__ = (
        PrimaryKeyConstraint("indicator_id", "version"),
        CheckConstraint(_in("periodicity", PERIODICITIES), name="periodicity"),
        CheckConstraint("factor > 0", name="factor"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
    )

    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicator.id"))
    version: Mapped[int] = mapped_column(Integer)
    objective_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("objective.id"))
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40))
    factor: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    numerator: Mapped[str] = mapped_column(Text)
    denominator: Mapped[str | None] = mapped_column(Text)
    disaggregations: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    periodicity: Mapped[str] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(String(300))
    sdg_code: Mapped[str | None] = mapped_column(String(20))
    # What the expressions use, as checked when saved: the measures, and other indicators.
    measures: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    uses_indicators: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # Whether progress is a rise (coverage) or a fall (exclusion error): how a value is
    # judged against its targets.
    direction: Mapped[str] = mapped_column(String(10), server_default="increase")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))


class PopulationUpload(Base):
    """A population table as uploaded, with its source: which years it gives and what it
    is broken down by. Its figures replace those of earlier uploads for those years."""

    __tablename__ = "population_upload"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(200))
    years: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))
    dimensions: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    rows: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    uploaded_by: Mapped[str | None] = mapped_column(String(80))


class PopulationCell(Base):
    """The number of people of one year in one combination of the upload's dimensions; a
    dimension the upload does not break down by is null."""

    __tablename__ = "population_cell"
    __table_args__ = (
        Index("ix_population_cell_year", "year"),
        CheckConstraint("people >= 0", name="people"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("population_upload.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    region: Mapped[str | None] = mapped_column(String(10))
    area: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(1))
    age_group: Mapped[str | None] = mapped_column(String(10))
    legal_status: Mapped[str | None] = mapped_column(String(20))
    people: Mapped[int] = mapped_column(BigInteger)


class PovertyLine(Timestamps, Versioned, Base):
    """A poverty line (national or extreme) of a year, for the country or one area, in DJF
    per person per year (DJF has no decimals: an integer of francs)."""

    __tablename__ = "poverty_line"
    __table_args__ = (
        UniqueConstraint("year", "area", "kind"),
        CheckConstraint(_in("kind", POVERTY_LINE_KINDS), name="kind"),
        CheckConstraint(_in("area", POVERTY_LINE_AREAS), name="area"),
        CheckConstraint("amount_minor > 0", name="amount"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger)
    area: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="DJF")
    source: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(String(80))


class Plan(Timestamps, Versioned, Base):
    """A priority action plan of a strategy (the INDS's PAP 2008-2011, each SNPS plan)."""

    __tablename__ = "plan"
    __table_args__ = (CheckConstraint("end_year >= start_year", name="years"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strategy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("strategy.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    start_year: Mapped[int] = mapped_column(SmallInteger)
    end_year: Mapped[int] = mapped_column(SmallInteger)
    created_by: Mapped[str | None] = mapped_column(String(80))


class PlanAction(Timestamps, Versioned, Base):
    """An action of a plan under an objective of the plan's strategy: who carries it out
    (a funding organisation), when, what it is planned to cost (in its own currency and, at
    the funding service's rates of its first day, in DJF and USD) and the funding projects
    that finance it. A project finances at most one action of a plan: its commitments and
    disbursements cannot be split between actions."""

    __tablename__ = "plan_action"
    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        CheckConstraint("end_year >= start_year", name="years"),
        CheckConstraint("planned_minor >= 0", name="planned"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan.id"), index=True)
    objective_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("objective.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    responsible: Mapped[str] = mapped_column(String(100))
    start_year: Mapped[int] = mapped_column(SmallInteger)
    end_year: Mapped[int] = mapped_column(SmallInteger)
    planned_minor: Mapped[int] = mapped_column(BigInteger)
    planned_currency: Mapped[str] = mapped_column(String(3))
    planned_djf_minor: Mapped[int] = mapped_column(BigInteger)
    planned_usd_minor: Mapped[int] = mapped_column(BigInteger)
    projects: Mapped[list[str]] = mapped_column(
        ARRAY(String(150)), default=list, server_default="{}"
    )
    created_by: Mapped[str | None] = mapped_column(String(80))


class Milestone(Base):
    """A baseline or a target of an indicator for a year, overall (`cell` {}) or for one
    disaggregation cell ({"region": "DJ-OB"}). Replaced as a set (PUT), never edited alone."""

    __tablename__ = "indicator_milestone"
    __table_args__ = (
        UniqueConstraint("indicator_id", "kind", "year", "cell"),
        CheckConstraint(_in("kind", MILESTONE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicator.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    cell: Mapped[dict[str, str]] = mapped_column(JSONB)
    value: Mapped[Decimal] = mapped_column(Numeric(30, 6))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))


class Snapshot(Base):
    """A frozen run of indicator values for a period, for official reporting: queued, then
    computed in the background; once done, its values never change. Partners read it once
    it is published."""

    __tablename__ = "snapshot"
    __table_args__ = (
        CheckConstraint(_in("status", SNAPSHOT_STATUSES), name="status"),
        Index("ix_snapshot_status", "status", "created_at"),
        Index("ix_snapshot_period", "period", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    period: Mapped[str] = mapped_column(String(10))
    # The indicators asked for; None: every indicator defined when the run starts.
    indicators: Mapped[list[str] | None] = mapped_column(ARRAY(String(40)))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    message: Mapped[str | None] = mapped_column(String(500))
    value_count: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The names of its indicators and cells as they were when it ran
    # (values/formats/labels.Labels.frozen); None before it is done.
    labels: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class SnapshotValue(Base):
    """One value of a snapshot: an indicator in one cell, with its provenance."""

    __tablename__ = "snapshot_value"
    __table_args__ = (
        # The frameworks tree reads each indicator's latest overall value.
        Index(
            "ix_snapshot_value_overall",
            "indicator",
            "snapshot_id",
            postgresql_where=text("overall"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("snapshot.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(40))
    # The indicator overall (its cell is {}), not one cell of a breakdown.
    overall: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The whole value as computed (shared/../values/schemas.IndicatorValue).
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)


class AuditEvent(AuditEventColumns, Base):
    __tablename__ = "audit_event"
    __table_args__ = AuditEventColumns.indexes("audit_event")


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (PrimaryKeyConstraint("principal", "key"),)
