"""Soak: a steady mixed load through the gateway for minutes (registry reads and searches,
field devices syncing both ways, statistics, money: payrolls drafted and built, funds
recorded), and what it must not do over time: fail a request, get slower (the p95 of the
last window against the first's, in the same run) or grow a process's memory (the resident
memory of the gateway and each service process, sampled as it runs).

    python -m bench.soak [--seconds 600] [--rate 40] [--window 60]   (its own stack)
    make soak [SOAK_ARGS="--seconds 180"]

tests/reliability/test_8_soak.py runs it for 30 s against the reliability stack. The load is
bench/load.py's Python generator (a separate process, loopback only), at a steady `rate`
across all clients: each client's share stays under the gateway's rate limit, and the
latencies are of a service that keeps up, not of a queue.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import psutil

from bench.load import Call, LoadResult, Window, run_load
from inds.synthetic.generator import RegistryGenerator

REGISTRY, FUNDING, INDICATORS = "/api/v1/beneficiaries", "/api/v1/funding", "/api/v1/indicators"
PROCESSES = ("gateway", "beneficiaries", "funding", "indicators")
# The bounds the soak is judged by, and why they are generous: the windows compared are of
# one run on one machine, so its speed cancels out, but these 2 cores are shared (other
# work, PostgreSQL's own autovacuum and checkpoints) and a p95 of a few hundred requests
# moves with it. A service that degrades (a table scanned more as it grows, a cache that
# never hits, a queue that backs up) goes well past twice as slow.
P95_RATIO_BOUND = 2.0
# Memory: a process's first minutes fill its caches, pools and allocator arenas; after the
# first window its resident memory may still move by a few MB (the allocator does not give
# pages back at once) but a leak grows with every request. The bound: 10 % of where it
# stood after the first window, and at least 16 MB.
MEMORY_GROWTH_BOUND = 0.10
MEMORY_GROWTH_FLOOR_MB = 16.0
ENROLLED = 20
# Rounds of the mix, each with a household of its own for the devices to send (a 10-minute
# soak sends each about four times).
ROUNDS = 200
FIELD_REGIONS = ("DJ-DJ-", "DJ-AS-")  # the demo registrar's
# The load sends the tokens it was given: they must outlive it (the gateway's last 15 min).
MAX_SECONDS = 13 * 60
MB = 1024 * 1024

HeadersOf = Callable[[str], dict[str, str]]
PidsOf = Callable[[], dict[str, int]]


@dataclass
class MemoryTrace:
    """A process's resident memory (VmRSS) over the run: (seconds into it, MB)."""

    name: str
    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)

    def at(self, seconds: float) -> float:
        """The first sample taken at or after `seconds` (the last one if none)."""
        return next((mb for at, mb in self.samples if at >= seconds), self.samples[-1][1])

    def growth_mb(self, after: float) -> float:
        return self.samples[-1][1] - self.at(after)

    def bound_mb(self, after: float) -> float:
        return max(MEMORY_GROWTH_FLOOR_MB, MEMORY_GROWTH_BOUND * self.at(after))


def resident_mb(pid: int) -> float:
    """VmRSS of /proc/PID/status, in MB."""
    return psutil.Process(pid).memory_info().rss / MB


class MemorySampler:
    """Every `every` seconds, the resident memory of each stack process (a service's main
    process and its workers, each on its own); a process that went away or was replaced
    is noted (a restart under load is a failure of the soak)."""

    def __init__(self, pids_of: PidsOf, every: float) -> None:
        self.pids_of = pids_of
        self.every = every
        self.traces: dict[str, MemoryTrace] = {}
        self.gone: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def _processes(self) -> dict[str, int]:
        found = {}
        for name, pid in self.pids_of().items():
            found[name] = pid
            try:
                workers = psutil.Process(pid).children()
            except psutil.NoSuchProcess:
                continue
            for number, worker in enumerate(sorted(workers, key=lambda p: p.pid), 1):
                found[f"{name} worker {number}"] = worker.pid
        return found

    def sample(self) -> None:
        at = time.monotonic() - self._started
        for name, pid in self._processes().items():
            trace = self.traces.setdefault(name, MemoryTrace(name, pid))
            if trace.pid != pid and name not in self.gone:
                self.gone.append(f"{name} (pid {trace.pid}, now {pid})")
            try:
                trace.samples.append((at, resident_mb(pid)))
            except psutil.NoSuchProcess:
                self.gone.append(f"{name} (pid {pid})")

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._started = time.monotonic()
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


