"""indicators: a snapshot keeps its labels; the frameworks tree finds latest overall values
by index

Revision ID: 0005_indexports
Revises: 0004_indicators_values
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_indexports"
down_revision: str | None = "0004_indicators_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "snapshot",
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("snapshot", "labels")
