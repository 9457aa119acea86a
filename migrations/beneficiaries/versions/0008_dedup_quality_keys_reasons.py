"""name keys recomputed (French "cou" is "ku": Yacoub / Yaqub), pair reasons itemised

Revision ID: 0008_dedup_quality
Revises: 0007_retries
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.beneficiaries.names import phonetic_key

revision: str = "0008_dedup_quality"
down_revision: str | None = "0007_retries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = ("given", "father", "grandfather")


def upgrade() -> None:
    bind = op.get_bind()
    # Only names with a c can have changed key; the keys are the live code's, which the
    # lookups and name search compute for what they are asked.
    rows = bind.execute(
        sa.text(
            "SELECT id, given_name, father_name, grandfather_name,"
            " given_key, father_key, grandfather_key FROM individual"
            " WHERE concat(given_name, father_name, grandfather_name) ~* '[cç]'"
        )
    ).all()
    changed = []
    for row in rows:
        keys = [phonetic_key(name) or None for name in row[1:4]]
        keys[0] = keys[0] or ""
        if tuple(keys) != tuple(row[4:7]):
            changed.append({"id": row[0], **dict(zip(PARTS, keys, strict=True))})
    if changed:
        bind.execute(
            sa.text(
                "UPDATE individual SET given_key = :given, father_key = :father,"
                " grandfather_key = :grandfather WHERE id = :id"
            ),
            changed,
        )
    # Pairs flagged before their reasons were itemised keep what they had, as a summary.
    op.execute(
        """
        UPDATE duplicate_pair SET reasons = jsonb_build_object(
            'log_odds', 0, 'ruled_out', false, 'evidence', '[]'::jsonb,
            'summary', 'scored before reasons were itemised: ' || reasons::text)
        WHERE NOT reasons ? 'evidence'
        """
    )


def downgrade() -> None:
    # The keys stay as they are (the older rule cannot be recomputed here); the reasons'
    # new shape is a superset the older code ignores.
    pass
