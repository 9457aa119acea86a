"""import jobs remember their uploader's roles

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Jobs uploaded before this were recorded as a data manager's: keep that for them.
    op.add_column(
        "import_job",
        sa.Column(
            "created_by_roles",
            postgresql.ARRAY(sa.String(length=32)),
            nullable=False,
            server_default=sa.text("'{data_manager}'"),
        ),
    )
    op.alter_column("import_job", "created_by_roles", server_default=None)


def downgrade() -> None:
    op.drop_column("import_job", "created_by_roles")
