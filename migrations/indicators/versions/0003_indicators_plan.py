"""indicators: programmes and projects of objectives, priority action plans

Revision ID: 0003_indicators_plan
Revises: 0002
Create Date: 2026-12-03 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_indicators_plan"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.add_column(
        "objective",
        sa.Column(
            "programmes",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "objective",
        sa.Column(
            "projects",
            postgresql.ARRAY(sa.String(length=150)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("strategy_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_fr", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("start_year", sa.SmallInteger(), nullable=False),
        sa.Column("end_year", sa.SmallInteger(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("end_year >= start_year", name=op.f("ck_plan_years")),
        sa.ForeignKeyConstraint(
            ["strategy_id"], ["strategy.id"], name=op.f("fk_plan_strategy_id_strategy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_plan_code")),
    )
    op.create_index(op.f("ix_plan_strategy_id"), "plan", ["strategy_id"], unique=False)
    op.create_table(
        "plan_action",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("objective_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_fr", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("responsible", sa.String(length=100), nullable=False),
        sa.Column("start_year", sa.SmallInteger(), nullable=False),
        sa.Column("end_year", sa.SmallInteger(), nullable=False),
        sa.Column("planned_minor", sa.BigInteger(), nullable=False),
        sa.Column("planned_currency", sa.String(length=3), nullable=False),
        sa.Column("planned_djf_minor", sa.BigInteger(), nullable=False),
        sa.Column("planned_usd_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "projects",
            postgresql.ARRAY(sa.String(length=150)),
            server_default="{}",
            nullable=False,
        ),
        *_timestamps(),
        sa.CheckConstraint("end_year >= start_year", name=op.f("ck_plan_action_years")),
        sa.CheckConstraint("planned_minor >= 0", name=op.f("ck_plan_action_planned")),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_action_plan_id_plan")),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objective.id"],
            name=op.f("fk_plan_action_objective_id_objective"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_plan_action_plan_id_code")),
    )
    op.create_index(op.f("ix_plan_action_plan_id"), "plan_action", ["plan_id"], unique=False)
    op.create_index(
        op.f("ix_plan_action_objective_id"), "plan_action", ["objective_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("plan_action")
    op.drop_table("plan")
    op.drop_column("objective", "projects")
    op.drop_column("objective", "programmes")
