"""Limits that hold across replicas: the gateway and the funding service each run as two
processes (the package's stack), and what one process knows every other must know too.

- a client firing far more requests at once than its limit allows gets its limit through,
  plus what refilled while it fired — not twice that, one allowance per gateway process;
- one Idempotency-Key sent many times at once, the copies spread over both gateway
  processes and both funding processes: one write, and every copy the same answer.

Each process's log lines carry its pid; the tests read them to show both processes of each
really served the requests (otherwise they would prove nothing).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import fetch
from tests.support.gateway import create_client, get_token
from tests.support.stack import LIMITED_BURST, LIMITED_CLIENT, LIMITED_PER_SECOND, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
ORGANISATIONS = "/api/v1/funding/organisations"
# One key's copies sent at once; rounds (a fresh key each) until the copies have reached
# both processes of the gateway and of funding.
COPIES, ROUNDS = 16, 5


@asynccontextmanager
async def spread_connections(
    stack: RunningStack, count: int
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` clients of one connection each, opened one after the other: the gateway's
    processes take turns accepting them (connections opened all at once are all accepted
    by whichever process wakes first)."""
    async with AsyncExitStack() as clients:
        opened = []
        for _ in range(count):
            client = await clients.enter_async_context(
                httpx.AsyncClient(
                    base_url=stack.url, timeout=60, limits=httpx.Limits(max_connections=1)
                )
            )
            assert (await client.get("/ready")).status_code == 200
            opened.append(client)
            await asyncio.sleep(0.02)
        yield opened


def pids_serving(stack: RunningStack, service: str, request_ids: set[str]) -> set[int]:
    """The processes of `service` whose log says they answered one of `request_ids`."""
    log = Path(stack.state["processes"][service]["log"])
    pids = set()
    for line in log.read_text(errors="replace").splitlines():
        if '"request"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request" and entry.get("request_id") in request_ids:
            pids.add(entry["pid"])
    return pids


async def test_a_clients_limit_is_not_doubled_by_a_second_gateway_process(
    stack: RunningStack,
) -> None:
    fired = 3 * LIMITED_BURST
    tag = uuid.uuid4().hex[:12]
    async with spread_connections(stack, 32) as clients:
        # Made now, so its allowance is whole: no request of another test has spent it.
        client_id, secret = await create_client(clients[0], stack.headers("admin"), LIMITED_CLIENT)
        headers = {"Authorization": f"Bearer {await get_token(clients[0], client_id, secret)}"}
        started = time.monotonic()
        answers = await asyncio.gather(
            *(
                clients[n % len(clients)].get(
                    "/.well-known/jwks.json",
                    headers={**headers, "X-Request-ID": f"limit-{tag}-{n}"},
                )
                for n in range(fired)
            )
        )
        elapsed = time.monotonic() - started

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429}, sorted(set(statuses))
    allowed = statuses.count(200)
    refilled = LIMITED_PER_SECOND * elapsed
    assert fired > LIMITED_BURST + refilled + 1, (
        "the requests went out too slowly to test the limit"
    )
    # Every request arrived between `started` and the end: the allowance at the start (full)
    # plus what refilled meanwhile, at most; at least the burst, which no refill undercuts.
    assert LIMITED_BURST <= allowed <= LIMITED_BURST + refilled + 1, (allowed, elapsed)
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    served_by = pids_serving(stack, "gateway", {f"limit-{tag}-{n}" for n in range(fired)})
    assert len(served_by) == 2, f"the requests reached gateway processes {served_by}"


async def test_one_idempotency_key_sent_to_both_replicas_at_once_writes_once(
    stack: RunningStack,
) -> None:
    officer = stack.headers("demo-finance-officer")
    funding_pids: set[int] = set()
    gateway_pids: set[int] = set()
    for _ in range(ROUNDS):
        suffix = uuid.uuid4().hex[:8].upper()
        body = {
            "iati_identifier": f"DJ-REP-{suffix}",
            "name_fr": "Bailleur répliqué",
            "name_en": "Replicated funder",
            "type": "government",
            "country": "DJ",
        }
        key = str(uuid.uuid4())
        request_ids = [f"replay-{suffix}-{n}" for n in range(COPIES)]
        async with spread_connections(stack, COPIES) as clients:
            answers = await asyncio.gather(
                *(
                    client.post(
                        ORGANISATIONS,
                        json=body,
                        headers={**officer, "Idempotency-Key": key, "X-Request-ID": request_id},
                    )
                    for client, request_id in zip(clients, request_ids, strict=True)
                )
            )

        assert [answer.status_code for answer in answers] == [201] * COPIES, [
            answer.text for answer in answers if answer.status_code != 201
        ]
        first = answers[0].json()
        assert all(answer.json() == first for answer in answers), "the answers differ"
        for header in ("location", "etag"):
            assert len({answer.headers[header] for answer in answers}) == 1, header
        firsts = [a for a in answers if a.headers.get("idempotent-replayed") != "true"]
        assert len(firsts) == 1, "exactly one copy was the write, the others its replays"
        written = await fetch(
            stack,
            "funding",
            "SELECT id FROM organisation WHERE iati_identifier = $1",
            body["iati_identifier"],
        )
        assert [str(row["id"]) for row in written] == [first["id"]]
        kept = await fetch(
            stack, "funding", "SELECT count(*) FROM idempotency_record WHERE key = $1", key
        )
        assert kept[0][0] == 1

        funding_pids |= pids_serving(stack, "funding", set(request_ids))
        gateway_pids |= pids_serving(stack, "gateway", set(request_ids))
        if len(funding_pids) == 2 and len(gateway_pids) == 2:
            break
    assert len(funding_pids) == 2, f"{ROUNDS} rounds reached funding processes {funding_pids}"
    assert len(gateway_pids) == 2, f"the copies reached gateway processes {gateway_pids}"
