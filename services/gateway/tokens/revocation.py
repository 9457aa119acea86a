"""Refusing the access tokens of disabled accounts at once, not when they expire.

Access tokens are not looked up (they are signed, and live `token_ttl_seconds`): instead
each gateway process keeps the set of disabled accounts, re-read from the database at most
every `revocation_refresh_seconds`. Disabling an account in one gateway process is so seen
by all of them within that interval, and a token of that account is refused (401) from then
on. Re-enabling it makes its unexpired tokens good again. The services read the same list
from `GET /auth/disabled-accounts` (shared/revocations.py) for the calls made to them
directly.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.exc import DBAPIError

from services.gateway.accounts import repository as accounts
from shared.db import Database, DatabaseUnreachable
from shared.errors import DatabaseUnavailable
from shared.logs import get_logger

_log = get_logger("inds.gateway.revocation")
# How long the disabled accounts read last are trusted when they cannot be re-read.
STALE_LIMIT_SECONDS = 30.0


class DisabledAccounts:
    def __init__(self, *, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self.database: Database | None = None  # set at start
        self._subjects: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")  # the last read that succeeded
        self._tried_at = float("-inf")  # the last read tried
        self._lock = asyncio.Lock()

    async def contains(self, subject: str) -> bool:
        return subject in await self.subjects()

    async def subjects(self) -> frozenset[str]:
        """The disabled accounts' token subjects (`client:...`, `user:...`)."""
        if time.monotonic() - self._tried_at >= self.refresh_seconds:
            await self._reload()
        return self._subjects

    async def _reload(self) -> None:
        async with self._lock:
            if time.monotonic() - self._tried_at < self.refresh_seconds:
                return  # another request read it (or tried) while this one waited
            self._tried_at = time.monotonic()
            assert self.database is not None, "DisabledAccounts used before the gateway started"
            try:
                async with self.database.sessionmaker() as session:
                    subjects = frozenset(await accounts.disabled_subjects(session))
            except (DatabaseUnreachable, DBAPIError, OSError) as exc:
                # The database restarting: the list read last serves a short while (read
                # again each interval, not by every request), then tokens are refused.
                if time.monotonic() - self._loaded_at > STALE_LIMIT_SECONDS:
                    self._tried_at = float("-inf")  # nothing to serve: the next request tries
                    raise DatabaseUnavailable(
                        "Tokens cannot be checked just now (the database cannot be reached). "
                        "Retry.",
                        headers={"Retry-After": "1"},
                    ) from exc
                _log.warning("disabled accounts not re-read", error=type(exc).__name__)
                return
            self._subjects = subjects
            self._loaded_at = time.monotonic()
