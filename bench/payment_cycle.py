"""Building a payroll: a payment cycle for a programme's enrolled households, its payment
lines made from the registry's enrollment stream over real HTTP, on these 2 cores.

Targets (issue 13): 100,000 households built in at most 15 s and at most 2x the anchor
measured in the same run: the same enrollment stream read through the gateway to nothing,
plus a COPY of the same lines into a copy of the payment-line table with its indexes; the
funding process's memory growth under 100 MB and flat in the number of households (measured
for the whole seeded registry and a quarter of it); approval of the cycle at most 2 s.

    python -m bench.payment_cycle [--households 100000]
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import asyncpg
import httpx
import psutil

from bench.common import Stopwatch
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import client_headers
from inds.stack import Stack
from shared.settings import database_url_for

FUNDING = "/api/v1/funding"
REGISTRY = "/api/v1/beneficiaries"


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _enroll(server_url: str, code: str, count: int) -> int:
    """`count` active households enrolled in programme `code`, straight into the registry's
    tables (setting the scene; what is measured reads them over HTTP)."""
    connection = await asyncpg.connect(_libpq(database_url_for(server_url, "beneficiaries")))
    try:
        programme_id = await connection.fetchval("SELECT id FROM programme WHERE code = $1", code)
        status = await connection.execute(
            """
            INSERT INTO enrollment (id, programme_id, household_id, status, enrolled_on,
                                    status_since, eligibility, version, created_by)
            SELECT gen_random_uuid(), $1, h.id, 'active', current_date, current_date, '{}', 1,
                   'bench'
            FROM household h WHERE h.status = 'active' ORDER BY h.id LIMIT $2
            """,
            programme_id,
            count,
        )
        return int(status.split()[-1])
    finally:
        await connection.close()


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` POSTed to `path`: the record created."""
    response = client.post(path, json=body)
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


def _programme(client: httpx.Client, code: str) -> None:
    body = {
        "code": code,
        "name_fr": f"Programme {code}",
        "name_en": f"Programme {code}",
        "benefit_amount": 30_000,
        "benefit_currency": "DJF",
        "benefit_period": "quarterly",
    }
    _created(client, f"{REGISTRY}/programmes", body)


def _funded_agreement(client: httpx.Client, codes: list[str]) -> str:
    """The World Bank, a project financing `codes`, a USD agreement and its funds."""
    _created(
        client,
        f"{FUNDING}/exchange-rates",
        {"currency": "USD", "rate_date": "2026-01-01", "rate_to_djf": "177.721", "source": "bench"},
    )
    funder = _created(
        client,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": "XM-DAC-44000",
            "name_fr": "Banque mondiale",
            "name_en": "World Bank",
            "type": "multilateral",
        },
    )
    project = _created(
        client,
        f"{FUNDING}/projects",
        {
            "iati_identifier": "XM-DAC-44000-P173181",
            "reporting_org_id": funder["id"],
            "title_fr": "Filets sociaux",
            "title_en": "Safety nets",
            "status": 2,
            "programme_codes": codes,
            "participants": [{"organisation_id": funder["id"], "role": 1}],
        },
    )
    agreement = _created(
        client,
        f"{FUNDING}/agreements",
        {
            "reference": "IDA-BENCH",
            "project_id": project["id"],
            "funder_id": funder["id"],
            "amount": {"amount_minor": 10_000_000_000, "currency": "USD"},
            "signed_date": "2026-01-15",
        },
    )
    _created(
        client,
        f"{FUNDING}/transactions",
        {
            "type": 1,
            "transaction_date": "2026-02-01",
            "value_date": "2026-02-01",
            "amount": {"amount_minor": 10_000_000_000, "currency": "USD"},
            "agreement_id": agreement["id"],
        },
    )
    return str(agreement["id"])


def _approver(client: httpx.Client, stack: Stack) -> dict[str, str]:
    created = _created(
        client,
        "/api/v1/admin/clients",
        {"client_id": "bench-approver", "name": "bench", "roles": ["finance_approver"]},
    )
    return client_headers(stack, "bench-approver", created["client_secret"])


def _read_stream(url: str, code: str, headers: dict[str, str]) -> tuple[float, list[bytes]]:
    """The anchor's first half: the enrollment stream through the gateway, to nothing (the
    lines are kept only to make the anchor's COPY rows afterwards, outside its timing)."""
    lines: list[bytes] = []
    with Stopwatch() as watch, httpx.Client(base_url=url, timeout=300, headers=headers) as client:
        path = f"{REGISTRY}/programmes/{code}/enrollments"
        with client.stream("GET", path, params={"status": "active"}) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                lines.append(line.encode())
    return watch.seconds, lines


