"""name search indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:09:12.616705
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_individual_father_key_name",
        "individual",
        ["father_key", "name_folded", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_individual_given_key_name",
        "individual",
        ["given_key", "name_folded", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_individual_grandfather_key_name",
        "individual",
        ["grandfather_key", "name_folded", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_individual_grandfather_key_name",
        table_name="individual",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(
        "ix_individual_given_key_name",
        table_name="individual",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(
        "ix_individual_father_key_name",
        table_name="individual",
        postgresql_where=sa.text("status = 'active'"),
    )
