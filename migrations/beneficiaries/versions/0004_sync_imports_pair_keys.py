"""sync changes, import jobs, duplicate pair indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:19:51.112932
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRACK_CHANGE_FUNCTION = """
CREATE FUNCTION household_track_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.version IS DISTINCT FROM OLD.version THEN
        NEW.change_txid := pg_current_xact_id()::text::bigint;
        NEW.change_seq := nextval('household_change_seq');
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("households_created", sa.Integer(), nullable=False),
        sa.Column("individuals_created", sa.Integer(), nullable=False),
        sa.Column("households_skipped", sa.Integer(), nullable=False),
        sa.Column("duplicates_flagged", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
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
            "mode IN ('all_or_nothing', 'valid_only')", name=op.f("ck_import_job_mode")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'validating', 'importing', 'done', 'failed', 'cancelled')",
            name=op.f("ck_import_job_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_index("ix_import_job_file_sha256", "import_job", ["file_sha256"], unique=False)
    op.create_index("ix_import_job_status", "import_job", ["status", "created_at"], unique=False)
    op.create_table(
        "import_row_error",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=True),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_job.id"],
            name=op.f("fk_import_row_error_job_id_import_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_row_error")),
    )
    op.create_index(
        op.f("ix_import_row_error_job_id"), "import_row_error", ["job_id"], unique=False
    )
    op.add_column("household", sa.Column("change_txid", sa.BigInteger(), nullable=True))
    op.add_column("household", sa.Column("change_seq", sa.BigInteger(), nullable=True))
    # Every new version of a household is stamped with its transaction's id and a sequence
    # number: the change feed's cursor (services/beneficiaries/sync/changes.py).
    op.execute("CREATE SEQUENCE household_change_seq")
    op.execute(TRACK_CHANGE_FUNCTION)
    op.execute(
        "CREATE TRIGGER household_track_change BEFORE INSERT OR UPDATE ON household"
        " FOR EACH ROW EXECUTE FUNCTION household_track_change()"
    )
    op.execute(
        "UPDATE household SET change_txid = pg_current_xact_id()::text::bigint,"
        " change_seq = nextval('household_change_seq')"
    )
    op.create_index(
        "ix_household_changes", "household", ["change_txid", "change_seq"], unique=False
    )
    op.create_index(
        "ix_household_region_changes",
        "household",
        ["region_code", "change_txid", "change_seq"],
        unique=False,
    )
    op.drop_index(
        op.f("ix_individual_father_key"),
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.drop_index(
        op.f("ix_individual_given_key"),
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.drop_index(
        op.f("ix_individual_grandfather_key"),
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.create_index(
        "ix_individual_father_grandfather_keys",
        "individual",
        ["father_key", "grandfather_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        "ix_individual_given_father_keys",
        "individual",
        ["given_key", "father_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        "ix_individual_given_grandfather_keys",
        "individual",
        ["given_key", "grandfather_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_individual_given_grandfather_keys",
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.drop_index(
        "ix_individual_given_father_keys",
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.drop_index(
        "ix_individual_father_grandfather_keys",
        table_name="individual",
        postgresql_include=["id", "status"],
    )
    op.create_index(
        op.f("ix_individual_grandfather_key"),
        "individual",
        ["grandfather_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        op.f("ix_individual_given_key"),
        "individual",
        ["given_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.create_index(
        op.f("ix_individual_father_key"),
        "individual",
        ["father_key", "sex", "birth_year"],
        unique=False,
        postgresql_include=["id", "status"],
    )
    op.drop_index("ix_household_region_changes", table_name="household")
    op.drop_index("ix_household_changes", table_name="household")
    op.execute("DROP TRIGGER household_track_change ON household")
    op.execute("DROP FUNCTION household_track_change()")
    op.execute("DROP SEQUENCE household_change_seq")
    op.drop_column("household", "change_seq")
    op.drop_column("household", "change_txid")
    op.drop_index(op.f("ix_import_row_error_job_id"), table_name="import_row_error")
    op.drop_table("import_row_error")
    op.drop_index("ix_import_job_status", table_name="import_job")
    op.drop_index("ix_import_job_file_sha256", table_name="import_job")
    op.drop_table("import_job")
