"""The registry's tables. `household_id` is the natural distribution key (see ARCHITECTURE)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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

from services.beneficiaries.vocabulary import (
    AREAS,
    BENEFIT_PERIODS,
    ENROLLMENT_STATUSES,
    IDENTIFIER_TYPES,
    LEGAL_STATUSES,
    PROGRAMME_STATUSES,
    SEXES,
    UNIQUE_IDENTIFIER_TYPES,
)
from shared.models import (
    AuditEventColumns,
    IdempotencyRecordColumns,
    Timestamps,
    Versioned,
    new_metadata,
)

NAME_PART_PAIRS = (("given", "father"), ("given", "grandfather"), ("father", "grandfather"))


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = new_metadata()


household_number_seq = Sequence("household_number_seq", metadata=Base.metadata)


class AdminArea(Base):
    """Regions (level 1), communes and sub-prefectures (2), localities (3)."""

    __tablename__ = "admin_area"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("admin_area.code"), index=True)
    region_code: Mapped[str] = mapped_column(String(40))
    # The usual area of a locality; a household's own `area` can differ.
    area: Mapped[str | None] = mapped_column(String(8))
    is_refugee_village: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Household(Timestamps, Versioned, Base):
    __tablename__ = "household"
    __table_args__ = (
        CheckConstraint(_in("area", AREAS), name="area"),
        CheckConstraint("status IN ('active', 'merged', 'dissolved')", name="status"),
        Index("ix_household_region_locality", "region_code", "locality_code"),
        Index("ix_household_changes", "change_txid", "change_seq"),
        Index("ix_household_region_changes", "region_code", "change_txid", "change_seq"),
        Index(
            "uq_household_submission",
            "registration_source",
            "submission_id",
            unique=True,
            postgresql_where=text("submission_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    registry_number: Mapped[str] = mapped_column(
        String(20),
        unique=True,
        server_default=text(
            "'DJ-' || to_char(now(), 'YYYY') || '-' || "
            "lpad(nextval('household_number_seq')::text, 6, '0')"
        ),
    )
    status: Mapped[str] = mapped_column(String(12), default="active")
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("household.id"))

    region_code: Mapped[str] = mapped_column(ForeignKey("admin_area.code"))
    commune_code: Mapped[str] = mapped_column(ForeignKey("admin_area.code"))
    locality_code: Mapped[str] = mapped_column(ForeignKey("admin_area.code"))
    area: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(300))
    gps_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    gps_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    dwelling_type: Mapped[str | None] = mapped_column(String(32))
    tenure: Mapped[str | None] = mapped_column(String(32))
    wall_material: Mapped[str | None] = mapped_column(String(32))
    roof_material: Mapped[str | None] = mapped_column(String(32))
    floor_material: Mapped[str | None] = mapped_column(String(32))
    rooms: Mapped[int | None] = mapped_column(SmallInteger)
    water_source: Mapped[str | None] = mapped_column(String(32))
    sanitation: Mapped[str | None] = mapped_column(String(32))
    lighting: Mapped[str | None] = mapped_column(String(32))
    cooking_fuel: Mapped[str | None] = mapped_column(String(32))
    assets: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    shocks: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    displacement_status: Mapped[str] = mapped_column(String(24), default="none")

    registration_source: Mapped[str] = mapped_column(String(16))
    registration_date: Mapped[date] = mapped_column(Date, index=True)
    enumerator_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    submission_id: Mapped[str | None] = mapped_column(String(128))
    source_partner_id: Mapped[str | None] = mapped_column(String(64))

    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_date: Mapped[date | None] = mapped_column(Date)
    consent_scope: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    consent_method: Mapped[str | None] = mapped_column(String(16))
    consent_notice_version: Mapped[str | None] = mapped_column(String(16))

    member_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Predicted log consumption per capita per year (DJF), and the formula that gave it.
    pmt_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 5))
    pmt_formula_version: Mapped[int | None] = mapped_column(ForeignKey("pmt_formula.version"))
    pmt_computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Set by a trigger whenever `version` moves: the writing transaction's id and a sequence
    # number, the cursor of GET /sync/changes (see sync/changes.py for why a transaction id).
    change_txid: Mapped[int | None] = mapped_column(BigInteger)
    change_seq: Mapped[int | None] = mapped_column(BigInteger)

    created_by: Mapped[str | None] = mapped_column(String(80))
    updated_by: Mapped[str | None] = mapped_column(String(80))


class Individual(Timestamps, Versioned, Base):
    __tablename__ = "individual"
    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex"),
        CheckConstraint(_in("legal_status", LEGAL_STATUSES), name="legal_status"),
        CheckConstraint("status IN ('active', 'left', 'deceased', 'merged')", name="status"),
        # At most one head among a household's present members; the service makes it one.
        Index(
            "uq_individual_household_head",
            "household_id",
            unique=True,
            postgresql_where=text("relationship_to_head = 'head' AND status = 'active'"),
        ),
        # Duplicate candidates: two name parts agreeing by phonetic key, same sex, birth
        # year in a window, read from the index alone (a handful of rows per lookup even for
        # Mohamed Ali: a single common key would bring back thousands).
        *(
            Index(
                f"ix_individual_{first}_{second}_keys",
                f"{first}_key",
                f"{second}_key",
                "sex",
                "birth_year",
                postgresql_include=["id", "status"],
            )
            for first, second in NAME_PART_PAIRS
        ),
        Index("ix_individual_name_order", "name_folded", "id"),
        # Name search in name order when a name part is common (Mohamed...): each part's
        # key walked in name order, so a page is read without sorting thousands of rows.
        *(
            Index(
                f"ix_individual_{part}_key_name",
                f"{part}_key",
                "name_folded",
                "id",
                postgresql_where=text("status = 'active'"),
            )
            for part in ("given", "father", "grandfather")
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("household.id"), index=True)
    relationship_to_head: Mapped[str] = mapped_column(String(24))
    # The member's place in the household's list, as the registrar gave it (1 first): a
    # household is answered in that order, so clients pairing members by position pair
    # them right. Empty for rows from before it was kept (they follow, head first).
    roster_position: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(12), default="active")
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("individual.id"))

    given_name: Mapped[str] = mapped_column(String(100))
    father_name: Mapped[str | None] = mapped_column(String(100))
    grandfather_name: Mapped[str | None] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(320))
    given_key: Mapped[str] = mapped_column(String(40))
    father_key: Mapped[str | None] = mapped_column(String(40))
    grandfather_key: Mapped[str | None] = mapped_column(String(40))

    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    birth_date_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    legal_status: Mapped[str] = mapped_column(String(16))
    nationality: Mapped[str | None] = mapped_column(String(2))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    # Washington Group short set: domain -> 1 (no difficulty) .. 4 (cannot do at all).
    disability: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    has_disability: Mapped[bool] = mapped_column(Boolean, default=False)
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    lactating: Mapped[bool] = mapped_column(Boolean, default=False)
    education_level: Mapped[str | None] = mapped_column(String(16))
    occupation: Mapped[str | None] = mapped_column(String(100))
    deceased_on: Mapped[date | None] = mapped_column(Date)

    created_by: Mapped[str | None] = mapped_column(String(80))
    updated_by: Mapped[str | None] = mapped_column(String(80))


class Identifier(Base):
    __tablename__ = "identifier"
    __table_args__ = (
        CheckConstraint(_in("type", IDENTIFIER_TYPES), name="type"),
        Index("ix_identifier_type_value", "type", "value"),
        Index(
            "uq_identifier_unique_types",
            "type",
            "value",
            unique=True,
            postgresql_where=text(_in("type", UNIQUE_IDENTIFIER_TYPES)),
        ),
    )

    # Bulk imports leave the id to the server (gen_random_uuid: no Python cost per row).
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=func.gen_random_uuid()
    )
    individual_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("individual.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(24))
    # Normalised: upper case, no spaces or dashes; phones in E.164.
    value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Membership(Base):
    """Who belonged to which household, when and as what: closed, never rewritten."""

    __tablename__ = "membership"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=func.gen_random_uuid()
    )
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"), index=True)
    individual_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("individual.id"), index=True)
    relationship_to_head: Mapped[str] = mapped_column(String(24))
    started_on: Mapped[date] = mapped_column(Date)
    start_reason: Mapped[str] = mapped_column(String(24))
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(24))
    related_household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("household.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    recorded_by: Mapped[str | None] = mapped_column(String(80))


class PmtFormula(Base):
    """A proxy-means-test formula version: one model per area, as data."""

    __tablename__ = "pmt_formula"
    __table_args__ = (
        Index(
            "uq_pmt_formula_active", "is_active", unique=True, postgresql_where=text("is_active")
        ),
    )

    version: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    # {"intercept": float, "terms": [{"variable": str, "equals": str | None, "coefficient": float}]}
    urban: Mapped[dict[str, Any]] = mapped_column(JSONB)
    rural: Mapped[dict[str, Any]] = mapped_column(JSONB)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))


class PmtJob(Base):
    """Recomputing every score with a newly activated formula, in the background."""

    __tablename__ = "pmt_job"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"
        ),
        Index("ix_pmt_job_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    formula_version: Mapped[int] = mapped_column(ForeignKey("pmt_formula.version"))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    # The last household done: a job taken over after a crash resumes after it.
    last_household_id: Mapped[uuid.UUID | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Programme(Timestamps, Versioned, Base):
    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint(_in("status", PROGRAMME_STATUSES), name="status"),
        CheckConstraint(_in("benefit_period", BENEFIT_PERIODS), name="period"),
        CheckConstraint("benefit_amount >= 0", name="benefit_amount"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Eligible when predicted consumption per capita (DJF a year) is at most this.
    pmt_max_consumption: Mapped[int | None] = mapped_column(BigInteger)
    # Categorical conditions in the rule form of programmes/rules.py.
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Integer minor units of `benefit_currency` (DJF has none: francs).
    benefit_amount: Mapped[int] = mapped_column(BigInteger)
    benefit_currency: Mapped[str] = mapped_column(String(3), default="DJF")
    benefit_period: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="active")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(80))


class Enrollment(Timestamps, Versioned, Base):
    __tablename__ = "enrollment"
    __table_args__ = (
        CheckConstraint(_in("status", ENROLLMENT_STATUSES), name="status"),
        # A household is in a programme at most once at a time; after an exit it may return.
        Index(
            "uq_enrollment_current",
            "programme_id",
            "household_id",
            unique=True,
            postgresql_where=text("status <> 'exited'"),
        ),
        Index("ix_enrollment_programme_status", "programme_id", "status", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme.id"))
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("household.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="active")
    enrolled_on: Mapped[date] = mapped_column(Date)
    status_since: Mapped[date] = mapped_column(Date)
    # What the eligibility check found at enrollment (score, formula, rule outcome).
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by: Mapped[str | None] = mapped_column(String(80))
    created_by: Mapped[str | None] = mapped_column(String(80))


class EnrollmentEvent(Base):
    __tablename__ = "enrollment_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    enrollment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrollment.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class DuplicatePair(Base):
    """A probable duplicate: `individual_id` (the newer record) looks like `candidate_id`."""

    __tablename__ = "duplicate_pair"
    __table_args__ = (
        UniqueConstraint("individual_id", "candidate_id"),
        CheckConstraint("status IN ('open', 'not_duplicate', 'merged')", name="status"),
        Index("ix_duplicate_pair_status", "status", "detected_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    individual_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("individual.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("individual.id"), index=True)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    reasons: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    detected_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(AuditEventColumns, Base):
    __tablename__ = "audit_event"
    __table_args__ = AuditEventColumns.indexes("audit_event")


class IdempotencyRecord(IdempotencyRecordColumns, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (PrimaryKeyConstraint("principal", "key"),)


class ImportJob(Base):
    """A CSV or Excel file of households being imported, and what came of it."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'validating', 'importing', 'done', 'failed', 'cancelled')",
            name="status",
        ),
        CheckConstraint("mode IN ('all_or_nothing', 'valid_only')", name="mode"),
        Index("ix_import_job_status", "status", "created_at"),
        Index("ix_import_job_file_sha256", "file_sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    mode: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(BigInteger)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    households_created: Mapped[int] = mapped_column(Integer, default=0)
    individuals_created: Mapped[int] = mapped_column(Integer, default=0)
    households_skipped: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_flagged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(500))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(80))
    # The uploader's roles: the import's writes are audited as theirs.
    created_by_roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportRowError(Base):
    """One problem in one cell (or row) of an imported file, for `errors.csv`."""

    __tablename__ = "import_row_error"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_job.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    column_name: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(300))