@dataclass
class SoakResult:
    load: LoadResult
    memory: list[MemoryTrace]
    gone: list[str]
    window: float

    @property
    def first(self) -> Window:
        return self.load.windows[0]

    @property
    def last(self) -> Window:
        return self.load.windows[-1]

    @property
    def p95_ratio(self) -> float:
        return self.last.p95_ms / self.first.p95_ms

    def memory_over_bound(self) -> list[str]:
        return [
            f"{trace.name}: +{trace.growth_mb(self.window):.1f} MB"
            for trace in self.memory
            if trace.growth_mb(self.window) > trace.bound_mb(self.window)
        ]

    def failures(self) -> list[str]:
        """What the soak must not do; empty: it held."""
        problems = []
        if self.load.errors:
            problems.append(f"{self.load.errors} failed requests, first: {self.load.first_failure}")
        if self.p95_ratio > P95_RATIO_BOUND:
            problems.append(f"p95 of the last window {self.p95_ratio:.2f}x the first's")
        problems += [f"memory grew: {line}" for line in self.memory_over_bound()]
        problems += [f"process replaced or gone: {name}" for name in self.gone]
        return problems

    def lines(self) -> list[str]:
        load = self.load
        out = [
            f"soak: {load.requests} requests in {load.seconds:.0f} s ({load.rps:.1f} req/s),"
            f" {load.errors} errors; p50 {load.p50_ms:.1f} ms, p95 {load.p95_ms:.1f} ms,"
            f" p99 {load.p99_ms:.1f} ms",
        ]
        for window in load.windows:
            out.append(
                f"  window {window.start:5.0f}-{window.start + window.seconds:.0f} s:"
                f" {window.requests} requests, {window.errors} errors,"
                f" p50 {window.p50_ms:.1f} ms, p95 {window.p95_ms:.1f} ms"
            )
        out.append(f"  p95 last/first window: {self.p95_ratio:.2f} (bound {P95_RATIO_BOUND:g})")
        for trace in self.memory:
            out.append(
                f"  memory {trace.name:<24} start {trace.samples[0][1]:6.1f} MB,"
                f" after the first window {trace.at(self.window):6.1f} MB,"
                f" end {trace.samples[-1][1]:6.1f} MB: {trace.growth_mb(self.window):+.1f} MB"
                f" (bound {trace.bound_mb(self.window):.0f} MB)"
            )
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.load.requests,
            "errors": self.load.errors,
            "seconds": self.load.seconds,
            "p95_ms": self.load.p95_ms,
            "windows": [vars(window) for window in self.load.windows],
            "p95_ratio": self.p95_ratio,
            "memory": {
                trace.name: {
                    "start_mb": trace.samples[0][1],
                    "after_first_window_mb": trace.at(self.window),
                    "end_mb": trace.samples[-1][1],
                }
                for trace in self.memory
            },
            "failures": self.failures(),
        }


# The scene: what the load reads, and the money it moves


