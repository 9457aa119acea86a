from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import LoginThrottle


async def current(
    session: AsyncSession, account_key: str | None, address_key: str | None
) -> Sequence[LoginThrottle]:
    """The rows for this attempt. The account's row, when there is one, stays locked until
    the attempt is counted, so parallel guesses at one account are counted one by one; a
    second attempt meanwhile fails at once (NOWAIT) rather than holding a connection."""
    rows: list[LoginThrottle] = []
    if account_key is not None:
        locked = select(LoginThrottle).where(LoginThrottle.key == account_key)
        rows += (await session.execute(locked.with_for_update(nowait=True))).scalars()
    if address_key is not None:
        plain = select(LoginThrottle).where(LoginThrottle.key == address_key)
        rows += (await session.execute(plain)).scalars()
    return rows


async def count_failure(
    session: AsyncSession, key: str, now: datetime, forget_before: datetime
) -> int:
    """One more failure for `key` (the first, when the last was before `forget_before`);
    the failures counted now. One statement, so replicas counting at once lose none."""
    statement = (
        insert(LoginThrottle)
        .values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case(
                    (LoginThrottle.last_failure_at < forget_before, 1),
                    else_=LoginThrottle.failures + 1,
                ),
                "last_failure_at": now,
            },
        )
        .returning(LoginThrottle.failures)
    )
    return (await session.execute(statement)).scalar_one()


async def lock(session: AsyncSession, key: str, until: datetime) -> None:
    # A later lock another replica set at the same time is kept.
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(locked_until=func.greatest(func.coalesce(LoginThrottle.locked_until, until), until))
    )


async def forget(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def forget_older_than(session: AsyncSession, before: datetime) -> None:
    """Rows whose failures are all forgotten (their locks have ended too)."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < before))
