"""partners, projects, agreements, transactions, rates, payment cycles

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:27:45.414481
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
    op.execute(sa.schema.CreateSequence(sa.Sequence("payment_cycle_number_seq")))
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
        "exchange_rate",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint("currency <> 'DJF'", name=op.f("ck_exchange_rate_not_djf")),
        sa.CheckConstraint("rate_to_djf > 0", name=op.f("ck_exchange_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rate")),
        sa.UniqueConstraint(
            "currency", "rate_date", name=op.f("uq_exchange_rate_currency_rate_date")
        ),
    )
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
        "organisation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iati_identifier", sa.String(length=100), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "type IN ('multilateral', 'un_agency', 'bilateral', 'ngo', 'government', 'payment_provider')",
            name=op.f("ck_organisation_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("iati_identifier", name=op.f("uq_organisation_iati_identifier")),
        sa.UniqueConstraint("partner_id", name=op.f("uq_organisation_partner_id")),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iati_identifier", sa.String(length=150), nullable=False),
        sa.Column("reporting_org_id", sa.Uuid(), nullable=False),
        sa.Column("title_fr", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("sector_code", sa.String(length=5), nullable=False),
        sa.Column("recipient_country", sa.String(length=2), nullable=False),
        sa.Column("programme_codes", postgresql.ARRAY(sa.String(length=32)), nullable=False),
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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status BETWEEN 1 AND 6", name=op.f("ck_project_status")),
        sa.ForeignKeyConstraint(
            ["reporting_org_id"],
            ["organisation.id"],
            name=op.f("fk_project_reporting_org_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("iati_identifier", name=op.f("uq_project_iati_identifier")),
    )
    op.create_table(
        "agreement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("funder_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("committed_minor", sa.BigInteger(), nullable=False),
        sa.Column("signed_date", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("received_minor", sa.BigInteger(), nullable=False),
        sa.Column("reserved_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("committed_djf_minor", sa.BigInteger(), nullable=False),
        sa.Column("committed_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("usd_rate_date", sa.Date(), nullable=False),
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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'closed', 'cancelled')", name=op.f("ck_agreement_status")
        ),
        sa.CheckConstraint("committed_minor > 0", name=op.f("ck_agreement_committed")),
        sa.CheckConstraint(
            "reserved_minor + paid_minor <= received_minor", name=op.f("ck_agreement_funded")
        ),
        sa.CheckConstraint(
            "reserved_minor >= 0 AND paid_minor >= 0", name=op.f("ck_agreement_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["funder_id"], ["organisation.id"], name=op.f("fk_agreement_funder_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_agreement_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement")),
        sa.UniqueConstraint("reference", name=op.f("uq_agreement_reference")),
    )
    op.create_index(op.f("ix_agreement_funder_id"), "agreement", ["funder_id"], unique=False)
    op.create_index(op.f("ix_agreement_project_id"), "agreement", ["project_id"], unique=False)
    op.create_table(
        "participant",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("role BETWEEN 1 AND 4", name=op.f("ck_participant_role")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_participant_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_participant_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "organisation_id", "role", name=op.f("pk_participant")
        ),
    )
    op.create_index(
        op.f("ix_participant_organisation_id"), "participant", ["organisation_id"], unique=False
    )
    op.create_table(
        "payment_cycle",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "reference",
            sa.String(length=20),
            server_default=sa.text(
                "'PC-' || to_char(now(), 'YYYY') || '-' || lpad(nextval('payment_cycle_number_seq')::text, 5, '0')"
            ),
            nullable=False,
        ),
        sa.Column("programme_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("payment_provider_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("benefit_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("build_status", sa.String(length=10), nullable=False),
        sa.Column("build_message", sa.String(length=500), nullable=True),
        sa.Column("build_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("build_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("build_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrollments_read", sa.Integer(), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("excluded", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cycle_rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("agreement_rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=True),
        sa.Column("reserved_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
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
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "build_status IN ('queued', 'building', 'built', 'failed')",
            name=op.f("ck_payment_cycle_build_status"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'sent', 'reconciling', 'closed', 'cancelled')",
            name=op.f("ck_payment_cycle_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreement.id"], name=op.f("fk_payment_cycle_agreement_id_agreement")
        ),
        sa.ForeignKeyConstraint(
            ["payment_provider_id"],
            ["organisation.id"],
            name=op.f("fk_payment_cycle_payment_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_cycle")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_cycle_reference")),
    )
    op.create_index(
        op.f("ix_payment_cycle_agreement_id"), "payment_cycle", ["agreement_id"], unique=False
    )
    op.create_index(
        "ix_payment_cycle_build", "payment_cycle", ["build_status", "created_at"], unique=False
    )
    op.create_index(
        "ix_payment_cycle_programme_period",
        "payment_cycle",
        ["programme_code", "period"],
        unique=False,
    )
    op.create_table(
        "tranche",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_tranche_amount")),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_tranche_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tranche")),
    )
    op.create_index(op.f("ix_tranche_agreement_id"), "tranche", ["agreement_id"], unique=False)
    op.create_table(
        "payment_line",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("cycle_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("programme_code", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("registry_number", sa.String(length=20), nullable=False),
        sa.Column("enrollment_id", sa.Uuid(), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=True),
        sa.Column("payee_given_name", sa.String(length=100), nullable=True),
        sa.Column("payee_father_name", sa.String(length=100), nullable=True),
        sa.Column("payee_grandfather_name", sa.String(length=100), nullable=True),
        sa.Column("payee_phone", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("locality_code", sa.String(length=40), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'reversed', 'cancelled')",
            name=op.f("ck_payment_line_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_line_amount")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["payment_cycle.id"], name=op.f("fk_payment_line_cycle_id_payment_cycle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_line")),
        sa.UniqueConstraint("cycle_id", "line_no", name=op.f("uq_payment_line_cycle_id_line_no")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_line_reference")),
    )
    op.create_index(
        "uq_payment_line_household_period",
        "payment_line",
        ["programme_code", "period", "household_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'paid')"),
    )
    op.create_table(
        "reconciliation_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cycle_id", sa.Uuid(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["payment_cycle.id"],
            name=op.f("fk_reconciliation_report_cycle_id_payment_cycle"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_report")),
        sa.UniqueConstraint(
            "cycle_id", "file_sha256", name=op.f("uq_reconciliation_report_cycle_id_file_sha256")
        ),
    )
    op.create_index(
        op.f("ix_reconciliation_report_cycle_id"),
        "reconciliation_report",
        ["cycle_id"],
        unique=False,
    )
    op.create_table(
        "transaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("transaction_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_djf_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_to_djf", sa.Numeric(precision=20, scale=10), nullable=False),
        sa.Column("usd_rate_date", sa.Date(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("provider_org_id", sa.Uuid(), nullable=True),
        sa.Column("receiver_org_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("payment_cycle_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_transaction_amount")),
        sa.CheckConstraint("type IN (1, 2, 3, 4, 11, 12, 13)", name=op.f("ck_transaction_type")),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreement.id"], name=op.f("fk_transaction_agreement_id_agreement")
        ),
        sa.ForeignKeyConstraint(
            ["payment_cycle_id"],
            ["payment_cycle.id"],
            name=op.f("fk_transaction_payment_cycle_id_payment_cycle"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_transaction_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"],
            ["organisation.id"],
            name=op.f("fk_transaction_provider_org_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["receiver_org_id"],
            ["organisation.id"],
            name=op.f("fk_transaction_receiver_org_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["transaction.id"], name=op.f("fk_transaction_reverses_id_transaction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_transaction_reverses_id")),
    )
    op.create_index(
        op.f("ix_transaction_agreement_id"), "transaction", ["agreement_id"], unique=False
    )
    op.create_index(
        op.f("ix_transaction_payment_cycle_id"), "transaction", ["payment_cycle_id"], unique=False
    )
    op.create_index(op.f("ix_transaction_project_id"), "transaction", ["project_id"], unique=False)
    op.create_index("ix_transaction_value_date", "transaction", ["value_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transaction_value_date", table_name="transaction")
    op.drop_index(op.f("ix_transaction_project_id"), table_name="transaction")
    op.drop_index(op.f("ix_transaction_payment_cycle_id"), table_name="transaction")
    op.drop_index(op.f("ix_transaction_agreement_id"), table_name="transaction")
    op.drop_table("transaction")
    op.drop_index(op.f("ix_reconciliation_report_cycle_id"), table_name="reconciliation_report")
    op.drop_table("reconciliation_report")
    op.drop_index(
        "uq_payment_line_household_period",
        table_name="payment_line",
        postgresql_where=sa.text("status IN ('pending', 'paid')"),
    )
    op.drop_table("payment_line")
    op.drop_index(op.f("ix_tranche_agreement_id"), table_name="tranche")
    op.drop_table("tranche")
    op.drop_index("ix_payment_cycle_programme_period", table_name="payment_cycle")
    op.drop_index("ix_payment_cycle_build", table_name="payment_cycle")
    op.drop_index(op.f("ix_payment_cycle_agreement_id"), table_name="payment_cycle")
    op.drop_table("payment_cycle")
    op.drop_index(op.f("ix_participant_organisation_id"), table_name="participant")
    op.drop_table("participant")
    op.drop_index(op.f("ix_agreement_project_id"), table_name="agreement")
    op.drop_index(op.f("ix_agreement_funder_id"), table_name="agreement")
    op.drop_table("agreement")
    op.drop_table("project")
    op.drop_table("organisation")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_table("exchange_rate")
    op.drop_index("ix_audit_event_resource", table_name="audit_event")
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_index("ix_audit_event_actor", table_name="audit_event")
    op.drop_table("audit_event")
    op.execute(sa.schema.DropSequence(sa.Sequence("payment_cycle_number_seq")))
