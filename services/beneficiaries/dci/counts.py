"""How many records a DCI search finds: its answer's `pagination.total_count`.

Counting every record a broad predicate finds costs far more than finding one page of them,
so a search counts only when its page cannot tell: the page is read with one record more
than it shows, and a page with nothing after it is the last one (the total is the records
before it plus its own). A count that has to be made is
remembered for a short while (`dci_count_cache_seconds`) when it is large (at least
`REMEMBERED_FROM` records), under the search's signature: the agreement and its scope, the
day, the entity and the query as sent. A partner walking the pages of one search is then
counted once, and a large total may be that many seconds old; a small count is cheap and
always exact."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

# Totals below this are counted again each time (cheap, and exact).
REMEMBERED_FROM = 1000
# The most signatures remembered (the oldest forgotten first).
MAX_REMEMBERED = 1024


class RememberedCounts:
    """Large totals by search signature, each for `seconds` (in this process); a search
    counted by concurrent requests is counted once, the others waiting for that count."""

    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self._max = max_entries
        self._counts: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()
        self._counting: dict[Hashable, asyncio.Future[int | None]] = {}

    def get(self, key: Hashable) -> int | None:
        found = self._counts.get(key)
        if found is None:
            return None
        expires, total = found
        if expires < time.monotonic():
            del self._counts[key]
            return None
        return total

    def put(self, key: Hashable, total: int, seconds: float) -> None:
        if seconds <= 0 or total < REMEMBERED_FROM:
            return
        self._counts[key] = (time.monotonic() + seconds, total)
        self._counts.move_to_end(key)
        while len(self._counts) > self._max:
            self._counts.popitem(last=False)

    async def count(
        self, key: Hashable, count: Callable[[], Awaitable[int]], seconds: float
    ) -> int:
        pending = self._counting.get(key)
        if pending is not None:
            counted = await asyncio.shield(pending)
            # None: that count failed (its request's problem); this request counts itself.
            return counted if counted is not None else await count()
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._counting[key] = future
        total: int | None = None
        try:
            total = await count()
        finally:
            del self._counting[key]
            future.set_result(total)
        self.put(key, total, seconds)
        return total

    def clear(self) -> None:
        self._counts.clear()


REMEMBERED = RememberedCounts()


async def total_count(
    found: int,
    offset: int,
    more: bool,
    count: Callable[[], Awaitable[int]],
    key: Hashable,
    seconds: float,
) -> int:
    """The search's total, from its page of `found` records at `offset` when that tells (no
    record `more` after it: the last page), else remembered or counted (`count()`)."""
    if not more and (found or not offset):
        return offset + found
    total = REMEMBERED.get(key)
    if total is None:
        total = await REMEMBERED.count(key, count, seconds)
    # Never fewer than the records this page shows exist (past the last page it shows none).
    return max(total, offset + found + more) if found else total
