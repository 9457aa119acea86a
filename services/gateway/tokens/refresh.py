"""Refresh tokens for people who sign in with a password: rotating, single use, revocable,
stored only as hashes.

Each refresh (RFC 6749 §6) answers with a new access token and a new refresh token, and the
one presented is spent. A spent token presented again means two holders (it was copied, or
an attacker raced the device): which one is legitimate cannot be told, so the whole chain
is revoked and the person signs in again (the reuse detection of RFC 9700 §4.14.2). No grace
period is allowed for a device whose answer was lost: it is refused the same way.

API clients (client credentials) get none: they hold their secret and ask again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import audit
from services.gateway.config import GatewaySettings
from services.gateway.models import Account, RefreshChain, RefreshToken
from services.gateway.tokens import repository
from services.gateway.tokens.service import InvalidCredentials
from shared.logs import get_logger

_log = get_logger("inds.gateway.tokens")
_UNUSABLE = "The refresh token is unknown, expired, already used or revoked: sign in again."


@dataclass(frozen=True)
class RefreshPolicy:
    token_lifetime: timedelta
    chain_lifetime: timedelta

    @classmethod
    def of(cls, settings: GatewaySettings) -> RefreshPolicy:
        return cls(
            token_lifetime=timedelta(days=settings.refresh_token_days),
            chain_lifetime=timedelta(days=settings.refresh_token_max_days),
        )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_chain(session: AsyncSession, account: Account, policy: RefreshPolicy) -> str:
    """A new sign-in's first refresh token (shown once: only its hash is kept)."""
    now = datetime.now(UTC)
    await repository.delete_ended_chains(session, account.id, now)
    chain = RefreshChain(
        id=uuid.uuid4(),
        account_id=account.id,
        started_at=now,
        expires_at=now + policy.chain_lifetime,
    )
    repository.add_refresh(session, chain)
    await session.flush()  # the chain's row before its token's (no ORM relationship orders them)
    return _issue(session, chain, now, policy)


async def rotate(
    session: AsyncSession, token: str, policy: RefreshPolicy, *, address: str | None
) -> tuple[Account, str]:
    """The account the token signs in, and the token that replaces it. A refusal may have
    revoked the chain: the caller commits before passing it on."""
    now = datetime.now(UTC)
    found = await repository.refresh_token_for_update(session, digest(token))
    if found is None:
        raise InvalidCredentials("invalid_grant", _UNUSABLE)
    stored, chain, account = found
    if chain.revoked_at is not None or (stored.expires_at <= now and stored.spent_at is None):
        raise InvalidCredentials("invalid_grant", _UNUSABLE, subject=account.subject)
    if stored.spent_at is not None:
        await repository.revoke_chain(session, chain.id, now, "reused")
        audit.record(
            session,
            "refresh_token_reused",
            subject=account.subject,
            address=address,
            chain_id=str(chain.id),
            spent_at=stored.spent_at.isoformat(),
        )
        _log.warning(
            "spent refresh token presented again: sign-in revoked",
            subject=account.subject,
            address=address,
        )
        raise InvalidCredentials("invalid_grant", _UNUSABLE, subject=account.subject)
    password_changed = account.secret_changed_at and account.secret_changed_at > chain.started_at
    if account.disabled_at is not None or password_changed:
        # Disabling and password resets revoke the account's chains already; checked again
        # here so that no other way of changing an account can leave a sign-in alive.
        await repository.revoke_chain(session, chain.id, now, "account_changed")
        raise InvalidCredentials("invalid_grant", _UNUSABLE, subject=account.subject)
    stored.spent_at = now
    return account, _issue(session, chain, now, policy)


async def sign_out(session: AsyncSession, token: str, *, address: str | None) -> None:
    """Revoke the chain `token` belongs to (spent or not: it is the same sign-in). An
    unknown token is no error (RFC 7009 §2.2): there is nothing left to revoke."""
    found = await repository.chain_of(session, digest(token))
    if found is None or found[0].revoked_at is not None:
        return
    chain, account = found
    await repository.revoke_chain(session, chain.id, datetime.now(UTC), "signed_out")
    audit.record(
        session, "sign_in_revoked", subject=account.subject, address=address, reason="signed_out"
    )


async def revoke_account(session: AsyncSession, account: Account, reason: str, actor: str) -> int:
    """End every live sign-in of the account (disabled, password changed)."""
    revoked = await repository.revoke_chains_of(session, account.id, datetime.now(UTC), reason)
    if revoked:
        audit.record(
            session,
            "sign_in_revoked",
            subject=account.subject,
            reason=reason,
            chains=revoked,
            actor=actor,
        )
    return revoked


def _issue(session: AsyncSession, chain: RefreshChain, now: datetime, policy: RefreshPolicy) -> str:
    token = secrets.token_urlsafe(32)
    repository.add_refresh(
        session,
        RefreshToken(
            token_hash=digest(token),
            chain_id=chain.id,
            issued_at=now,
            expires_at=min(now + policy.token_lifetime, chain.expires_at),
        ),
    )
    return token