class DataSharingAgreement(Timestamps, Versioned, Base):
    """What one partner may ask the registry and see in the answers (partners/ filters every
    answer to a partner token by it). Lists left empty (None) do not restrict."""

    __tablename__ = "data_sharing_agreement"
    __table_args__ = (
        CheckConstraint("identifiers IN ('shown', 'pseudonymised')", name="identifiers"),
        CheckConstraint("valid_to >= valid_from", name="period"),
        CheckConstraint("daily_request_quota >= 0", name="quota"),
        Index("ix_data_sharing_agreement_partner", "partner_id", "valid_from"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    allowed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    allowed_programmes: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    allowed_regions: Mapped[list[str] | None] = mapped_column(ARRAY(String(40)))
    allowed_legal_statuses: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    allowed_query_types: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    daily_request_quota: Mapped[int] = mapped_column(Integer)
    identifiers: Mapped[str] = mapped_column(String(16), default="pseudonymised")
    # With the ministry's secret, derives the partner's pseudonym key; inherited from the
    # partner's earlier agreement so its pseudonyms stay the same across renewals.
    pseudonym_salt: Mapped[str] = mapped_column(String(64))
    # DCI message signing keys: [{"kid", "algorithm": "ed25519", "public_key": base64}].
    signing_keys: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # The partner's DCI callback URIs (`header.sender_uri` of its asynchronous requests):
    # the registry posts answers and notifications to these and to nothing else. The
    # first is the default when a request names none.
    callback_uris: Mapped[list[str]] = mapped_column(
        ARRAY(String(500)), default=list, server_default="{}"
    )
    created_by: Mapped[str | None] = mapped_column(String(80))
    updated_by: Mapped[str | None] = mapped_column(String(80))


class PartnerUsage(Base):
    """Requests served and records returned under an agreement, per day (quota and
    `GET /agreements/{id}/usage`)."""

    __tablename__ = "partner_usage"
    __table_args__ = (PrimaryKeyConstraint("agreement_id", "day"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_sharing_agreement.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)


class DciMessage(Base):
    """DCI message ids seen per sender: a message sent again is refused as a replay."""

    __tablename__ = "dci_message"
    __table_args__ = (PrimaryKeyConstraint("sender_id", "message_id"),)

    sender_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128))
    transaction_id: Mapped[str | None] = mapped_column(String(99))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class DciSubscription(Base):
    """A partner's DCI subscription to registry events (registry/schema/SubscribeRequest):
    each event of its type whose household (or member) the filter and the partner's
    agreement select is notified to its callback URI."""

    __tablename__ = "dci_subscription"
    __table_args__ = (
        CheckConstraint("status IN ('subscribe', 'unsubscribe')", name="status"),
        Index(
            "ix_dci_subscription_event",
            "reg_event_type",
            postgresql_where=text("status = 'subscribe'"),
        ),
        Index("ix_dci_subscription_partner", "partner_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The standard's subscription_code, given to the partner.
    code: Mapped[str] = mapped_column(String(99), unique=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    # Who subscribed (the token's subject): the principal its notifications are read for.
    subscriber: Mapped[str] = mapped_column(String(80))
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_sharing_agreement.id", ondelete="CASCADE")
    )
    transaction_id: Mapped[str] = mapped_column(String(99))
    reference_id: Mapped[str] = mapped_column(String(99))
    reg_event_type: Mapped[str] = mapped_column(String(40))
    filter_type: Mapped[str] = mapped_column(String(16))
    filter: Mapped[Any] = mapped_column(JSONB)
    notify_record_type: Mapped[str] = mapped_column(String(16))
    callback_uri: Mapped[str] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="subscribe")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DciDelivery(Base):
    """The durable outbox of DCI callbacks: an answer to an asynchronous request
    (`on-search`, `txn-on-status`, …) or an event notification, posted signed to the
    partner's callback URI until the receiver acknowledges it (retried with exponential
    backoff; a worker claims rows with SKIP LOCKED, so no two send the same one). The
    envelope is stored unsigned: each attempt is signed when it is sent. An asynchronous
    answer's row is also its transaction's record for `txn/status`."""

    __tablename__ = "dci_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed', 'skipped')", name="status"),
        # One notification per event and subscription, however often the event is written.
        UniqueConstraint("subscription_id", "event_id"),
        Index(
            "ix_dci_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_dci_delivery_transaction", "partner_id", "transaction_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_sharing_agreement.id", ondelete="CASCADE")
    )
    # The agreement's version the answer was computed under: a changed agreement is not
    # served with what the earlier one allowed.
    agreement_version: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))
    transaction_id: Mapped[str] = mapped_column(String(99))
    correlation_id: Mapped[str] = mapped_column(String(64))
    callback_uri: Mapped[str] = mapped_column(String(500))
    # None for a notification until its first attempt: what it says is read then, under
    # the agreement as it stands (a household outside it is `skipped`, never sent).
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # A notification: the subscription it is for and the registry event it tells of
    # ({"id", "type", "household_id", "individual_id", "at"}).
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dci_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column()
    event: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchJob(Base):
    """A partner's list (WFP's, say) matched against the registry, and what came of it.

    A partner's job is matched under the agreement it was uploaded under (`agreement_id`):
    its results hold only what that agreement lets the partner see."""

    __tablename__ = "match_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'matching', 'done', 'failed')", name="status"),
        Index("ix_match_job_status", "status", "created_at"),
        Index("ix_match_job_partner", "partner_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    file_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    total_rows: Mapped[int] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    ambiguous: Mapped[int] = mapped_column(Integer, default=0)
    not_found: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(500))
    # The partner whose list it is (None: uploaded by registry staff), and its agreement.
    partner_id: Mapped[str | None] = mapped_column(String(64))
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("data_sharing_agreement.id", ondelete="SET NULL")
    )
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MatchRow(Base):
    """One row of a matched list: what the partner sent (kept until it is matched, then
    cleared) and the result, as the job's caller may see it."""

    __tablename__ = "match_row"
    __table_args__ = (PrimaryKeyConstraint("job_id", "row_number"),)

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("match_job.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    partner_ref: Mapped[str] = mapped_column(String(128))
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(String(12))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The household matched: never shown (a partner sees its pseudonym), for the audit of
    # who read the report.
    household_id: Mapped[uuid.UUID | None] = mapped_column()
