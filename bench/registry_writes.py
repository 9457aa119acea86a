"""Reading and replacing one household: `GET /households/{id}` and a whole-household
`PUT /households/{id}` with `If-Match`, on a synthetic registry, everything on these 2 cores.

Part 1, latency through the real stack (gateway and service processes, embedded
PostgreSQL): get by id with 1 and 8 clients; then PUT as a registrar's edit does it: read the
household, change its number of rooms, send the whole household back with the ETag read.
The reads are done first and not timed; only the PUTs are, each on a different household,
one client at a time and then 4 at once (distinct households).

Part 2, database round trips per request: the registry app in this process (httpx's
ASGITransport, pollers off, a token key of its own), its database reached through
bench/roundtrips.py's counting proxy in front of the same PostgreSQL. Each request is
counted after a few warm-up requests (prepared statements cached); the SQL of one PUT is
listed. Read-audit rows are flushed in batches off the request path in the real service, so
a GET's figure leaves them out; one flush is counted apart.

    python -m bench.registry_writes [--households 20000] [--seconds 10]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from bench.common import percentiles
from bench.load import Call, LoadResult, run_load
from bench.registry_seed import active_household_ids
from bench.roundtrips import CountingProxy, RoundTrip, Snapshot, Upstream
from bench.runner import scenario_main
from bench.scenario import Context, Row
from bench.stack import BENEFICIARIES as BASE
from bench.sync_batch import as_write
from services.beneficiaries.app import create_app
from services.beneficiaries.config import BeneficiariesSettings
from services.gateway.tokens.keys import generate_key
from shared.settings import CommonSettings

# -- part 1: latency through the stack ------------------------------------------------------


@dataclass
class WriteResult:
    label: str
    latencies_ms: list[float]
    seconds: float
    errors: int
    first_failure: str | None = None

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        p50, p95, p99 = percentiles(self.latencies_ms, 50, 95, 99)
        return (
            f"{self.label:<44} {self.rps:8.0f} req/s  p50 {p50:6.1f} ms  "
            f"p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  errors {self.errors}  "
            f"({len(self.latencies_ms)} PUTs)"
        )


def edited(document: dict[str, Any]) -> bytes:
    """The household as read, one more room (one fewer at the schema's limit of 50), as the
    JSON a client sends."""
    body = as_write(document)
    rooms = body["living_conditions"]["rooms"] or 0
    body["living_conditions"]["rooms"] = rooms + 1 if rooms < 50 else rooms - 1
    return json.dumps(body).encode()


async def _read_for_edit(
    client: httpx.AsyncClient, household_ids: list[str], concurrency: int
) -> list[tuple[str, bytes, str]]:
    """(id, edited body, ETag) of each household, read `concurrency` at a time."""
    edits: list[tuple[str, bytes, str]] = []
    for start in range(0, len(household_ids), concurrency):
        chunk = household_ids[start : start + concurrency]
        answers = await asyncio.gather(*(client.get(f"{BASE}/households/{h}") for h in chunk))
        for household_id, answer in zip(chunk, answers, strict=True):
            answer.raise_for_status()
            edits.append((household_id, edited(answer.json()), answer.headers["etag"]))
    return edits


async def _put_load(
    label: str, base_url: str, headers: dict[str, str], household_ids: list[str], concurrency: int
) -> WriteResult:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=60, limits=limits
    ) as client:
        edits = iter(await _read_for_edit(client, household_ids, concurrency))
        result = WriteResult(label, [], 0.0, 0)

        async def worker() -> None:
            for household_id, body, tag in edits:  # one shared iterator: each edit once
                started = time.perf_counter()
                answer = await client.put(
                    f"{BASE}/households/{household_id}",
                    content=body,
                    headers={"Content-Type": "application/json", "If-Match": tag},
                )
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200 or answer.headers.get("x-outcome") != "updated":
                    result.errors += 1
                    if result.first_failure is None:
                        outcome = answer.headers.get("x-outcome")
                        result.first_failure = f"{answer.status_code} {outcome} {answer.text[:300]}"

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    if result.first_failure:
        print(f"  {label}: first failed answer: {result.first_failure}")
    return result


def put_load(
    label: str, base_url: str, headers: dict[str, str], household_ids: list[str], concurrency: int
) -> WriteResult:
    return asyncio.run(_put_load(label, base_url, headers, household_ids, concurrency))


# -- part 2: round trips per request ----------------------------------------------------------


@dataclass
class Counted:
    """Round trips of each measured request, and what the representative one sent."""

    label: str
    trips: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    logs: list[list[RoundTrip]] = field(default_factory=list)
    stray: int = 0  # round trips between requests (should be 0)

    @property
    def median(self) -> float:
        return statistics.median(self.trips)

    def record(self, members: int, spent: Snapshot, log: list[RoundTrip]) -> None:
        """One measured request: the round trips it `spent`, as logged in `log`."""
        assert spent.total == len(log)
        self.trips.append(len(log))
        self.members.append(members)
        self.connections.append(len(spent.per_connection))
        self.logs.append(log)

    def typical(self) -> list[RoundTrip]:
        """What a request of the most common household size sent, at the median count for
        that size."""
        size = statistics.mode(self.members)
        logs = [log for log, m in zip(self.logs, self.members, strict=True) if m == size]
        middle = statistics.median_low([len(log) for log in logs])
        return next(log for log in logs if len(log) == middle)

    @property
    def prepares(self) -> list[int]:
        """Per request, the round trips that prepared a statement not yet in the
        connection's cache (SQLAlchemy renders `IN (...)` with one parameter per value: a
        new list length is a new statement)."""
        return [sum(trip.ended_by == "flush" for trip in log) for log in self.logs]

    @property
    def cached(self) -> list[int]:
        """Per request, the round trips left when every statement was prepared already."""
        return [t - p for t, p in zip(self.trips, self.prepares, strict=True)]

    def line(self) -> str:
        by_size = sorted(Counter(zip(self.members, self.trips, strict=True)).items())
        sizes = ", ".join(f"{m} members: {t} ({n}x)" for (m, t), n in by_size)
        return (
            f"round trips per {self.label:<4} median {self.median:g}, min {min(self.trips)}, "
            f"max {max(self.trips)} over {len(self.trips)} requests, "
            f"{max(self.connections)} connection(s) each at most; of them statement "
            f"preparations: {sum(self.prepares)} in all, per request "
            f"{min(self.prepares)}-{max(self.prepares)}; without them: median "
            f"{statistics.median(self.cached):g}, {min(self.cached)}-{max(self.cached)}\n"
            f"  by household size (members: round trips): {sizes}"
        )


def _registry_app(database_url: str) -> tuple[Any, dict[str, str]]:
    """The registry app on `database_url` trusting a key made here, and an admin's headers
    signed with it (what tests/support/tokens.py does, in the few lines needed)."""
    key = generate_key("EdDSA")
    common = CommonSettings(
        environment="development",
        log_level="WARNING",
        jwt_public_jwks=json.dumps({"keys": [key.public_jwk]}),
    )
    settings = BeneficiariesSettings(
        common=common,
        database_url=database_url,
        audit_flush_interval=None,  # flushed, and counted, apart
        pmt_job_poll_interval=None,
        import_poll_interval=None,
    )
    now = int(time.time())
    claims = {
        "iss": common.jwt_issuer,
        "aud": common.jwt_audience,
        "sub": "client:bench",
        "iat": now,
        "exp": now + 3600,
        "roles": ["admin"],
        "regions": [],
        "partner_id": None,
    }
    token = jwt.encode(claims, key.private_key_pem, algorithm="EdDSA", headers={"kid": key.kid})
    return create_app(settings), {"Authorization": f"Bearer {token}"}


async def _settled() -> None:
    """Let what the app sends after answering (a connection going back to the pool) arrive
    at the proxy before the counters are read."""
    await asyncio.sleep(0.05)


async def count_round_trips(
    server_url: str, household_ids: list[str], samples: int, warm: int
) -> tuple[Counted, Counted, tuple[int, int]]:
    """Round trips of `samples` GETs and `samples` PUTs (after `warm` of each), each on its
    own household, and (rows, round trips) of one read-audit flush."""
    async with CountingProxy(Upstream.from_url(server_url), record_sql=True) as proxy:
        app, headers = _registry_app(proxy.url("beneficiaries"))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://beneficiaries.bench", headers=headers
            ) as client:
                ids = iter(household_ids)
                gets, puts = Counted("GET"), Counted("PUT")
                last = proxy.snapshot()
                for index in range(warm + samples):
                    household_id = next(ids)
                    before = proxy.snapshot()
                    gets.stray += (before - last).total
                    answer = await client.get(f"{BASE}/households/{household_id}")
                    await _settled()
                    last = proxy.snapshot()
                    assert answer.status_code == 200, answer.text
                    if index >= warm:
                        members = answer.json()["member_count"]
                        gets.record(members, last - before, proxy.trips_since(before))
                for index in range(warm + samples):
                    household_id = next(ids)
                    read = await client.get(f"{BASE}/households/{household_id}")
                    assert read.status_code == 200, read.text
                    body = edited(read.json())
                    await _settled()
                    before = proxy.snapshot()
                    answer = await client.put(
                        f"{BASE}/households/{household_id}",
                        content=body,
                        headers={
                            "Content-Type": "application/json",
                            "If-Match": read.headers["etag"],
                        },
                    )
                    await _settled()
                    after = proxy.snapshot()
                    assert answer.status_code == 200, answer.text
                    assert answer.headers["x-outcome"] == "updated", answer.headers
                    if index >= warm:
                        members = read.json()["member_count"]
                        puts.record(members, after - before, proxy.trips_since(before))
                before = proxy.snapshot()
                rows = await app.state.audit.flush()
                await _settled()
                flush = (rows, (proxy.snapshot() - before).total)
    return gets, puts, flush


def _shown(message: str) -> str:
    """A message as listed: the household document's long SELECT by name, the rest whole."""
    if " SELECT h.id, h.region_code, h.version, ARRAY(" in message:
        verb = message.split(" ", 1)[0]
        return f"{verb} SELECT <the household document: documents.py DOCUMENT_COLUMNS> ..."
    return message


