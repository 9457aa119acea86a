"""shared rate limit

Each recent caller's place in the rate limit, shared by every gateway process (it was kept
in each process's memory). UNLOGGED: see `services.gateway.models.RateLimit`.

Revision ID: 0003_replicas_rate_limit
Revises: 0002
Create Date: 2026-12-04 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_replicas_rate_limit"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit",
        sa.Column("caller", sa.String(length=100), nullable=False),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("caller", name=op.f("pk_rate_limit")),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_limit")
