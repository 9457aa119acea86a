"""data-sharing agreements, their daily usage, and DCI message ids seen (replays)

Revision ID: 0009_partner_exchange
Revises: 0008_dedup_quality
Create Date: 2026-12-03 06:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_partner_exchange"
down_revision: str | None = "0008_dedup_quality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_sharing_agreement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("allowed_fields", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("allowed_programmes", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("allowed_regions", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column("allowed_legal_statuses", postgresql.ARRAY(sa.String(length=16)), nullable=True),
        sa.Column("allowed_query_types", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("daily_request_quota", sa.Integer(), nullable=False),
        sa.Column("identifiers", sa.String(length=16), nullable=False),
        sa.Column("pseudonym_salt", sa.String(length=64), nullable=False),
        sa.Column("signing_keys", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "identifiers IN ('shown', 'pseudonymised')",
            name=op.f("ck_data_sharing_agreement_identifiers"),
        ),
        sa.CheckConstraint("valid_to >= valid_from", name=op.f("ck_data_sharing_agreement_period")),
        sa.CheckConstraint(
            "daily_request_quota >= 0", name=op.f("ck_data_sharing_agreement_quota")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_sharing_agreement")),
    )
    op.create_index(
        "ix_data_sharing_agreement_partner",
        "data_sharing_agreement",
        ["partner_id", "valid_from"],
    )
    op.create_table(
        "partner_usage",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["data_sharing_agreement.id"],
            name=op.f("fk_partner_usage_agreement_id_data_sharing_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "day", name=op.f("pk_partner_usage")),
    )
    op.create_table(
        "dci_message",
        sa.Column("sender_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("transaction_id", sa.String(length=99), nullable=True),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("sender_id", "message_id", name=op.f("pk_dci_message")),
    )
    op.create_index(
        op.f("ix_dci_message_received_at"), "dci_message", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dci_message_received_at"), table_name="dci_message")
    op.drop_table("dci_message")
    op.drop_table("partner_usage")
    op.drop_index("ix_data_sharing_agreement_partner", table_name="data_sharing_agreement")
    op.drop_table("data_sharing_agreement")
