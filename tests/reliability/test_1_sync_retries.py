"""Field devices syncing over a bad network: 2,000 households registered offline, sent in
batches through the gateway by four devices at once, where the network cuts some
connections after the request went out (the answer lost, or the gateway still working on
it) and 30 % of the batches are sent again (at the same time as the first try, or after
its answer: a device that lost track). Each device retries with the same Idempotency-Key
until it has an answer.

What a ministry relies on: exactly 2,000 households in the registry, none twice, every
acknowledged one there, each batch's every answer the same (the first), each household
created once (one creation in its audit trail).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest

from bench.sync_batch import new_households
from tests.reliability.conftest import fetch
from tests.support.faults import ANSWER_LOST, CUT_WHILE_WORKING, FaultyProxy
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
HOUSEHOLDS, BATCH, DEVICES = 2_000, 50, 4
RESENT, CUT = 0.3, 0.15
SYNC = "/api/v1/beneficiaries/sync/batch"
RETRYABLE = {429, 502, 503, 504}


class Device:
    """A field app: sends a batch until it gets an answer, always with the batch's key."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.cut = 0

    async def send(self, key: str, body: dict[str, Any]) -> httpx.Response:
        for attempt in range(40):
            try:
                answer = await self.client.post(
                    SYNC, json=body, headers={**self.headers, "Idempotency-Key": key}
                )
            except httpx.TransportError:
                self.cut += 1
            else:
                if answer.status_code not in RETRYABLE:
                    assert answer.status_code == 200, answer.text
                    return answer
            await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
        pytest.fail(f"batch {key} never got an answer")


async def test_batches_retried_and_cut_register_each_household_exactly_once(
    stack: RunningStack,
) -> None:
    manager = stack.headers("demo-data-manager")
    analyst = stack.headers("demo-analyst")
    stats = f"{stack.url}/api/v1/beneficiaries/stats"
    before = httpx.get(stats, params={"measure": "households"}, headers=analyst).json()["total"]

    households = new_households(4711, HOUSEHOLDS)
    batches = [
        (
            f"rel-sync-{uuid.uuid4()}",
            {
                "device_id": f"TAB-REL-{n % DEVICES}",
                "operations": [
                    {"op": "household.put", "household_id": h["id"], "household": h}
                    for h in households[n * BATCH : (n + 1) * BATCH]
                ],
            },
        )
        for n in range(HOUSEHOLDS // BATCH)
    ]
    rng = random.Random(11)
    resend = {key: rng.choice(("at_once", "after")) for key, _ in batches if rng.random() < RESENT}
    answers: dict[str, list[httpx.Response]] = defaultdict(list)

    proxy = FaultyProxy(int(stack.url.rsplit(":", 1)[1]), cut_rate=CUT)
    async with (
        proxy.running() as url,
        httpx.AsyncClient(
            base_url=url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client,
    ):
        device = Device(client, manager)

        async def sync(key: str, body: dict[str, Any]) -> None:
            if resend.get(key) == "at_once":
                answers[key] += await asyncio.gather(device.send(key, body), device.send(key, body))
                return
            answers[key].append(await device.send(key, body))
            if resend.get(key) == "after":
                answers[key].append(await device.send(key, body))

        async def run(device_number: int) -> None:
            for key, body in batches[device_number::DEVICES]:
                await sync(key, body)

        await asyncio.gather(*(run(n) for n in range(DEVICES)))

    print(f"faults {dict(proxy.faults)}, cut seen {device.cut}")
    assert proxy.faults[ANSWER_LOST] and proxy.faults[CUT_WHILE_WORKING], proxy.faults
    assert device.cut >= proxy.faults[ANSWER_LOST] + proxy.faults[CUT_WHILE_WORKING]
    # Every answer to a batch, first or replayed, is the first one: all created, once.
    for key, _ in batches:
        first = answers[key][0].json()
        assert all(answer.json() == first for answer in answers[key]), key
        assert first["counts"] == {"created": BATCH}, first
        assert [r["status"] for r in first["results"]] == ["created"] * BATCH
    replayed = sum(
        answer.headers.get("idempotent-replayed") == "true"
        for group in answers.values()
        for answer in group
    )
    assert replayed >= len(resend)

    ids = [uuid.UUID(h["id"]) for h in households]
    people = [uuid.UUID(p["id"]) for h in households for p in h["members"]]
    kept = await fetch(stack, "beneficiaries", "SELECT id FROM household WHERE id = ANY($1)", ids)
    assert len(kept) == HOUSEHOLDS
    members = await fetch(
        stack, "beneficiaries", "SELECT count(*) FROM individual WHERE id = ANY($1)", people
    )
    assert members[0][0] == len(people)
    created = await fetch(
        stack,
        "beneficiaries",
        "SELECT household_id, count(*) AS n FROM audit_event"
        " WHERE action = 'create' AND resource_type = 'household' AND household_id = ANY($1)"
        " GROUP BY household_id",
        ids,
    )
    assert len(created) == HOUSEHOLDS and {row["n"] for row in created} == {1}
    after = httpx.get(stats, params={"measure": "households"}, headers=analyst).json()["total"]
    assert after == before + HOUSEHOLDS, "the registry counts each household once"
