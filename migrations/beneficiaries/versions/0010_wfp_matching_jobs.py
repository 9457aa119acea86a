"""partner lists matched against the registry: their jobs and rows

Revision ID: 0010_wfp_matching
Revises: 0009_partner_exchange
Create Date: 2026-12-03 07:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_wfp_matching"
down_revision: str | None = "0009_partner_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("ambiguous", sa.Integer(), nullable=False),
        sa.Column("not_found", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
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
            "status IN ('queued', 'matching', 'done', 'failed')", name=op.f("ck_match_job_status")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["data_sharing_agreement.id"],
            name=op.f("fk_match_job_agreement_id_data_sharing_agreement"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_job")),
    )
    op.create_index("ix_match_job_status", "match_job", ["status", "created_at"])
    op.create_index("ix_match_job_partner", "match_job", ["partner_id", "created_at"])
    op.create_table(
        "match_row",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("partner_ref", sa.String(length=128), nullable=False),
        sa.Column("submitted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["match_job.id"],
            name=op.f("fk_match_row_job_id_match_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "row_number", name=op.f("pk_match_row")),
    )


def downgrade() -> None:
    op.drop_table("match_row")
    op.drop_index("ix_match_job_partner", table_name="match_job")
    op.drop_index("ix_match_job_status", table_name="match_job")
    op.drop_table("match_job")
