"""registry

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:21:09.514030
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("household_number_seq")))
    op.create_table(
        "admin_area",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("is_refugee_village", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_admin_area_level")),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["admin_area.code"], name=op.f("fk_admin_area_parent_code_admin_area")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_admin_area")),
    )
    op.create_index(op.f("ix_admin_area_parent_code"), "admin_area", ["parent_code"], unique=False)
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("resource_type", sa.String(length=24), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_actor", "audit_event", ["actor", "at"], unique=False)
    op.create_index("ix_audit_event_at", "audit_event", ["at", "id"], unique=False)
    op.create_index("ix_audit_event_resource", "audit_event", ["resource_id", "at"], unique=False)
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_record")),
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"], unique=False
    )
    op.create_table(
        "pmt_formula",
        sa.Column("version", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("urban", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rural", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_pmt_formula")),
    )
    op.create_index(
        "uq_pmt_formula_active",
        "pmt_formula",
        ["is_active"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "programme",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("pmt_max_consumption", sa.BigInteger(), nullable=True),
        sa.Column("eligibility", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("benefit_amount", sa.BigInteger(), nullable=False),
        sa.Column("benefit_currency", sa.String(length=3), nullable=False),
        sa.Column("benefit_period", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "benefit_period IN ('monthly', 'quarterly', 'yearly', 'one_off')",
            name=op.f("ck_programme_period"),
        ),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_programme_status")),
        sa.CheckConstraint("benefit_amount >= 0", name=op.f("ck_programme_benefit_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("code", name=op.f("uq_programme_code")),
    )
    op.create_table(
        "household",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "registry_number",
            sa.String(length=20),
            server_default=sa.text(
                "'DJ-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('household_number_seq')::text, 6, '0')"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("commune_code", sa.String(length=40), nullable=False),
        sa.Column("locality_code", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("gps_latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("gps_longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("dwelling_type", sa.String(length=32), nullable=True),
        sa.Column("tenure", sa.String(length=32), nullable=True),
        sa.Column("wall_material", sa.String(length=32), nullable=True),
        sa.Column("roof_material", sa.String(length=32), nullable=True),
        sa.Column("floor_material", sa.String(length=32), nullable=True),
        sa.Column("rooms", sa.SmallInteger(), nullable=True),
        sa.Column("water_source", sa.String(length=32), nullable=True),
        sa.Column("sanitation", sa.String(length=32), nullable=True),
        sa.Column("lighting", sa.String(length=32), nullable=True),
        sa.Column("cooking_fuel", sa.String(length=32), nullable=True),
        sa.Column("assets", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("shocks", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("displacement_status", sa.String(length=24), nullable=False),
        sa.Column("registration_source", sa.String(length=16), nullable=False),
        sa.Column("registration_date", sa.Date(), nullable=False),
        sa.Column("enumerator_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("submission_id", sa.String(length=128), nullable=True),
        sa.Column("source_partner_id", sa.String(length=64), nullable=True),
        sa.Column("consent_given", sa.Boolean(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("consent_scope", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("consent_method", sa.String(length=16), nullable=True),
        sa.Column("consent_notice_version", sa.String(length=16), nullable=True),
        sa.Column("member_count", sa.SmallInteger(), nullable=False),
        sa.Column("pmt_score", sa.Numeric(precision=8, scale=5), nullable=True),
        sa.Column("pmt_formula_version", sa.Integer(), nullable=True),
        sa.Column("pmt_computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("area IN ('urban', 'rural')", name=op.f("ck_household_area")),
        sa.CheckConstraint(
            "status IN ('active', 'merged', 'dissolved')", name=op.f("ck_household_status")
        ),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["admin_area.code"], name=op.f("fk_household_commune_code_admin_area")
        ),
        sa.ForeignKeyConstraint(
            ["locality_code"],
            ["admin_area.code"],
            name=op.f("fk_household_locality_code_admin_area"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["household.id"], name=op.f("fk_household_merged_into_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["pmt_formula_version"],
            ["pmt_formula.version"],
            name=op.f("fk_household_pmt_formula_version_pmt_formula"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["admin_area.code"], name=op.f("fk_household_region_code_admin_area")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
        sa.UniqueConstraint("registry_number", name=op.f("uq_household_registry_number")),
    )
    op.create_index(
        "ix_household_region_locality", "household", ["region_code", "locality_code"], unique=False
    )
    op.create_index(
        op.f("ix_household_registration_date"), "household", ["registration_date"], unique=False
    )
    op.create_index(
        "uq_household_submission",
        "household",
        ["registration_source", "submission_id"],
        unique=True,
        postgresql_where=sa.text("submission_id IS NOT NULL"),
    )
    op.create_table(
        "pmt_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("formula_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("last_household_id", sa.Uuid(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name=op.f("ck_pmt_job_status"),
        ),
        sa.ForeignKeyConstraint(
            ["formula_version"],
            ["pmt_formula.version"],
            name=op.f("fk_pmt_job_formula_version_pmt_formula"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pmt_job")),
    )
    op.create_index("ix_pmt_job_status", "pmt_job", ["status", "created_at"], unique=False)
    op.create_table(
        "enrollment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=False),
        sa.Column("eligibility", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden_by", sa.String(length=80), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'exited')", name=op.f("ck_enrollment_status")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_enrollment_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_enrollment_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment")),
    )
    op.create_index(
        op.f("ix_enrollment_household_id"), "enrollment", ["household_id"], unique=False
    )
    op.create_index(
        "ix_enrollment_programme_status",
        "enrollment",
        ["programme_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        "uq_enrollment_current",
        "enrollment",
        ["programme_id", "household_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'exited'"),
    )
    op.create_table(
        "individual",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("relationship_to_head", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("father_name", sa.String(length=100), nullable=True),
        sa.Column("grandfather_name", sa.String(length=100), nullable=True),
        sa.Column("name_folded", sa.String(length=320), nullable=False),
        sa.Column("given_key", sa.String(length=40), nullable=False),
        sa.Column("father_key", sa.String(length=40), nullable=True),
        sa.Column("grandfather_key", sa.String(length=40), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("birth_date_estimated", sa.Boolean(), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=False),
        sa.Column("legal_status", sa.String(length=16), nullable=False),
        sa.Column("nationality", sa.String(length=2), nullable=True),
        sa.Column("country_of_origin", sa.String(length=2), nullable=True),
        sa.Column("disability", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("has_disability", sa.Boolean(), nullable=False),
        sa.Column("pregnant", sa.Boolean(), nullable=False),
        sa.Column("lactating", sa.Boolean(), nullable=False),
        sa.Column("education_level", sa.String(length=16), nullable=True),
        sa.Column("occupation", sa.String(length=100), nullable=True),
        sa.Column("deceased_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "legal_status IN ('national', 'refugee', 'asylum_seeker', 'migrant', 'other')",
            name=op.f("ck_individual_legal_status"),
        ),
        sa.CheckConstraint("sex IN ('F', 'M')", name=op.f("ck_individual_sex")),
        sa.CheckConstraint(
            "status IN ('active', 'left', 'deceased', 'merged')", name=op.f("ck_individual_status")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_individual_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["individual.id"],
            name=op.f("fk_individual_merged_into_id_individual"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_individual")),
    )
    op.create_index(
        "ix_individual_father_key",
        "individual",
        ["father_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        "ix_individual_given_key",
        "individual",
        ["given_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        "ix_individual_grandfather_key",
        "individual",
        ["grandfather_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        op.f("ix_individual_household_id"), "individual", ["household_id"], unique=False
    )
    op.create_index("ix_individual_name_order", "individual", ["name_folded", "id"], unique=False)
    op.create_index(
        "uq_individual_household_head",
        "individual",
        ["household_id"],
        unique=True,
        postgresql_where=sa.text("relationship_to_head = 'head' AND status = 'active'"),
    )
    op.create_table(
        "duplicate_pair",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("individual_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "detected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'not_duplicate', 'merged')", name=op.f("ck_duplicate_pair_status")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["individual.id"],
            name=op.f("fk_duplicate_pair_candidate_id_individual"),
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individual.id"],
            name=op.f("fk_duplicate_pair_individual_id_individual"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pair")),
        sa.UniqueConstraint(
            "individual_id",
            "candidate_id",
            name=op.f("uq_duplicate_pair_individual_id_candidate_id"),
        ),
    )
    op.create_index(
        op.f("ix_duplicate_pair_candidate_id"), "duplicate_pair", ["candidate_id"], unique=False
    )
    op.create_index(
        "ix_duplicate_pair_status", "duplicate_pair", ["status", "detected_at", "id"], unique=False
    )
    op.create_table(
        "enrollment_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enrollment_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollment.id"],
            name=op.f("fk_enrollment_event_enrollment_id_enrollment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_event")),
    )
    op.create_index(
        op.f("ix_enrollment_event_enrollment_id"),
        "enrollment_event",
        ["enrollment_id"],
        unique=False,
    )
    op.create_table(
        "identifier",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("individual_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "type IN ('national_id', 'birth_certificate', 'unhcr_individual', 'wfp_scope', 'unhcr_case', 'phone')",
            name=op.f("ck_identifier_type"),
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individual.id"],
            name=op.f("fk_identifier_individual_id_individual"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier")),
    )
    op.create_index(
        op.f("ix_identifier_individual_id"), "identifier", ["individual_id"], unique=False
    )
    op.create_index("ix_identifier_type_value", "identifier", ["type", "value"], unique=False)
    op.create_index(
        "uq_identifier_unique_types",
        "identifier",
        ["type", "value"],
        unique=True,
        postgresql_where=sa.text(
            "type IN ('national_id', 'birth_certificate', 'unhcr_individual', 'wfp_scope')"
        ),
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("individual_id", sa.Uuid(), nullable=False),
        sa.Column("relationship_to_head", sa.String(length=24), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("start_reason", sa.String(length=24), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=24), nullable=True),
        sa.Column("related_household_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_membership_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["individual_id"],
            ["individual.id"],
            name=op.f("fk_membership_individual_id_individual"),
        ),
        sa.ForeignKeyConstraint(
            ["related_household_id"],
            ["household.id"],
            name=op.f("fk_membership_related_household_id_household"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
    )
    op.create_index(
        op.f("ix_membership_household_id"), "membership", ["household_id"], unique=False
    )
    op.create_index(
        op.f("ix_membership_individual_id"), "membership", ["individual_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_membership_individual_id"), table_name="membership")
    op.drop_index(op.f("ix_membership_household_id"), table_name="membership")
    op.drop_table("membership")
    op.drop_index(
        "uq_identifier_unique_types",
        table_name="identifier",
        postgresql_where=sa.text(
            "type IN ('national_id', 'birth_certificate', 'unhcr_individual', 'wfp_scope')"
        ),
    )
    op.drop_index("ix_identifier_type_value", table_name="identifier")
    op.drop_index(op.f("ix_identifier_individual_id"), table_name="identifier")
    op.drop_table("identifier")
    op.drop_index(op.f("ix_enrollment_event_enrollment_id"), table_name="enrollment_event")
    op.drop_table("enrollment_event")
    op.drop_index("ix_duplicate_pair_status", table_name="duplicate_pair")
    op.drop_index(op.f("ix_duplicate_pair_candidate_id"), table_name="duplicate_pair")
    op.drop_table("duplicate_pair")
    op.drop_index(
        "uq_individual_household_head",
        table_name="individual",
        postgresql_where=sa.text("relationship_to_head = 'head' AND status = 'active'"),
    )
    op.drop_index("ix_individual_name_order", table_name="individual")
    op.drop_index(op.f("ix_individual_household_id"), table_name="individual")
    op.drop_index("ix_individual_grandfather_key", table_name="individual")
    op.drop_index("ix_individual_given_key", table_name="individual")
    op.drop_index("ix_individual_father_key", table_name="individual")
    op.drop_table("individual")
    op.drop_index(
        "uq_enrollment_current",
        table_name="enrollment",
        postgresql_where=sa.text("status <> 'exited'"),
    )
    op.drop_index("ix_enrollment_programme_status", table_name="enrollment")
    op.drop_index(op.f("ix_enrollment_household_id"), table_name="enrollment")
    op.drop_table("enrollment")
    op.drop_index("ix_pmt_job_status", table_name="pmt_job")
    op.drop_table("pmt_job")
    op.drop_index(
        "uq_household_submission",
        table_name="household",
        postgresql_where=sa.text("submission_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_household_registration_date"), table_name="household")
    op.drop_index("ix_household_region_locality", table_name="household")
    op.drop_table("household")
    op.drop_table("programme")
    op.drop_index(
        "uq_pmt_formula_active", table_name="pmt_formula", postgresql_where=sa.text("is_active")
    )
    op.drop_table("pmt_formula")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_index("ix_audit_event_resource", table_name="audit_event")
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index(op.f("ix_admin_area_parent_code"), table_name="admin_area")
    op.drop_table("admin_area")
    op.execute(sa.schema.DropSequence(sa.Sequence("household_number_seq")))