async def _copy_anchor(server_url: str, count: int) -> float:
    """The anchor's second half: COPY of `count` payment lines into a copy of the table,
    indexes included."""
    connection = await asyncpg.connect(_libpq(database_url_for(server_url, "funding")))
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS payment_line_anchor;"
            "CREATE TABLE payment_line_anchor (LIKE payment_line INCLUDING ALL)"
        )
        cycle = uuid.uuid4()
        rows = [
            (
                cycle,
                n,
                f"ANCHOR-{n:06d}",
                "anchor",
                "2026Q3",
                uuid.uuid4(),
                f"DJ-2026-{n:06d}",
                uuid.uuid4(),
                uuid.uuid4(),
                "Fatouma",
                "Ali",
                "Robleh",
                "+25377123456",
                "DJ-DJ",
                "DJ-DJ-BALBALA-PK12",
                30_000,
                "DJF",
                "pending",
            )
            for n in range(1, count + 1)
        ]
        columns = (
            "cycle_id",
            "line_no",
            "reference",
            "programme_code",
            "period",
            "household_id",
            "registry_number",
            "enrollment_id",
            "payee_id",
            "payee_given_name",
            "payee_father_name",
            "payee_grandfather_name",
            "payee_phone",
            "region_code",
            "locality_code",
            "amount_minor",
            "currency",
            "status",
        )
        with Stopwatch() as watch:
            await connection.copy_records_to_table(
                "payment_line_anchor", records=rows, columns=columns
            )
        await connection.execute("DROP TABLE payment_line_anchor")
        return watch.seconds
    finally:
        await connection.close()


class MemorySampler:
    """The peak resident memory of a process, sampled every 20 ms while it runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1024 / 1024


def _build(
    client: httpx.Client, stack: Stack, code: str, agreement: str
) -> tuple[dict, float, float]:
    """POST the cycle and wait until its payroll is built: the cycle, the seconds from the
    request until the build is seen finished (polled every 50 ms), and the funding
    process's memory growth meanwhile."""
    with MemorySampler(stack.processes["funding"].popen.pid) as memory, Stopwatch() as watch:
        created = client.post(
            f"{FUNDING}/payment-cycles",
            json={"programme": code, "period": "2026Q3", "agreement_id": agreement},
        )
        created.raise_for_status()
        cycle_id = created.json()["id"]
        while True:
            cycle = client.get(f"{FUNDING}/payment-cycles/{cycle_id}").json()
            if cycle["build"]["status"] in ("built", "failed"):
                break
            time.sleep(0.05)
    assert cycle["build"]["status"] == "built", cycle["build"]
    return cycle, watch.seconds, memory.growth_mb


def run(ctx: Context) -> list[Row]:
    seeded = ctx.registry()
    # The registry's households, and a quarter of them: is memory flat in the size?
    largest = seeded.households
    sizes = [largest // 4, largest]
    codes = [f"bench{size}" for size in sizes]
    with httpx.Client(base_url=ctx.gateway, headers=ctx.headers(), timeout=120) as client:
        for code, size in zip(codes, sizes, strict=True):
            _programme(client, code)
            enrolled = asyncio.run(_enroll(ctx.server_url, code, size))
            print(f"programme {code}: {enrolled} households enrolled")
        agreement = _funded_agreement(client, codes)
        approver = _approver(client, ctx.stack)

    results = []
    for code, size in zip(codes, sizes, strict=True):
        headers = ctx.headers()
        stream_seconds, lines = _read_stream(ctx.gateway, code, headers)
        copy_seconds = asyncio.run(_copy_anchor(ctx.server_url, len(lines)))
        anchor = stream_seconds + copy_seconds
        with httpx.Client(base_url=ctx.gateway, headers=headers, timeout=300) as client:
            cycle, seconds, growth = _build(client, ctx.stack, code, agreement)
            with Stopwatch() as approval:
                approved = client.post(
                    f"{FUNDING}/payment-cycles/{cycle['id']}/approve", headers=approver
                )
            approved.raise_for_status()
        results.append((size, cycle["lines_count"], seconds, anchor, growth, approval.ms))
        print(
            f"{size} households: payroll of {cycle['lines_count']} lines built in "
            f"{seconds:.1f} s; anchor {anchor:.1f} s (stream through the gateway "
            f"{stream_seconds:.1f} s + COPY {copy_seconds:.1f} s), ratio {seconds / anchor:.2f}; "
            f"funding memory growth {growth:.0f} MB; approval {approval.ms:.0f} ms"
        )
    rows = []
    for _, lines_count, seconds, anchor, growth, approval_ms in results:
        rows += [
            Row(
                f"payroll of {lines_count} lines built",
                seconds,
                "s",
                anchor,
                "enrollment stream + COPY of the lines",
                Target("<=", 2, on="ratio"),
                note="target also <= 15 s at 100,000 households",
            ),
            Row(
                f"payroll of {lines_count} lines, funding memory growth",
                growth,
                "MB",
                target=Target("<", 100),
            ),
            Row(
                f"payroll of {lines_count} lines approved",
                approval_ms,
                "ms",
                target=Target("<=", 2000),
            ),
        ]
    (_, _, _, _, small, _), (_, _, _, _, large, _) = results
    rows.append(
        Row(
            "funding memory growth, largest payroll",
            large,
            "MB",
            small,
            "a payroll 4x smaller",
            note="flat in the number of households: ratio near 1",
        )
    )
    return rows


if __name__ == "__main__":
    scenario_main("payment_cycle")
