"""The standard indicator pack, every disaggregation, over the synthetic registry: a
snapshot of a year (each indicator of the pack overall and by each of its
disaggregations, computed from the registry's and funding's live /stats), taken through
the gateway and polled until done.

Target (issue 8): 2 s or less end to end through the gateway, and at most 3 times one
hand-written `GROUP BY CUBE` over the same registry tables, measured in the same run.

The synthetic registry is seeded with the registry benchmarks' PMT formula (bench/stack.py);
two programmes with PMT thresholds are added in SQL, about 40 % of the households enrolled
in one, 10 % in the other; a population table by region, area, sex and legal status and
national poverty lines (the country's, urban and rural) are given to the indicators
service, then its standard pack
(funding is empty: its indicators give zeros and reasons, in the same requests). Printed:
p50, best and worst of the snapshot runs; of the anchor (asyncpg, warm connection, no
HTTP); their ratio; and the number of /stats requests one snapshot sends.

    make bench indicators_pack [BENCH_ARGS="--households 85000"]
"""

from __future__ import annotations

import asyncio
import itertools
import time

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.common import percentiles
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import auth_headers, gateway_url
from inds.stack import Stack
from shared.settings import database_url_for

INDICATORS = "/api/v1/indicators"
# The snapshot worker looks for queued snapshots this often (s): the bench times the run,
# not the wait.
STACK_ENV = {"INDS_INDICATORS_SNAPSHOT_POLL_INTERVAL": "0.05"}
REGIONS = ("DJ-AR", "DJ-AS", "DJ-DI", "DJ-DJ", "DJ-OB", "DJ-TA")
YEAR = 2026
# The country's line and each area's: the FGT indicators read each person against their
# area's.
POVERTY_LINES = {"all": 100_000, "urban": 110_000, "rural": 90_000}

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
        for area, amount in POVERTY_LINES.items():
            client.post(
                f"{INDICATORS}/reference/poverty-lines",
                json={
                    "year": YEAR,
                    "area": area,
                    "kind": "national",
                    "amount": amount,
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


def _stats_requests(stack: Stack) -> dict[str, int]:
    """The /stats requests each service has logged so far (its request log lines)."""
    counts = {}
    for service in ("beneficiaries", "funding"):
        log = stack.data_dir / "logs" / f"{service}.log"
        path = f'"path":"/api/v1/{service}/stats"'
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        counts[service] = text.count(path)
    return counts


def _line(label: str, timings: list[float]) -> str:
    p50 = percentiles(timings, 50)[0]
    return (
        f"{label}: p50 {p50 * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms, "
        f"worst {max(timings) * 1000:.0f} ms ({len(timings)} runs)"
    )


def run(ctx: Context) -> list[Row]:
    """The pack's snapshot beside one GROUP BY CUBE, on the runner's seeded registry (after
    funding_report's year of quarterly cycles, when it ran)."""
    runs_count = ctx.size(5, 1)
    _prepare(ctx.stack)
    with httpx.Client(base_url=ctx.gateway, headers=ctx.headers(), timeout=300) as client:
        before = _stats_requests(ctx.stack)
        _, warm = _snapshot(client)
        sent = {
            service: count - before[service]
            for service, count in _stats_requests(ctx.stack).items()
        }
        runs = [_snapshot(client)[0] for _ in range(runs_count)]
    anchor = _anchor(ctx.stack, runs_count)
    print(f"one snapshot: {warm['value_count']} values, /stats requests: {sent}")
    print(_line("standard pack snapshot, every disaggregation, through the gateway", runs))
    print(_line("anchor: one GROUP BY CUBE over the registry (asyncpg)", anchor))
    snapshot, cube = percentiles(runs, 50)[0], percentiles(anchor, 50)[0]
    label = "GROUP BY CUBE over the registry"
    return [
        Row("standard pack snapshot p50", snapshot * 1000, "ms", target=Target("<=", 2000)),
        Row(
            "standard pack snapshot p50 vs one CUBE",
            snapshot * 1000,
            "ms",
            anchor=cube * 1000,
            anchor_label=label,
            target=Target("<=", 3, on="ratio"),
            note=f"{warm['value_count']} values",
        ),
    ]


if __name__ == "__main__":
    scenario_main("indicators_pack")
