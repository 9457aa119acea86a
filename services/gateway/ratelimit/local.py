"""Per-caller token buckets in this process's memory: what a gateway process limits with
while the shared limit (PostgreSQL) cannot be reached. Each process counts on its own then,
so N processes let a caller through N times the configured rate."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class TokenBuckets:
    def __init__(self, *, rate_per_second: float, burst: int, max_callers: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str, now: float | None = None) -> float:
        """Spend one token for `caller`: 0 if allowed, otherwise seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[caller] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        if len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """A `Retry-After` value (whole seconds, at least 1) for a wait in seconds."""
    return str(max(1, math.ceil(wait)))
