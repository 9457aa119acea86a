"""The standard indicator pack, every disaggregation, over the synthetic registry: a
snapshot of a year (each indicator of the pack overall and by each of its
disaggregations, computed from the registry's and funding's live /stats), taken through
the gateway and polled until done.

Target (issue 8): 2 s or less end to end through the gateway, and at most 3 times one
hand-written `GROUP BY CUBE` over the same registry tables, measured in the same run.

The synthetic registry is seeded with the registry benchmarks' PMT formula (bench/stack.py);
two programmes with PMT thresholds are added in SQL, about 40 % of the households enrolled
in one, 10 % in the other; a population table by region, area, sex and legal status and
a national poverty line are given to the indicators service, then its standard pack
(funding is empty: its indicators give zeros and reasons, in the same requests). Printed:
p50, best and worst of the snapshot runs; of the anchor (asyncpg, warm connection, no
HTTP); their ratio; and the number of /stats requests one snapshot sends.

    python -m bench.indicators_pack [--households 85000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.common import percentiles
from bench.registry_seed import seed_stack
from bench.stack import auth_headers, bench_stack, gateway_url
from inds.stack import Stack
from shared.settings import database_url_for

INDICATORS = "/api/v1/indicators"
REGIONS = ("DJ-AR", "DJ-AS", "DJ-DI", "DJ-DJ", "DJ-OB", "DJ-TA")
YEAR = 2026

ENROL = """
WITH programmes AS (
    INSERT INTO programme (id, code, name_fr, name_en, benefit_amount, benefit_currency,
                           benefit_period, status, pmt_max_consumption, version)
    VALUES (gen_random_uuid(), 'pnsf', 'PNSF', 'PNSF', 30000, 'DJF', 'quarterly', 'active',
            150000, 1),
           (gen_random_uuid(), 'amu', 'AMU', 'AMU', 10000, 'DJF', 'quarterly', 'active',
            90000, 1)
    RETURNING id, code
)
INSERT INTO enrollment (id, programme_id, household_id, status, enrolled_on, status_since,
                        eligibility, version)
SELECT gen_random_uuid(), p.id, h.id,
       CASE WHEN random() < 0.9 THEN 'active' ELSE 'suspended' END,
       DATE '2026-01-15', DATE '2026-01-15', '{}'::jsonb, 1
FROM household h JOIN programmes p
  ON (p.code = 'pnsf' AND random() < 0.4) OR (p.code = 'amu' AND random() < 0.1)
"""
# The anchor: people of active households by region, area, sex and legal status, with
# those enrolled in an active programme and those below the line, every combination.
CUBE = """
SELECT h.region_code, h.area, i.sex, i.legal_status,
       count(*) AS people,
       count(*) FILTER (WHERE e.household_id IS NOT NULL) AS covered,
       count(*) FILTER (WHERE h.pmt_score < ln(100000)) AS poor
FROM individual i
JOIN household h ON h.id = i.household_id
LEFT JOIN (SELECT DISTINCT household_id FROM enrollment WHERE status = 'active') e
  ON e.household_id = h.id
WHERE h.status = 'active' AND i.status = 'active'
GROUP BY CUBE (h.region_code, h.area, i.sex, i.legal_status)
"""


def _population_csv() -> bytes:
    lines = ["year,region,area,sex,legal_status,people"]
    statuses = ("national", "refugee", "asylum_seeker", "migrant", "other")
    for region, area, sex, status in itertools.product(
        REGIONS, ("urban", "rural"), ("F", "M"), statuses
    ):
        lines.append(
            f"{YEAR},{region},{area},{sex},{status},{5000 if status == 'national' else 300}"
        )
    return ("\n".join(lines) + "\n").encode()


def _prepare(stack: Stack) -> None:
    assert stack.server_url is not None

    async def enrol() -> None:
        url = make_url(database_url_for(stack.server_url, "beneficiaries"))
        connection = await asyncpg.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        try:
            await connection.execute(ENROL)
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

    asyncio.run(enrol())
    with httpx.Client(
        base_url=gateway_url(stack), headers=auth_headers(stack), timeout=120
    ) as client:
        client.post(
            f"{INDICATORS}/reference/population",
            files={"file": ("population.csv", _population_csv(), "text/csv")},
            data={"source": "bench"},
        ).raise_for_status()
        client.post(
            f"{INDICATORS}/reference/poverty-lines",
            json={
                "year": YEAR,
                "area": "all",
                "kind": "national",
                "amount": 100_000,
                "source": "bench",
            },
        ).raise_for_status()
        loaded = client.post(f"{INDICATORS}/definitions/standard-pack")
        loaded.raise_for_status()
        print(
            f"standard pack: {len(loaded.json()['created'])} indicators defined, "
            f"refused: {[r['code'] for r in loaded.json()['refused']]}"
        )


def _snapshot(client: httpx.Client) -> tuple[float, dict]:
    started = time.perf_counter()
    queued = client.post(f"{INDICATORS}/snapshots", json={"period": str(YEAR)})
    queued.raise_for_status()
    snapshot = queued.json()
    while snapshot["status"] in ("queued", "running"):
        time.sleep(0.01)
        snapshot = client.get(f"{INDICATORS}/snapshots/{snapshot['id']}").json()
    elapsed = time.perf_counter() - started
    assert snapshot["status"] == "done", snapshot
    return elapsed, snapshot


def _anchor(stack: Stack, runs: int) -> list[float]:
    assert stack.server_url is not None

    async def measure() -> list[float]:
        url = make_url(database_url_for(stack.server_url, "beneficiaries"))
        connection = await asyncpg.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
        timings = []
        try:
            for _ in range(runs + 1):
                started = time.perf_counter()
                await connection.fetch(CUBE)
                timings.append(time.perf_counter() - started)
        finally:
            await connection.close()
        return timings[1:]  # the first warms the cache

    return asyncio.run(measure())


def _line(label: str, timings: list[float]) -> str:
    p50 = percentiles(timings, 50)[0]
    return (
        f"{label}: p50 {p50 * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms ({len(timings)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=85_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with bench_stack(INDS_INDICATORS_SNAPSHOT_POLL_INTERVAL="0.05") as stack:
        seeded = seed_stack(stack, args.households, args.seed, 0.0)
        print(seeded.line())
        _prepare(stack)
        with httpx.Client(
            base_url=gateway_url(stack), headers=auth_headers(stack), timeout=300
        ) as client:
            _, warm = _snapshot(client)
            runs = [_snapshot(client)[0] for _ in range(args.runs)]
        anchor = _anchor(stack, args.runs)
        print(f"one snapshot: {warm['value_count']} values")
        print(_line("standard pack snapshot, every disaggregation, through the gateway", runs))
        print(_line("anchor: one GROUP BY CUBE over the registry (asyncpg)", anchor))
        ratio = percentiles(runs, 50)[0] / percentiles(anchor, 50)[0]
        print(f"  snapshot p50 / anchor p50: {ratio:.2f} (target <= 3; and <= 2 s)")


if __name__ == "__main__":
    main()
