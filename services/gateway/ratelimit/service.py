"""Requests per caller, limited across every gateway process: `rate_per_second` on
average, up to `burst` at once. The count is kept in the gateway's PostgreSQL database (one
statement per request, see `repository`), so two gateway processes (or two hosts behind a
load balancer) let a caller through what one would, not twice as much.

While the database cannot be reached, each process limits with its own in-memory buckets
(`local`) rather than refusing everything or nothing; it tries the database again every
`SHARED_RETRY_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from services.gateway.config import CallerRateLimit
from services.gateway.ratelimit import repository
from services.gateway.ratelimit.local import TokenBuckets
from shared.db import Database, DatabaseUnreachable
from shared.logs import get_logger

_log = get_logger("inds.gateway.ratelimit")
SHARED_RETRY_SECONDS = 1.0
CALLER_LENGTH = 100  # the column's
# Down, restarting, a connection lost (the driver's errors: its statements are sent as they
# are), no connection free in the pool for too long.
_UNAVAILABLE = (
    DatabaseUnreachable,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


class _Allowance:
    """One rate and burst: its GCRA interval and window, and its in-memory fallback."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.interval = 1.0 / per_second
        self.window = burst * self.interval
        self.local = TokenBuckets(rate_per_second=per_second, burst=burst)


class RateLimiter:
    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        callers: Mapping[str, CallerRateLimit] | None = None,
        sweep_seconds: float = 60.0,
    ) -> None:
        """`callers`: the callers with an allowance of their own, by subject (the others
        share the default). `sweep_seconds`: how often this process deletes the rows of
        callers whose allowance is whole again (the table holds the callers of the last
        minute or so)."""
        self.default = _Allowance(rate_per_second, burst)
        self.callers = {
            caller[:CALLER_LENGTH]: _Allowance(limit.per_second, limit.burst)
            for caller, limit in (callers or {}).items()
        }
        self.database: Database | None = None  # set at start; until then, local only
        self._shared_again_at = float("-inf")
        self.sweep_seconds = sweep_seconds
        self._swept_at = time.monotonic()

    async def take(self, caller: str) -> float:
        """Spend one request of `caller`'s: 0 if allowed, otherwise seconds to wait."""
        caller = caller[:CALLER_LENGTH]
        allowance = self.callers.get(caller, self.default)
        if self.database is None or time.monotonic() < self._shared_again_at:
            return allowance.local.take(caller)
        try:
            return await self._take_shared(self.database, caller, allowance)
        except _UNAVAILABLE as exc:
            self._shared_again_at = time.monotonic() + SHARED_RETRY_SECONDS
            _log.warning("rate limit counted in this process", error=type(exc).__name__)
            return allowance.local.take(caller)

    async def _take_shared(self, database: Database, caller: str, allowance: _Allowance) -> float:
        async with database.autocommit_driver() as connection:
            allowed, ahead = await repository.take(
                connection, caller, interval=allowance.interval, window=allowance.window
            )
            if time.monotonic() - self._swept_at >= self.sweep_seconds:
                self._swept_at = time.monotonic()
                await repository.forget_idle(connection)
        if allowed:
            return 0.0
        if ahead is None:  # the row was made by a request that ran at the same moment
            return allowance.interval
        return max(ahead + allowance.interval - allowance.window, 0.001)
