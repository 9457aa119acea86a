"""The duplicate check (`POST /dedup/check`) on the seeded registry: recall on the planted
re-registrations (spelling variants, typos, dropped name parts) and latency, one client and
8 at once, beside its anchor measured in the same run: a naive trigram scan, the look-up
one would write without the registry's phonetic-key blocking (pg_trgm's similarity of the
folded full name over every person of that sex, best 20).

Target (issue 3): recall >= 95 % on the planted duplicates; p95 <= 50 ms at one client.

    python -m bench.dedup_check [--households 85000]
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx

from bench.common import Stopwatch, latency_figures, percentile
from bench.load import Call, run_load
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE
from bench.stack import plain_url
from services.beneficiaries.names import fold

PERSON_FIELDS = (
    "given_name",
    "father_name",
    "grandfather_name",
    "sex",
    "birth_date",
    "birth_date_estimated",
)
NAIVE_SCAN = """
SELECT id FROM individual
WHERE status <> 'merged' AND sex = $2 AND similarity(name_folded, $1) >= 0.5
ORDER BY similarity(name_folded, $1) DESC LIMIT 20
"""


def draft_of(household: dict[str, Any]) -> dict[str, Any]:
    person = household["members"][0]
    return {
        "locality_code": household["location"]["locality_code"],
        "people": [{key: person.get(key) for key in PERSON_FIELDS}],
    }


async def naive_scans(
    server_url: str, drafts: list[dict[str, Any]], originals: list[str]
) -> tuple[list[float], int]:
    """Latencies of the naive scan for each draft, and how many originals it found."""
    connection = await asyncpg.connect(plain_url(server_url, "beneficiaries"))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        statement = await connection.prepare(NAIVE_SCAN)
        latencies, found = [], 0
        for draft, original in zip(drafts, originals, strict=True):
            person = draft["people"][0]
            name = fold(
                " ".join(person[k] or "" for k in ("given_name", "father_name", "grandfather_name"))
            )
            with Stopwatch() as watch:
                ids = {str(row[0]) for row in await statement.fetch(name, person["sex"])}
            latencies.append(watch.ms)
            found += original in ids
        return latencies, found
    finally:
        await connection.close()


def run(ctx: Context) -> list[Row]:
    seeded = ctx.registry()
    planted = seeded.duplicates
    if not planted:
        print("no planted duplicates in this registry: nothing to check")
        return []
    drafts = [draft_of(household) for household, _, _ in planted]
    found = 0
    latencies: list[float] = []
    missed: dict[str, int] = {}
    with httpx.Client(base_url=ctx.gateway, headers=ctx.headers(), timeout=10) as client:
        for draft, (_, original_id, changes) in zip(drafts, planted, strict=True):
            with Stopwatch() as watch:
                answer = client.post(f"{BASE}/dedup/check", json=draft)
            latencies.append(watch.ms)
            answer.raise_for_status()
            candidates = {c["individual_id"] for c in answer.json()["results"][0]["candidates"]}
            if original_id in candidates:
                found += 1
            else:
                missed[changes] = missed.get(changes, 0) + 1
    recall = found / len(planted)
    print(
        f"duplicate check, one client: {len(latencies)} planted duplicates, recall "
        f"{recall:.1%}, {latency_figures(latencies)}"
    )
    if missed:
        print(f"  missed, by what was changed: {missed}")

    sample = ctx.size(30, 3)
    naive, naive_found = asyncio.run(
        naive_scans(ctx.server_url, drafts[:sample], [o for _, o, _ in planted[:sample]])
    )
    print(
        f"naive trigram scan (anchor), {len(naive)} drafts: {latency_figures(naive)}, "
        f"found {naive_found} of {len(naive)}"
    )
    checks = [Call(f"{BASE}/dedup/check", "POST", json.dumps(draft)) for draft in drafts]
    loaded = run_load(
        "duplicate check, gateway, 8 clients",
        ctx.gateway,
        checks,
        ctx.headers(),
        concurrency=8,
        seconds=ctx.seconds,
    )
    print(loaded.line())
    naive_p95 = percentile(naive, 95)
    return [
        Row(
            "duplicate check recall (planted re-registrations)",
            100 * recall,
            "%",
            target=Target(">=", 95),
            note=f"{len(planted)} planted; missed {missed}",
        ),
        Row(
            "duplicate check, one client, p95",
            percentile(latencies, 95),
            "ms",
            naive_p95,
            "naive trigram scan, SQL only",
            Target("<=", 50),
        ),
        Row(
            "duplicate check, 8 clients, p95",
            loaded.p95_ms,
            "ms",
            naive_p95,
            "naive trigram scan, SQL only",
        ),
    ]


if __name__ == "__main__":
    scenario_main("dedup_check")
