"""DCI asynchronous exchange: partners' callback URIs and the durable callback outbox

Revision ID: 0011_dciasync_callbacks
Revises: 0010_wfp_matching
Create Date: 2026-12-03 15:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_dciasync_callbacks"
down_revision: str | None = "0010_wfp_matching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "data_sharing_agreement",
        sa.Column(
            "callback_uris",
            postgresql.ARRAY(sa.String(length=500)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "dci_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("transaction_id", sa.String(length=99), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("callback_uri", sa.String(length=500), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_dci_delivery_status")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["data_sharing_agreement.id"],
            name=op.f("fk_dci_delivery_agreement_id_data_sharing_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_delivery")),
    )
    op.create_index(
        "ix_dci_delivery_due",
        "dci_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_dci_delivery_transaction", "dci_delivery", ["partner_id", "transaction_id"])


def downgrade() -> None:
    op.drop_index("ix_dci_delivery_transaction", table_name="dci_delivery")
    op.drop_index("ix_dci_delivery_due", table_name="dci_delivery")
    op.drop_table("dci_delivery")
    op.drop_column("data_sharing_agreement", "callback_uris")
