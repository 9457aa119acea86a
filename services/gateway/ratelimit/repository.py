"""The shared rate limit's SQL: one statement per request, one row per recent caller. Run
on the driver's connection (`Database.autocommit_driver`): each is its own transaction."""

from __future__ import annotations

from typing import Any

# GCRA (a token bucket kept as one timestamp): each request moves the caller's `full_at` one
# interval later (from now, if it had passed); it is allowed while that stays within `window`
# (the burst's worth of intervals) of now. ON CONFLICT locks the caller's row, so requests of
# one caller arriving at several gateway processes at once are counted one after another,
# each against the one before. A refused request leaves the row as it was. The second
# column, read from the statement's snapshot, is only for `Retry-After`. The database's
# clock is the one every replica shares.
_TAKE = """
    WITH spent AS (
        INSERT INTO rate_limit AS r (caller, full_at)
        VALUES ($1, statement_timestamp() + make_interval(secs => $2))
        ON CONFLICT (caller) DO UPDATE
            SET full_at = greatest(r.full_at, statement_timestamp()) + make_interval(secs => $2)
            WHERE greatest(r.full_at, statement_timestamp()) + make_interval(secs => $2)
                <= statement_timestamp() + make_interval(secs => $3)
        RETURNING 1
    )
    SELECT EXISTS (SELECT FROM spent) AS allowed,
           (SELECT extract(epoch FROM r.full_at - statement_timestamp())::float8
              FROM rate_limit r WHERE r.caller = $1) AS ahead
"""
# Callers whose allowance is whole again: their row says nothing an absent one does not.
_FORGET_IDLE = "DELETE FROM rate_limit WHERE full_at < statement_timestamp()"


async def take(
    connection: Any, caller: str, *, interval: float, window: float
) -> tuple[bool, float | None]:
    """Spend one request of `caller`'s: whether it is allowed, and (when refused) how many
    seconds ahead of now its `full_at` was (None: not known)."""
    row = await connection.fetchrow(_TAKE, caller, interval, window)
    return bool(row["allowed"]), row["ahead"]


async def forget_idle(connection: Any) -> None:
    await connection.execute(_FORGET_IDLE)
