"""Requests per caller, limited across every gateway process: `rate_per_second` on
average, up to `burst` at once. The count is kept in the gateway's PostgreSQL database, so
two gateway processes (or two hosts behind a load balancer) let a caller through what one
would, not twice as much.

A process sends one statement at a time (`repository.take`): the requests that arrive while
it is out are counted together by the next, all callers at once. An idle gateway so sends
one statement a request, a busy one a few hundred a second whatever its load, and one
caller's requests at one process never queue for its row one behind the other.

While the database cannot be reached, each process limits with its own in-memory buckets
(`local`) rather than refusing everything or nothing; it tries the database again every
`SHARED_RETRY_SECONDS`.
"""

from __future__ import annotations

import asyncio
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
    """One rate and burst: its GCRA step and span, and its in-memory fallback."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.step = 1.0 / per_second
        self.span = burst * self.step
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
        self.sweep_seconds = sweep_seconds
        self._shared_again_at = float("-inf")
        self._swept_at = time.monotonic()
        # The requests waiting for the next statement, by caller; the task sending them.
        self._waiting: dict[str, list[asyncio.Future[float]]] = {}
        self._counting: asyncio.Task[None] | None = None

    async def take(self, caller: str) -> float:
        """Spend one request of `caller`'s: 0 if allowed, otherwise seconds to wait."""
        caller = caller[:CALLER_LENGTH]
        allowance = self.callers.get(caller, self.default)
        if self.database is None or time.monotonic() < self._shared_again_at:
            return allowance.local.take(caller)
        answer: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(caller, []).append(answer)
        if self._counting is None:
            self._counting = asyncio.create_task(self._count(self.database))
        try:
            return await answer
        except _UNAVAILABLE as exc:
            if time.monotonic() >= self._shared_again_at:
                _log.warning("rate limit counted in this process", error=type(exc).__name__)
                self._shared_again_at = time.monotonic() + SHARED_RETRY_SECONDS
            return allowance.local.take(caller)

    async def _count(self, database: Database) -> None:
        """Statements, one after the other, until no request waits."""
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                try:
                    granted = await self._take_shared(database, waiting)
                    for caller, answers in waiting.items():
                        self._answer(caller, answers, granted[caller])
                except BaseException as exc:  # never leave a request waiting for ever
                    for answers in waiting.values():
                        for answer in answers:
                            if answer.done():
                                continue
                            if isinstance(exc, Exception):
                                answer.set_exception(exc)
                            else:  # the gateway stopping
                                answer.cancel()
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._counting = None

    async def _take_shared(
        self, database: Database, waiting: dict[str, list[asyncio.Future[float]]]
    ) -> dict[str, repository.Granted]:
        wanted = []
        for caller, answers in waiting.items():
            allowance = self.callers.get(caller, self.default)
            wanted.append(repository.Wanted(caller, len(answers), allowance.step, allowance.span))
        async with database.autocommit_driver() as connection:
            granted = await repository.take(connection, wanted)
            if time.monotonic() - self._swept_at >= self.sweep_seconds:
                self._swept_at = time.monotonic()
                await repository.forget_idle(connection)
        return granted

    def _answer(
        self, caller: str, answers: list[asyncio.Future[float]], granted: repository.Granted
    ) -> None:
        allowance = self.callers.get(caller, self.default)
        # The next request fits once `full_at` is a step less than the span ahead.
        wait = max(granted.ahead + allowance.step - allowance.span, 0.001)
        for n, answer in enumerate(answers):
            if not answer.done():  # a request given up on meanwhile
                answer.set_result(0.0 if n < granted.requests else wait)
