"""members keep the place in the household's list they were registered at

Revision ID: 0007_retries
Revises: 0006
Create Date: 2026-12-02 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_retries"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("individual", sa.Column("roster_position", sa.SmallInteger(), nullable=True))
    # Households registered before keep the order they were answered in: head first, then
    # by birth date.
    op.execute(
        """
        UPDATE individual i SET roster_position = o.position
        FROM (
            SELECT id, row_number() OVER (
                PARTITION BY household_id
                ORDER BY relationship_to_head <> 'head', birth_date, id) AS position
            FROM individual WHERE household_id IS NOT NULL AND status = 'active'
        ) o
        WHERE i.id = o.id
        """
    )


def downgrade() -> None:
    op.drop_column("individual", "roster_position")