def _created(client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    if answer.status_code not in (200, 201, 202):
        raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


@dataclass
class Scene:
    household_ids: list[str]
    names: list[str]
    programme: str
    agreement: str
    provider: str


def prepare(client: httpx.Client, headers_of: HeadersOf) -> Scene:
    """A programme of its own with households enrolled, an agreement funding it, and the
    registry's first households and names to read and search."""
    manager, officer = headers_of("demo-data-manager"), headers_of("demo-finance-officer")
    suffix = uuid.uuid4().hex[:8]
    code = f"soak-{suffix}"
    body = {
        "code": code,
        "name_fr": "Endurance",
        "name_en": "Soak",
        "benefit_amount": 25_000,
        "benefit_period": "quarterly",
    }
    _created(client, f"{REGISTRY}/programmes", body, manager)
    generator = RegistryGenerator(seed=int(suffix, 16), duplicate_rate=0)
    for household in generator.households(ENROLLED):
        for person in household["members"]:
            person["identifiers"] = []  # another run's draw may hold the same numbers
        created = _created(client, f"{REGISTRY}/households", household, manager)
        enrollment = {"household_id": created["id"]}
        _created(client, f"{REGISTRY}/programmes/{code}/enrollments", enrollment, manager)

    households = client.get(f"{REGISTRY}/households", params={"limit": 12}, headers=manager)
    households.raise_for_status()
    people = client.get(f"{REGISTRY}/individuals", params={"limit": 12}, headers=manager)
    people.raise_for_status()
    names = sorted({person["given_name"] for person in people.json()["items"]})[:4]

    funder = _created(
        client,
        f"{FUNDING}/organisations",
        {
            "iati_identifier": f"DJ-SOAK-{suffix.upper()}",
            "name_fr": "Bailleur",
            "name_en": "Funder",
            "type": "government",
            "country": "DJ",
        },
        officer,
    )
    project = _created(
        client,
        f"{FUNDING}/projects",
        {
            "iati_identifier": f"DJ-SOAK-{suffix.upper()}-P",
            "reporting_org_id": funder["id"],
            "title_fr": "Endurance",
            "title_en": "Soak",
            "status": 2,
            "planned_start": "2026-01-01",
            "programme_codes": [code],
            "participants": [{"organisation_id": funder["id"], "role": 1}],
        },
        officer,
    )
    agreement = _created(
        client,
        f"{FUNDING}/agreements",
        {
            "reference": f"SOAK-{suffix.upper()}",
            "project_id": project["id"],
            "funder_id": funder["id"],
            "amount": {"amount_minor": 10**12, "currency": "DJF"},
            "signed_date": "2026-01-10",
        },
        officer,
    )
    providers = client.get(
        f"{FUNDING}/organisations", params={"type": "payment_provider"}, headers=officer
    )
    providers.raise_for_status()
    provider = next(o for o in providers.json()["items"] if o["type"] == "payment_provider")
    return Scene(
        [item["id"] for item in households.json()["items"]],
        names,
        code,
        str(agreement["id"]),
        str(provider["id"]),
    )


def device_batches(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """Field devices' batches, one household registered offline each: people as the
    synthetic registry draws them (a country's few thousand name spellings; a new word each
    time would fill the registry's name caches as no real registry does), in the demo
    registrar's regions, their ids fresh at each sending; identifiers left out, so that a
    household sent again in a long soak is a probable duplicate, not a refused clash."""
    generator = RegistryGenerator(seed=seed, duplicate_rate=0)
    batches: list[dict[str, Any]] = []
    for household in generator.households(count * 4):
        if not household["location"]["locality_code"].startswith(FIELD_REGIONS):
            continue
        household["id"] = "{new:household}"
        for number, person in enumerate(household["members"]):
            person["id"] = f"{{new:person{number}}}"
            person["identifiers"] = []
        operation = {"op": "household.put", "household_id": "{new:household}"}
        batches.append(
            {"device_id": "soak-device", "operations": [{**operation, "household": household}]}
        )
        if len(batches) == count:
            return batches
    raise RuntimeError(f"fewer than {count} households in the registrar's regions")


def mixed_calls(scene: Scene, headers_of: HeadersOf, rounds: int = ROUNDS) -> list[Call]:
    """`rounds` rounds of the mix, sent round-robin: reads and searches most, then sync
    both ways (each round's device batch a household of its own), statistics, and money (a
    payroll drafted, which the funding service builds in the background from the
    registry's enrollments; funds received on the agreement)."""
    one_round = _one_round(scene, headers_of)
    registrar = headers_of("demo-registrar")
    posting = {"Content-Type": "application/json", "Idempotency-Key": "{new:key}"}
    calls = []
    for batch in device_batches(rounds):
        calls += one_round
        calls.append(
            Call(f"{REGISTRY}/sync/batch", "POST", json.dumps(batch), {**registrar, **posting})
        )
    return calls


def _one_round(scene: Scene, headers_of: HeadersOf) -> list[Call]:
    manager, registrar = headers_of("demo-data-manager"), headers_of("demo-registrar")
    analyst, officer = headers_of("demo-analyst"), headers_of("demo-finance-officer")
    me = headers_of("demo-me-officer")
    posting = {"Content-Type": "application/json", "Idempotency-Key": "{new:key}"}
    calls = [Call(f"{REGISTRY}/households/{hid}", headers=manager) for hid in scene.household_ids]
    for name in scene.names:
        query = urlencode({"name": name, "limit": 20})
        calls.append(Call(f"{REGISTRY}/households?{query}", headers=manager))
        calls.append(Call(f"{REGISTRY}/individuals?{query}", headers=manager))
    pull = urlencode({"region": "DJ-DJ", "limit": 50})
    calls += [
        Call(f"{REGISTRY}/sync/changes?{pull}", headers=registrar),
        Call(f"{REGISTRY}/stats?measure=households&group_by=region", headers=analyst),
        Call(f"{FUNDING}/stats?measure=paid&group_by=year", headers=analyst),
        Call(f"{INDICATORS}/definitions", headers=me),
        Call(f"{FUNDING}/payment-cycles?limit=5", headers=officer),
        Call(f"{FUNDING}/agreements/{scene.agreement}/balance", headers=officer),
    ]
    cycle = {
        "programme": scene.programme,
        "period": "2026Q3",
        "agreement_id": scene.agreement,
        "payment_provider_id": scene.provider,
    }
    funds = {
        "type": 1,
        "transaction_date": "2026-02-01",
        "value_date": "2026-02-01",
        "amount": {"amount_minor": 25_000, "currency": "DJF"},
        "agreement_id": scene.agreement,
    }
    calls += [
        Call(f"{FUNDING}/payment-cycles", "POST", json.dumps(cycle), {**officer, **posting}),
        Call(f"{FUNDING}/transactions", "POST", json.dumps(funds), {**officer, **posting}),
    ]
    return calls


def soak(
    base_url: str,
    headers_of: HeadersOf,
    pids_of: PidsOf,
    *,
    seconds: float,
    window: float,
    rate: float = 40.0,
    concurrency: int = 8,
) -> SoakResult:
    """The scene set, then the mixed load for `seconds` at `rate` requests a second, the
    memory of each process sampled meanwhile."""
    if seconds > MAX_SECONDS:
        raise ValueError(f"at most {MAX_SECONDS:g} s: the load's tokens last 15 minutes")
    with httpx.Client(base_url=base_url, timeout=60) as client:
        scene = prepare(client, headers_of)
    calls = mixed_calls(scene, headers_of)
    warm = run_load("soak warm-up", base_url, calls, concurrency=concurrency, seconds=3, rate=rate)
    if warm.errors:
        raise RuntimeError(f"the soak's calls fail before it starts: {warm.first_failure}")
    with MemorySampler(pids_of, every=max(1.0, window / 10)) as memory:
        load = run_load(
            "soak",
            base_url,
            calls,
            concurrency=concurrency,
            seconds=seconds,
            rate=rate,
            window_seconds=window,
        )
    return SoakResult(load, list(memory.traces.values()), memory.gone, window)


def main(argv: list[str] | None = None) -> None:
    from bench.common import stop_on_sigterm
    from bench.stack import bench_stack, client_headers, gateway_url

    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=600.0, help="default 600 (10 minutes), at most 780"
    )
    parser.add_argument("--window", type=float, default=60.0, help="default 60 s")
    parser.add_argument("--rate", type=float, default=40.0, help="requests a second (40)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    # The gateway's own rate limit as in production: the rate is each client's share of it.
    limits = {"INDS_GATEWAY_RATE_LIMIT_PER_SECOND": "50", "INDS_GATEWAY_RATE_LIMIT_BURST": "200"}
    with bench_stack(demo=True, **limits) as stack:
        tokens: dict[str, dict[str, str]] = {}

        def headers_of(client_id: str) -> dict[str, str]:
            if client_id not in tokens:
                secret = stack.credentials[client_id]
                tokens[client_id] = client_headers(stack, client_id, secret)
            return tokens[client_id]

        def pids_of() -> dict[str, int]:
            return {name: stack.processes[name].popen.pid for name in PROCESSES}

        result = soak(
            gateway_url(stack),
            headers_of,
            pids_of,
            seconds=args.seconds,
            window=args.window,
            rate=args.rate,
            concurrency=args.concurrency,
        )
    print("\n".join(result.lines()))
    failures = result.failures()
    for failure in failures:
        print(f"FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
