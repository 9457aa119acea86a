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
    op.add_column(
        "snapshot_value",
        sa.Column("overall", sa.Boolean(), server_default="false", nullable=False),
    )
    op.execute("UPDATE snapshot_value SET overall = (body -> 'cell' = '{}'::jsonb)")
    op.create_index(
        "ix_snapshot_value_overall",
        "snapshot_value",
        ["indicator", "snapshot_id"],
        postgresql_where=sa.text("overall"),
    )


def downgrade() -> None:
    op.drop_index("ix_snapshot_value_overall", table_name="snapshot_value")
    op.drop_column("snapshot_value", "overall")
    op.drop_column("snapshot", "labels")
