"""A service's copy of the gateway's disabled accounts, so that a service called directly
(network position grants nothing) refuses the token of an account disabled since it was
issued within seconds, as the gateway does, not at the token's expiry.

The list is read from the gateway (`GET /auth/disabled-accounts`, with the service's own
token): the first request waits for the first read; afterwards a request that finds the
list older than `refresh_seconds` starts a new read in the background and is answered with
the list as it stands, so no request waits on the gateway. A gateway that cannot be reached
leaves the list read last in place (logged): tokens still end at their expiry, minutes away,
and the service keeps serving while its issuer is down.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from shared.http_client import TokenSource
from shared.logs import get_logger

_log = get_logger("inds.revocations")


class GatewayRevocations:
    def __init__(self, url: str, tokens: TokenSource, *, refresh_seconds: float) -> None:
        self.url = url
        self.tokens = tokens
        self.refresh_seconds = refresh_seconds
        self._subjects: frozenset[str] = frozenset()
        self._read_at = float("-inf")  # when the last read started
        self._reading: asyncio.Task[None] | None = None
        self._first: asyncio.Task[None] | None = None

    async def contains(self, subject: str) -> bool:
        now = time.monotonic()
        if now - self._read_at >= self.refresh_seconds and (
            self._reading is None or self._reading.done()
        ):
            self._read_at = now
            self._reading = asyncio.create_task(self._read(), name="disabled-accounts")
            self._first = self._first or self._reading
        assert self._first is not None
        if not self._first.done():
            await asyncio.shield(self._first)
        return subject in self._subjects

    async def _read(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {await self.tokens.token()}"}
            async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as client:
                response = await client.get(self.url, headers=headers)
            response.raise_for_status()
            self._subjects = frozenset(str(s) for s in response.json()["subjects"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            _log.warning("disabled accounts not re-read from the gateway", error=type(exc).__name__)
