"""The shared rate limit's SQL: one statement per request, one row per recent caller."""

from __future__ import annotations

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import RateLimit

# GCRA (a token bucket kept as one timestamp): each request moves the caller's `full_at` one
# interval later (from now, if it had passed); it is allowed while that stays within `window`
# (the burst's worth of intervals) of now. ON CONFLICT locks the caller's row, so requests of
# one caller arriving at several gateway processes at once are counted one after another,
# each against the one before. A refused request writes nothing. The second column, read
# from the statement's snapshot, is only for `Retry-After`. The database's clock is the one
# every replica shares.
_TAKE = text(
    """
    WITH spent AS (
        INSERT INTO rate_limit AS r (caller, full_at)
        VALUES (:caller, statement_timestamp() + make_interval(secs => :interval))
        ON CONFLICT (caller) DO UPDATE
            SET full_at = greatest(r.full_at, statement_timestamp())
                + make_interval(secs => :interval)
            WHERE greatest(r.full_at, statement_timestamp()) + make_interval(secs => :interval)
                <= statement_timestamp() + make_interval(secs => :window)
        RETURNING 1
    )
    SELECT EXISTS (SELECT FROM spent) AS allowed,
           (SELECT extract(epoch FROM r.full_at - statement_timestamp())::float8
              FROM rate_limit r WHERE r.caller = :caller) AS ahead
    """
)


async def take(
    session: AsyncSession, caller: str, *, interval: float, window: float
) -> tuple[bool, float | None]:
    """Spend one request of `caller`'s: whether it is allowed, and (when refused) how many
    seconds ahead of now its `full_at` was (None: not known)."""
    row = (
        await session.execute(_TAKE, {"caller": caller, "interval": interval, "window": window})
    ).one()
    return bool(row.allowed), row.ahead


async def forget_idle(session: AsyncSession) -> None:
    """Callers whose allowance is whole again: their row says nothing an absent one does not."""
    await session.execute(delete(RateLimit).where(RateLimit.full_at < func.statement_timestamp()))
