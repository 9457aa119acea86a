"""What every service's models share: the naming convention and timestamp columns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class Versioned:
    """A record clients change under `If-Match`: `version` is its ETag. The service moves it
    once per change (shared/versioning.touch), never per flush, and every UPDATE applies only
    to the version it read (a concurrent writer's is refused: StaleDataError).
    eager_defaults: server-set columns come back with the INSERT/UPDATE (async code cannot
    lazy-load them afterwards)."""

    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {
            "version_id_col": cls.__table__.c.version,  # type: ignore[attr-defined]
            "version_id_generator": False,
            "eager_defaults": True,
        }


class AuditEventColumns:
    """Who did or read what, when, under which request. Append-only; `detail` names fields,
    never their values (no personal data)."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(80))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    action: Mapped[str] = mapped_column(String(24))
    resource_type: Mapped[str] = mapped_column(String(24))
    resource_id: Mapped[uuid.UUID | None] = mapped_column()
    household_id: Mapped[uuid.UUID | None] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    @staticmethod
    def indexes(table: str) -> tuple[Index, ...]:
        return (
            Index(f"ix_{table}_resource", "resource_id", "at"),
            Index(f"ix_{table}_actor", "actor", "at"),
            Index(f"ix_{table}_at", "at", "id"),
        )


class IdempotencyRecordColumns:
    """The stored answer to a POST sent with an `Idempotency-Key`, written in the same
    transaction as the write it answers. Key: (principal, key)."""

    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response_body: Mapped[Any] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
