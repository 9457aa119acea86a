"""Soak, the CI length (30 s; `make soak` runs it for 10 minutes on a stack of its own): a
steady mixed load through the gateway (registry reads and searches, field devices syncing
both ways, statistics, payrolls drafted and built, funds recorded). What the ministry
relies on: nothing fails, the service is as quick at the end as at the start, and no
process's memory creeps up with the requests it served.

Both comparisons are within one run (the first window against the last), not against a
clock: bench/soak.py says why their bounds are what they are.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.soak import PROCESSES, SoakResult, soak
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
SECONDS, WINDOW = 30.0, 10.0


def _soak(stack: RunningStack) -> SoakResult:
    tokens: dict[str, dict[str, str]] = {}

    def headers_of(client_id: str) -> dict[str, str]:
        return tokens.setdefault(client_id, stack.headers(client_id))

    def pids_of() -> dict[str, int]:
        processes = stack.state["processes"]
        return {name: processes[name]["pid"] for name in PROCESSES}

    return soak(stack.url, headers_of, pids_of, seconds=SECONDS, window=WINDOW)


async def test_a_steady_mixed_load_fails_nothing_slows_nothing_and_grows_no_memory(
    stack: RunningStack,
) -> None:
    result = await asyncio.to_thread(_soak, stack)
    print("\n".join(result.lines()))

    assert result.load.errors == 0, result.load.first_failure
    assert len(result.load.windows) == SECONDS // WINDOW
    assert all(window.requests for window in result.load.windows), "the load was steady"
    assert result.failures() == []
