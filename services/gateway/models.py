from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
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


class RefreshChain(Base):
    """One sign-in of a person (a password grant) and every refresh token that renewed it.
    Revoking the chain ends the sign-in: on sign-out, when a spent token comes back (it was
    copied), when the account is disabled or its password changes."""

    __tablename__ = "refresh_chain"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # However often it is refreshed, the sign-in ends here and the password is asked again.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """A refresh token, usable once. Only its SHA-256 is kept: the token is 256 random bits,
    so a fast hash is as safe as argon2 here, and it can be looked up."""

    __tablename__ = "refresh_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("refresh_chain.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when it was exchanged for the next one: presented again, it revokes the chain.
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Recent failed token requests of one account or from one client address, kept in the
    database so that every gateway replica counts the same failures."""

    __tablename__ = "login_throttle"

    # `account:<sha-256 of kind:login>` (what was typed as a login may be a password typed
    # in the wrong field: it is never stored as it is) or `address:<client address>`.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthEvent(Base):
    """Append-only record of what security staff review: lock-outs, refresh tokens replayed,
    sign-ins revoked. Never a secret, and never a login that names no account."""

    __tablename__ = "auth_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class RateLimit(Base):
    """Each recent caller's place in the rate limit, shared by every gateway process.

    UNLOGGED: a request's row is written without WAL, so its commit does not wait for the
    disk (an fsync per request would cost more than the request) and it is not copied to
    standbys. A crash or failover empties the table, which only gives every caller its full
    burst again. No index but the key: one on `full_at` would turn every request's update
    from a HOT update into index writes, for a sweep run once a minute."""

    __tablename__ = "rate_limit"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    # The token's subject (`client:<id>`, `user:<login>`) or `ip:<address>`.
    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    # When the caller's allowance is whole again (the GCRA's theoretical arrival time): at
    # most `burst` intervals ahead of now; past, the row is swept.
    full_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # How many requests the last count of this caller's allowed (what the count returns).
    granted: Mapped[int] = mapped_column(Integer)
