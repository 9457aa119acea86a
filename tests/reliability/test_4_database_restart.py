"""PostgreSQL restarts under a write load (the embedded server stopped, then started, as a
restart or a failover does): households registered and funds received through the gateway
all the while. What users rely on: the services recover by themselves (no restart of
theirs), every write answered 2xx is in the database afterwards, and every one that was not
got a clear 503 problem (retry) and left nothing behind.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from inds.embedded_db import EmbeddedPostgres
from tests.beneficiaries.payloads import household, with_ids
from tests.reliability.conftest import fetch
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
DOWN_SECONDS = 3.0


@dataclass
class Write:
    kind: str  # "household" or "transaction"
    key: str  # the household's id, the transaction's reference
    at: float
    status: int
    content_type: str
    problem: dict[str, Any] | None


class WriteLoad:
    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.writes: list[Write] = []
        self.stopping = asyncio.Event()
        self.manager = stack.headers("demo-data-manager")
        self.officer = stack.headers("demo-finance-officer")

    async def _send(
        self, client: httpx.AsyncClient, kind: str, key: str, path: str, body: Any, headers: Any
    ) -> None:
        started = time.monotonic()
        answer = await client.post(path, json=body, headers=headers)
        problem = answer.json() if answer.status_code >= 400 else None
        content_type = answer.headers.get("content-type", "")
        self.writes.append(Write(kind, key, started, answer.status_code, content_type, problem))

    async def _registrar(self, client: httpx.AsyncClient) -> None:
        while not self.stopping.is_set():
            body = with_ids(household())
            path = "/api/v1/beneficiaries/households"
            await self._send(client, "household", body["id"], path, body, self.manager)
            await asyncio.sleep(0.05)

    async def _treasurer(self, client: httpx.AsyncClient, agreement: dict[str, Any]) -> None:
        while not self.stopping.is_set():
            reference = f"REL-PG-{uuid.uuid4().hex[:12]}"
            body = {
                "type": 1,
                "reference": reference,
                "transaction_date": "2026-03-01",
                "value_date": "2026-03-01",
                "amount": {"amount_minor": 1_000, "currency": agreement["amount"]["currency"]},
                "agreement_id": agreement["id"],
            }
            await self._send(
                client, "transaction", reference, "/api/v1/funding/transactions", body, self.officer
            )
            await asyncio.sleep(0.05)

    async def run(self, agreement: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=self.stack.url, timeout=60) as client:
            await asyncio.gather(
                *(self._registrar(client) for _ in range(3)), self._treasurer(client, agreement)
            )


async def test_writes_through_a_database_restart_are_kept_or_refused_with_503(
    stack: RunningStack,
) -> None:
    agreements = httpx.get(
        f"{stack.url}/api/v1/funding/agreements",
        params={"status": "active"},
        headers=stack.headers("demo-finance-officer"),
    )
    agreement = agreements.json()["items"][0]
    pids = {name: p["pid"] for name, p in stack.state["processes"].items()}
    server = EmbeddedPostgres(stack.data_dir / "pg")
    await asyncio.to_thread(server.start)  # joins the stack's running server

    load = WriteLoad(stack)
    running = asyncio.create_task(load.run(agreement))
    await asyncio.sleep(2)
    stopped_at = time.monotonic()
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(server.start)
    started_at = time.monotonic()
    await asyncio.sleep(6)
    load.stopping.set()
    await running

    refused = [w for w in load.writes if w.status >= 300]
    statuses = sorted({w.status for w in load.writes})
    print(
        f"{len(load.writes)} writes, {len(refused)} refused, statuses {statuses}; "
        f"restart took {started_at - stopped_at:.1f} s"
    )
    assert refused, "the restart was felt"
    for write in refused:
        assert write.status == 503, write
        assert write.content_type == "application/problem+json", write
    assert {w.status for w in load.writes if w.at > started_at + 3} <= {201}, "recovered"
    assert {w.kind for w in load.writes if w.at > started_at + 3} == {"household", "transaction"}
    assert {name: p["pid"] for name, p in stack.state["processes"].items()} == pids
    # The gateway's own connections (tokens) too: the first use of a pooled connection the
    # restart cut may be a 503, and it replaces them all.
    tokens = [
        httpx.post(
            f"{stack.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", stack.credentials["admin"]),
        ).status_code
        for _ in range(3)
    ]
    assert tokens[0] in (200, 503) and tokens[1:] == [200, 200], tokens

    for kind, service, query in (
        ("household", "beneficiaries", "SELECT id::text FROM household WHERE id = ANY($1::uuid[])"),
        ("transaction", "funding", "SELECT reference FROM transaction WHERE reference = ANY($1)"),
    ):
        sent = [w for w in load.writes if w.kind == kind]
        kept = {row[0] for row in await fetch(stack, service, query, [w.key for w in sent])}
        acknowledged = {w.key for w in sent if w.status == 201}
        assert acknowledged <= kept, f"acknowledged {kind}s lost: {len(acknowledged - kept)}"
        assert not kept - acknowledged, f"refused {kind}s kept: {len(kept - acknowledged)}"
