"""DCI asynchronous exchange: partners' callback URIs, subscriptions, the callback outbox

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
        "dci_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=99), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("subscriber", sa.String(length=80), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.String(length=99), nullable=False),
        sa.Column("reference_id", sa.String(length=99), nullable=False),
        sa.Column("reg_event_type", sa.String(length=40), nullable=False),
        sa.Column("filter_type", sa.String(length=16), nullable=False),
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("notify_record_type", sa.String(length=16), nullable=False),
        sa.Column("callback_uri", sa.String(length=500), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('subscribe', 'unsubscribe')", name=op.f("ck_dci_subscription_status")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["data_sharing_agreement.id"],
            name=op.f("fk_dci_subscription_agreement_id_data_sharing_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_subscription")),
        sa.UniqueConstraint("code", name=op.f("uq_dci_subscription_code")),
    )
    op.create_index(
        "ix_dci_subscription_event",
        "dci_subscription",
        ["reg_event_type"],
        postgresql_where=sa.text("status = 'subscribe'"),
    )
    op.create_index("ix_dci_subscription_partner", "dci_subscription", ["partner_id", "created_at"])
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
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
            "status IN ('pending', 'delivered', 'failed', 'skipped')",
            name=op.f("ck_dci_delivery_status"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["dci_subscription.id"],
            name=op.f("fk_dci_delivery_subscription_id_dci_subscription"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscription_id", "event_id", name=op.f("uq_dci_delivery_subscription_id_event_id")
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
    op.drop_index("ix_dci_subscription_partner", table_name="dci_subscription")
    op.drop_index("ix_dci_subscription_event", table_name="dci_subscription")
    op.drop_table("dci_subscription")
    op.drop_column("data_sharing_agreement", "callback_uris")
