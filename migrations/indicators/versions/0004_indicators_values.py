"""indicators: baselines and targets, the direction of definitions, snapshots of values

Revision ID: 0004_indicators_values
Revises: 0003_indicators_plan
Create Date: 2026-12-03 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_indicators_values"
down_revision: str | None = "0003_indicators_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "indicator_version",
        sa.Column("direction", sa.String(length=10), server_default="increase", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_indicator_version_direction"),
        "indicator_version",
        "direction IN ('increase', 'decrease')",
    )
    op.create_table(
        "indicator_milestone",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("indicator_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("cell", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value", sa.Numeric(precision=30, scale=6), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "kind IN ('baseline', 'target')", name=op.f("ck_indicator_milestone_kind")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
            name=op.f("fk_indicator_milestone_indicator_id_indicator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_milestone")),
        sa.UniqueConstraint(
            "indicator_id",
            "kind",
            "year",
            "cell",
            name=op.f("uq_indicator_milestone_indicator_id_kind_year_cell"),
        ),
    )
    op.create_index(
        op.f("ix_indicator_milestone_indicator_id"),
        "indicator_milestone",
        ["indicator_id"],
        unique=False,
    )
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("indicators", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_snapshot_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
    )
    op.create_index("ix_snapshot_period", "snapshot", ["period", "finished_at"], unique=False)
    op.create_index("ix_snapshot_status", "snapshot", ["status", "created_at"], unique=False)
    op.create_table(
        "snapshot_value",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshot.id"], name=op.f("fk_snapshot_value_snapshot_id_snapshot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_value")),
    )
    op.create_index(
        op.f("ix_snapshot_value_snapshot_id"), "snapshot_value", ["snapshot_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_snapshot_value_snapshot_id"), table_name="snapshot_value")
    op.drop_table("snapshot_value")
    op.drop_index("ix_snapshot_status", table_name="snapshot")
    op.drop_index("ix_snapshot_period", table_name="snapshot")
    op.drop_table("snapshot")
    op.drop_index(op.f("ix_indicator_milestone_indicator_id"), table_name="indicator_milestone")
    op.drop_table("indicator_milestone")
    op.drop_constraint(op.f("ck_indicator_version_direction"), "indicator_version", type_="check")
    op.drop_column("indicator_version", "direction")