def print_statements(title: str, trips: list[RoundTrip]) -> None:
    print(f"{title} ({len(trips)} round trips):")
    for number, trip in enumerate(trips, 1):
        print(f"  {number:3d}. " + " | ".join(_shown(m) for m in trip.messages))


def print_variation(counted: Counted) -> None:
    """What the requests with the most and the fewest round trips sent, beside what the
    typical one sent."""
    shape = ("sync", "execute", "describe", "flush")
    typical_log = counted.typical()
    typical = Counter(_shown(m) for trip in typical_log for m in trip.messages)
    shown: set[int] = set()
    for index in (counted.trips.index(max(counted.trips)), counted.trips.index(min(counted.trips))):
        log = counted.logs[index]
        if index in shown or log is typical_log or len(log) == len(typical_log):
            continue
        shown.add(index)
        this = Counter(_shown(m) for trip in log for m in trip.messages)
        print(
            f"a {counted.label} with {len(log)} round trips ({counted.members[index]} members), "
            f"beside the one listed:"
        )
        for sign, difference in (("+", this - typical), ("-", typical - this)):
            for message, times in difference.items():
                if message not in shape:
                    print(f"  {sign} {times}x {message}")


# -- the run ----------------------------------------------------------------------------------


def run(ctx: Context) -> list[Row]:
    puts, samples, warm = ctx.size(300, 5), ctx.size(20, 2), ctx.size(5, 1)
    import services  # which checkout runs

    print(f"code under test: {services.__file__}")
    gateway, service = ctx.gateway, ctx.service("beneficiaries")
    pid = ctx.stack.processes["beneficiaries"].popen.pid
    with contextlib.suppress(OSError):  # Linux: the folder the service runs from
        print(f"registry service runs in: {os.readlink(f'/proc/{pid}/cwd')}")
    seeded = ctx.registry()
    pool = active_household_ids(ctx.server_url)
    random.Random(ctx.seed + 1).shuffle(pool)
    take = iter(pool)

    def households(count: int) -> list[str]:
        return [next(take) for _ in range(count)]

    # -- get by id ------------------------------------------------------------------
    gets: dict[tuple[str, int], LoadResult] = {}
    calls = [Call(f"{BASE}/households/{hid}") for hid in seeded.household_ids]
    print(run_load("warm-up", gateway, calls, ctx.headers(), seconds=min(3, ctx.seconds)).line())
    for where, url in (("gateway", gateway), ("direct", service)):
        for clients in (1, 8):
            label = f"GET by id, {where}, {clients} client{'s' * (clients > 1)}"
            gets[where, clients] = run_load(
                label, url, calls, ctx.headers(), concurrency=clients, seconds=ctx.seconds
            )
            print(gets[where, clients].line())

    # -- whole-household PUT ----------------------------------------------------------
    print(put_load("PUT warm-up", gateway, ctx.headers(), households(ctx.size(40, 2)), 2).line())
    writes: dict[tuple[str, int], WriteResult] = {}
    for where, url, clients in (
        ("gateway", gateway, 1),
        ("gateway", gateway, 4),
        ("direct", service, 1),
    ):
        label = f"PUT household, {where}, {clients} client{'s' * (clients > 1)}"
        writes[where, clients] = put_load(label, url, ctx.headers(), households(puts), clients)
        print(writes[where, clients].line())

    # -- round trips ----------------------------------------------------------------
    counted_get, counted_put, (flushed_rows, flush_trips) = asyncio.run(
        count_round_trips(ctx.server_url, households(2 * (warm + samples)), samples, warm)
    )
    print(counted_get.line())
    print(counted_put.line())
    print(
        f"read-audit flush (off the request path): {flushed_rows} rows in {flush_trips} round trips"
    )
    if counted_get.stray or counted_put.stray:
        print(f"  round trips between requests: {counted_get.stray + counted_put.stray}")
    if not ctx.smoke:
        print_statements("SQL of one GET", counted_get.typical())
        print_statements("SQL of one PUT", counted_put.typical())
        print_variation(counted_get)
        print_variation(counted_put)

    def p95(write: WriteResult) -> float:
        return percentiles(write.latencies_ms, 95)[0]

    rows = [
        Row(
            f"GET by id, gateway, {clients} client(s), p95",
            gets["gateway", clients].p95_ms,
            "ms",
            gets["direct", clients].p95_ms,
            "direct",
        )
        for clients in (1, 8)
    ]
    rows += [
        Row(
            "PUT household, gateway, 1 client, p95",
            p95(writes["gateway", 1]),
            "ms",
            p95(writes["direct", 1]),
            "direct, 1 client",
            note=f"{writes['gateway', 1].errors} errors",
        ),
        Row(
            "PUT household, gateway, 4 clients, p95",
            p95(writes["gateway", 4]),
            "ms",
            p95(writes["direct", 1]),
            "direct, 1 client",
            note=f"{writes['gateway', 4].errors} errors",
        ),
        Row(
            "round trips per GET (median)",
            counted_get.median,
            "",
            statistics.median(counted_get.cached),
            "statements cached",
        ),
        Row(
            "round trips per PUT (median)",
            counted_put.median,
            "",
            statistics.median(counted_put.cached),
            "statements cached",
        ),
    ]
    return rows


if __name__ == "__main__":
    scenario_main("registry_writes")
