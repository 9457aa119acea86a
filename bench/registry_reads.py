"""The registry under load, on a synthetic registry the size of Djibouti's (85,000 households,
about 510,000 people), everything on these 2 cores.

Targets (issue 3): get by id p95 < 50 ms at 32 concurrent clients through the gateway and at
least 0.6x the direct throughput; name search p95 < 100 ms at 8 clients; a 4-dimension
/stats under 1 s. Anchors: the same requests straight to the service; for /stats, the
floor of any registry read through the gateway (GET /me). The duplicate check:
bench/dedup_check.py.

    python -m bench.registry_reads [--households 85000] [--seconds 10]
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from bench.common import Stopwatch, percentile
from bench.load import Call, run_load
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE

STATS_GROUPINGS = ("region,sex,age_group,legal_status", "region,area,pmt_band,programme")


def run(ctx: Context) -> list[Row]:
    seeded = ctx.registry()
    service = ctx.service("beneficiaries")
    rows: list[Row] = []

    # -- get by id, direct and through the gateway ------------------------------------
    auth = ctx.headers()
    clients = ctx.size(32, 4)
    calls = [Call(f"{BASE}/households/{hid}") for hid in seeded.household_ids]
    run_load("warm-up", ctx.gateway, calls, auth, seconds=min(3, ctx.seconds))
    direct = run_load(
        "get by id, direct", service, calls, auth, concurrency=clients, seconds=ctx.seconds
    )
    proxied = run_load(
        "get by id, through the gateway",
        ctx.gateway,
        calls,
        auth,
        concurrency=clients,
        seconds=ctx.seconds,
    )
    print(direct.line())
    print(proxied.line())
    rows += [
        Row(
            f"get by id, gateway, {clients} clients",
            proxied.rps,
            "req/s",
            direct.rps,
            "direct",
            Target(">=", 0.6, on="ratio"),
        ),
        Row(
            f"get by id, gateway, {clients} clients, p95",
            proxied.p95_ms,
            "ms",
            direct.p95_ms,
            "direct",
            Target("<", 50),
        ),
    ]

    # -- name search, through the gateway and direct at 8 clients ---------------------------
    searches = [Call(f"{BASE}/individuals?" + urlencode({"name": n})) for n in seeded.names]
    first = httpx.get(ctx.gateway + searches[0].path, headers=ctx.headers())
    assert first.status_code == 200, first.text
    results = {}
    for label, url, concurrency in (
        ("gateway, 1 client", ctx.gateway, 1),
        ("direct, 8 clients", service, 8),
        ("gateway, 8 clients", ctx.gateway, 8),
    ):
        results[label] = run_load(
            f"name search, {label}",
            url,
            searches,
            ctx.headers(),
            concurrency=concurrency,
            seconds=ctx.seconds,
        )
        print(results[label].line())
    rows += [
        Row("name search, gateway, 1 client, p95", results["gateway, 1 client"].p95_ms, "ms"),
        Row(
            "name search, gateway, 8 clients, p95",
            results["gateway, 8 clients"].p95_ms,
            "ms",
            results["direct, 8 clients"].p95_ms,
            "direct, 8 clients",
            Target("<", 100),
        ),
    ]

    # -- statistics -------------------------------------------------------------------
    with httpx.Client(base_url=ctx.gateway, headers=ctx.headers(), timeout=60) as client:
        floor = []
        for _ in range(ctx.size(20, 3)):
            with Stopwatch() as watch:
                client.get(f"{BASE}/me").raise_for_status()
            floor.append(watch.ms)
        for group_by in STATS_GROUPINGS:
            timings = []
            for _ in range(ctx.size(5, 2)):
                with Stopwatch() as watch:
                    answer = client.get(
                        f"{BASE}/stats", params={"measure": "individuals", "group_by": group_by}
                    )
                timings.append(watch.ms)
                answer.raise_for_status()
            print(
                f"stats individuals by {group_by}: {len(answer.json()['rows'])} rows, "
                f"best {min(timings):.0f} ms, worst {max(timings):.0f} ms"
            )
            rows.append(
                Row(
                    f"stats individuals by {group_by}, worst",
                    max(timings),
                    "ms",
                    percentile(floor, 50),
                    "GET /me p50",
                    Target("<", 1000),
                )
            )
    return rows


if __name__ == "__main__":
    scenario_main("registry_reads")
