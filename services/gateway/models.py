from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.models import Timestamps, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Account(Timestamps, Base):
    """An identity that can get a token: an API client (client credentials) or a person
    (password). Secrets are stored only as argon2 hashes."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("kind", "login"),
        CheckConstraint("kind IN ('client', 'user')", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(8))
    login: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    partner_id: Mapped[str | None] = mapped_column(String(64))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(80))

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.login}"


class SigningKey(Base):
    """A token-signing key pair. The newest unretired key signs; retired keys stay published
    until every token they signed has expired."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
