from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Account, RefreshChain, RefreshToken, SigningKey


async def published(session: AsyncSession, retired_after: datetime) -> Sequence[SigningKey]:
    """Keys that sign now or signed tokens that may still be valid, newest first."""
    statement = (
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > retired_after))
        .order_by(SigningKey.created_at.desc())
    )
    return (await session.execute(statement)).scalars().all()


async def all_keys(session: AsyncSession) -> Sequence[SigningKey]:
    statement = select(SigningKey).order_by(SigningKey.created_at.desc())
    return (await session.execute(statement)).scalars().all()


async def retire_active(session: AsyncSession, at: datetime) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=at)
    )


def add(session: AsyncSession, key: SigningKey) -> None:
    session.add(key)


async def refresh_token_for_update(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshToken, RefreshChain, Account] | None:
    """The token with its chain and account. The token's row stays locked until the
    transaction ends: two requests presenting the same token are served one after the
    other, and the second finds it spent."""
    statement = (
        select(RefreshToken, RefreshChain, Account)
        .join(RefreshChain, RefreshChain.id == RefreshToken.chain_id)
        .join(Account, Account.id == RefreshChain.account_id)
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update(of=RefreshToken)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def chain_of(session: AsyncSession, token_hash: str) -> tuple[RefreshChain, Account] | None:
    statement = (
        select(RefreshChain, Account)
        .join(RefreshToken, RefreshToken.chain_id == RefreshChain.id)
        .join(Account, Account.id == RefreshChain.account_id)
        .where(RefreshToken.token_hash == token_hash)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def revoke_chain(
    session: AsyncSession, chain_id: uuid.UUID, at: datetime, reason: str
) -> None:
    await session.execute(
        update(RefreshChain)
        .where(RefreshChain.id == chain_id, RefreshChain.revoked_at.is_(None))
        .values(revoked_at=at, revoked_reason=reason)
    )


async def revoke_chains_of(
    session: AsyncSession, account_id: uuid.UUID, at: datetime, reason: str
) -> int:
    """Every live sign-in of the account; how many there were."""
    result = await session.execute(
        update(RefreshChain)
        .where(
            RefreshChain.account_id == account_id,
            RefreshChain.revoked_at.is_(None),
            RefreshChain.expires_at > at,
        )
        .values(revoked_at=at, revoked_reason=reason)
    )
    return cast(CursorResult[Any], result).rowcount or 0


async def delete_ended_chains(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> None:
    """The account's sign-ins that can serve no more (expired or revoked), with their
    tokens: a token of theirs presented later is refused as unknown, as it would be anyway.
    The trail of why they ended is in `auth_event`."""
    await session.execute(
        delete(RefreshChain).where(
            RefreshChain.account_id == account_id,
            or_(RefreshChain.expires_at <= now, RefreshChain.revoked_at.is_not(None)),
        )
    )


def add_refresh(session: AsyncSession, item: RefreshChain | RefreshToken) -> None:
    session.add(item)
