"""A background task that does one piece of work every few seconds while a service runs
(a job queue, the audit trail's flushes), started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from shared.logs import get_logger

_log = get_logger("inds.polling")


class Poller:
    """Calls `poll` every `interval` seconds; with no interval, never (tests do the work
    themselves). A poll that fails is logged and tried again next time: the database may
    be away for a while. `poll` returns how many things it did; `done` adds them up."""

    def __init__(self, name: str, interval: float | None) -> None:
        self.name = name
        self.interval = interval
        self.done = 0
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Poll now rather than at the end of the interval (new work was just committed)."""
        self._woken.set()

    async def start(self, poll: Callable[[], Awaitable[int]]) -> None:
        if self.interval is not None:
            self._task = asyncio.create_task(self._run(poll, self.interval), name=self.name)

    async def stop(self) -> None:
        """Cancels a poll under way: its work rolls back, to be taken up again."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, poll: Callable[[], Awaitable[int]], interval: float) -> None:
        while True:
            try:
                self.done += await poll()
            except Exception:
                _log.error("poll failed", task=self.name, exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), interval)
            self._woken.clear()
