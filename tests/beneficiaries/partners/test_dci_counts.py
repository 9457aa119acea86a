"""A DCI search's total_count: counted only when its page cannot tell, a large total
remembered for the next pages of the same search, one count for concurrent requests."""

from __future__ import annotations

import asyncio
import uuid

from services.beneficiaries.dci.counts import REMEMBERED_FROM, total_count


class Counter:
    def __init__(self, total: int, delay: float = 0.0) -> None:
        self.total, self.delay, self.calls = total, delay, 0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.total


def _key() -> str:
    return uuid.uuid4().hex


async def test_a_page_with_nothing_after_it_tells_the_total_without_counting() -> None:
    counter = Counter(10_000)
    assert await total_count(7, 40, False, counter, _key(), 60) == 47
    assert await total_count(0, 0, False, counter, _key(), 60) == 0
    assert counter.calls == 0


async def test_past_the_last_page_the_search_is_counted() -> None:
    counter = Counter(12)
    assert await total_count(0, 100, False, counter, _key(), 60) == 12
    assert counter.calls == 1


async def test_a_large_total_is_counted_once_for_the_pages_of_one_search() -> None:
    counter, key = Counter(REMEMBERED_FROM + 5), _key()
    for page in range(3):
        assert await total_count(50, 50 * page, True, counter, key, 60) == REMEMBERED_FROM + 5
    assert counter.calls == 1
    # Another search (another signature) is counted for itself.
    assert await total_count(50, 0, True, counter, _key(), 60) == REMEMBERED_FROM + 5
    assert counter.calls == 2


async def test_a_small_total_is_counted_each_time() -> None:
    counter, key = Counter(REMEMBERED_FROM - 1), _key()
    for _ in range(2):
        assert await total_count(50, 0, True, counter, key, 60) == REMEMBERED_FROM - 1
    assert counter.calls == 2


async def test_without_remembering_every_page_counts() -> None:
    counter, key = Counter(REMEMBERED_FROM * 3), _key()
    for _ in range(2):
        await total_count(50, 0, True, counter, key, 0)
    assert counter.calls == 2


async def test_concurrent_requests_of_one_search_share_one_count() -> None:
    counter, key = Counter(40, delay=0.05), _key()
    totals = await asyncio.gather(*(total_count(5, 0, True, counter, key, 60) for _ in range(6)))
    assert totals == [40] * 6
    assert counter.calls == 1


async def test_a_total_is_never_less_than_the_records_the_page_shows() -> None:
    key = _key()
    await total_count(50, 0, True, Counter(REMEMBERED_FROM), key, 60)
    # The registry grew since: this page shows records past the remembered total.
    assert await total_count(50, REMEMBERED_FROM, True, Counter(0), key, 60) == (
        REMEMBERED_FROM + 51
    )
