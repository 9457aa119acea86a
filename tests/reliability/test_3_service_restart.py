"""A service dies and comes back, under load: the funding service's process is killed while
clients read and write across the platform. What users rely on: funding's routes answer a
clear 503/504 problem (never a hang past the gateway's timeout, never a 500), the registry
and the indicators go on answering as if nothing happened, and `inds up` starts funding
again by itself (saying so), served again through the same gateway.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

import httpx
import psutil
import pytest

from services.gateway.config import GatewaySettings
from tests.beneficiaries.payloads import household, with_ids
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
GATEWAY_TIMEOUT = GatewaySettings.model_fields["upstream_timeout"].default


@dataclass
class Answer:
    service: str
    at: float
    elapsed: float
    status: int
    content_type: str
    request_id: str | None


class MixedLoad:
    """Clients of each service, one request after the other each, until stopped."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.answers: list[Answer] = []
        self.stopping = asyncio.Event()
        manager, officer = stack.headers("demo-data-manager"), stack.headers("demo-finance-officer")
        analyst, me = stack.headers("demo-analyst"), stack.headers("demo-me-officer")
        registry = "/api/v1/beneficiaries"
        self.reads = [
            ("beneficiaries", f"{registry}/households?limit=5", manager),
            ("beneficiaries", f"{registry}/stats?measure=households", analyst),
            ("indicators", "/api/v1/indicators/definitions", me),
            ("funding", "/api/v1/funding/agreements", officer),
            ("funding", "/api/v1/funding/payment-cycles?limit=5", officer),
        ]
        self.manager = manager

    async def _send(self, client: httpx.AsyncClient, service: str, request: httpx.Request) -> None:
        started = time.monotonic()
        response = await client.send(request)
        self.answers.append(
            Answer(
                service,
                started,
                time.monotonic() - started,
                response.status_code,
                response.headers.get("content-type", ""),
                response.json().get("request_id") if response.status_code >= 400 else None,
            )
        )

    async def _reader(
        self, client: httpx.AsyncClient, service: str, path: str, headers: dict[str, str]
    ) -> None:
        while not self.stopping.is_set():
            await self._send(client, service, client.build_request("GET", path, headers=headers))
            await asyncio.sleep(0.05)

    async def _registrar(self, client: httpx.AsyncClient) -> None:
        while not self.stopping.is_set():
            body = with_ids(household())
            request = client.build_request(
                "PUT",
                f"/api/v1/beneficiaries/households/{body['id']}",
                json=body,
                headers=self.manager,
            )
            await self._send(client, "beneficiaries", request)
            await asyncio.sleep(0.1)

    async def run(self) -> None:
        async with httpx.AsyncClient(
            base_url=self.stack.url, timeout=GATEWAY_TIMEOUT + 30
        ) as client:
            await asyncio.gather(
                *(self._reader(client, *read) for read in self.reads), self._registrar(client)
            )

    def of(self, service: str, since: float = 0.0, until: float = float("inf")) -> list[Answer]:
        return [a for a in self.answers if a.service == service and since <= a.at < until]


async def test_a_killed_service_answers_503_while_the_others_serve_then_comes_back(
    stack: RunningStack,
) -> None:
    funding_pid = stack.state["processes"]["funding"]["pid"]
    gateway_pid = stack.state["processes"]["gateway"]["pid"]
    workers = [child.pid for child in psutil.Process(funding_pid).children()]
    load = MixedLoad(stack)
    running = asyncio.create_task(load.run())
    await asyncio.sleep(1)

    killed_at = time.monotonic()
    os.kill(funding_pid, signal.SIGKILL)  # the service's main process, its workers left behind
    deadline = killed_at + 120
    back_at = None
    seen_degraded = False
    async with httpx.AsyncClient(base_url=stack.url) as client:
        while time.monotonic() < deadline and back_at is None:
            health = (await client.get("/health")).json()
            seen_degraded |= health["services"]["funding"] == "unavailable"
            await asyncio.sleep(0.2)
            back_at = _back_at(load.of("funding", killed_at))
    await asyncio.sleep(1)  # served again for a while
    load.stopping.set()
    await running

    assert back_at is not None, "funding never came back"
    down = [a for a in load.of("funding", killed_at, back_at) if a.status != 200]
    assert down, "funding's death was never seen"
    print(
        f"funding down {back_at - killed_at:.1f} s: {len(down)} answers "
        f"{sorted({a.status for a in down})}, slowest {max(a.elapsed for a in down):.2f} s; "
        f"{len(load.answers)} requests in all"
    )
    for answer in down:
        assert answer.status in (503, 504), answer
        assert answer.content_type == "application/problem+json", answer
        assert answer.request_id, answer
        assert answer.elapsed < GATEWAY_TIMEOUT + 5, "answered within the gateway's timeout"
    assert seen_degraded, "/health said funding was unavailable"
    for service in ("beneficiaries", "indicators"):
        statuses = {a.status for a in load.of(service)}
        assert statuses <= {200, 201}, (service, statuses)
        assert load.of(service, killed_at, back_at), f"{service} was used meanwhile"
    assert {a.status for a in load.of("funding", back_at)} == {200}

    # `inds up` started it again, alone: the same gateway, a new funding process, and the
    # workers the dead one left behind stopped (they held its port).
    assert stack.state["processes"]["gateway"]["pid"] == gateway_pid
    assert stack.state["processes"]["funding"]["pid"] != funding_pid
    for worker in workers:
        assert (
            not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE
        )
    output = " ".join("".join(stack.output).split())  # the console wraps long lines
    assert f"its {len(workers)} leftover processes stopped" in output, output[-2000:]
    assert "funding started again" in output


def _back_at(answers: list[Answer]) -> float | None:
    """When the first answer after the outage came back 200 (None: not yet)."""
    failed = False
    for answer in sorted(answers, key=lambda a: a.at):
        failed |= answer.status != 200
        if failed and answer.status == 200:
            return answer.at
    return None
