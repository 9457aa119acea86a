"""Failed token requests, counted per account and per client address in PostgreSQL (every
gateway replica sees the same counts).

After `max_failures` in a row an account (or address) is refused for a lock-out that doubles
at each further failure, up to a bound: an attacker guessing one account gets a handful of
tries and then about one per bound, and a real person is never locked out for longer than
that after the attacker's last guess. Attempts refused while locked are neither checked nor
counted, so they cannot stretch a lock-out. A success forgets the account's failures, not the
address's: otherwise one valid login would reset the limit on an address spraying guesses
across many accounts (which the per-address limit, higher than the per-account one so an
office behind one address is not locked out by a few typos, is there to stop).

The client address is the connection's: behind a load balancer, run uvicorn with
`--forwarded-allow-ips` set to it so that this is the caller's address, not the balancer's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import audit
from services.gateway.config import GatewaySettings
from services.gateway.throttle import repository
from shared.db import sqlstate
from shared.errors import ProblemError
from shared.logs import get_logger

_log = get_logger("inds.gateway.throttle")
_LOCK_NOT_AVAILABLE = "55P03"


class BadCredentials(ProblemError):
    """Marks a refusal the throttle counts as a guess: a wrong secret or password, an unknown
    login, an unusable refresh token. `subject` names the account when one exists."""

    subject: str | None = None


class LoginThrottled(ProblemError):
    status, type, title = 429, "login-throttled", "Too many failed attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed sign-in attempts for this account or from this address; "
            f"try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
        )


@dataclass(frozen=True)
class Policy:
    max_failures: int
    lockout_seconds: float
    max_lockout_seconds: float

    def lockout(self, failures: int) -> float | None:
        """Seconds refused after the `failures`-th failure in a row (None: not yet)."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 32)  # past the bound long before
        return min(self.lockout_seconds * 2**doublings, self.max_lockout_seconds)


def account_key(kind: str, login: str) -> str:
    # Hashed: what was typed as a login may be a password typed in the wrong field.
    digest = hashlib.sha256(f"{kind}:{login.strip().lower()}".encode()).hexdigest()
    return f"account:{digest}"


def address_key(address: str) -> str:
    return f"address:{address[:64]}"


class Throttle:
    def __init__(self, settings: GatewaySettings) -> None:
        timing = (settings.login_lockout_seconds, settings.login_lockout_max_seconds)
        self.account_policy = Policy(settings.login_max_failures, *timing)
        self.address_policy = Policy(settings.login_address_max_failures, *timing)
        self.window = timedelta(seconds=settings.login_failure_window_seconds)

    @asynccontextmanager
    async def attempt(
        self,
        session: AsyncSession,
        *,
        account: tuple[str, str] | None,
        address: str | None,
    ) -> AsyncIterator[None]:
        """Around checking one set of credentials, in the caller's transaction: refuses with
        429 while the account or address is locked out; counts a `BadCredentials` raised
        inside (the caller commits before passing the refusal on); forgets the account's
        failures on success."""
        account_row_key = account_key(*account) if account else None
        address_row_key = address_key(address) if address else None
        now = datetime.now(UTC)
        try:
            rows = await repository.current(session, account_row_key, address_row_key)
        except DBAPIError as exc:
            if sqlstate(exc) != _LOCK_NOT_AVAILABLE:
                raise
            # Another attempt at this account is being checked right now.
            _log.info("token request throttled", reason="concurrent attempt", address=address)
            raise LoginThrottled(1) from None
        locked_until = max((row.locked_until for row in rows if row.locked_until), default=None)
        if locked_until is not None and locked_until > now:
            wait = math.ceil((locked_until - now).total_seconds())
            _log.info("token request throttled", reason="locked out", address=address, wait=wait)
            raise LoginThrottled(max(wait, 1))

        try:
            yield
        except BadCredentials as failure:
            if account_row_key is not None:
                await self._count(
                    session, account_row_key, self.account_policy, now, failure.subject, address
                )
            if address_row_key is not None:
                await self._count(session, address_row_key, self.address_policy, now, None, address)
            raise
        if account_row_key is not None and any(row.key == account_row_key for row in rows):
            await repository.forget(session, account_row_key)

    async def _count(
        self,
        session: AsyncSession,
        key: str,
        policy: Policy,
        now: datetime,
        subject: str | None,
        address: str | None,
    ) -> None:
        failures = await repository.count_failure(session, key, now, now - self.window)
        seconds = policy.lockout(failures)
        if seconds is None:
            return
        await repository.lock(session, key, now + timedelta(seconds=seconds))
        scope = key.partition(":")[0]
        # Only locks are recorded, not every failure: at most one row per lock-out, so a
        # flood of guesses cannot flood the trail.
        audit.record(
            session,
            "login_locked_out",
            subject=subject if scope == "account" else None,
            address=address,
            scope=scope,
            failures=failures,
            locked_seconds=int(seconds),
        )
        _log.warning(
            "sign-in locked out",
            scope=scope,
            subject=subject if scope == "account" else None,
            address=address,
            failures=failures,
            locked_seconds=int(seconds),
        )
        # Rows past the window serve nothing; a lock-out (rare) is when to sweep them.
        await repository.forget_older_than(session, now - self.window)
