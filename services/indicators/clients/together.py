"""Calls to other services made at once: when one fails, the others still under way are
cancelled (no call outlives the request that made it), and the first failure is raised as
it is (the 503 naming its service), not wrapped in an exception group."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def together(calls: Sequence[Awaitable[T]]) -> list[T]:
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_run(call)) for call in calls]
    except BaseExceptionGroup as failures:
        raise _first(failures) from None
    return [task.result() for task in tasks]


async def _run(call: Awaitable[T]) -> T:
    return await call


def _first(failures: BaseExceptionGroup) -> BaseException:
    first = failures.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
