"""server-generated ids for memberships and identifiers (bulk imports leave them out)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("membership", "identifier"):
        op.alter_column(table, "id", server_default=sa.text("gen_random_uuid()"))


def downgrade() -> None:
    for table in ("membership", "identifier"):
        op.alter_column(table, "id", server_default=None)
