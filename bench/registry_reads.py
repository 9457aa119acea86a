"""The registry under load, on a synthetic registry the size of Djibouti's (85,000 households,
about 510,000 people), everything on these 2 cores.

Targets (issue 3): get by id p95 < 50 ms at 32 concurrent clients through the gateway and at
least 0.6x the direct throughput; name search p95 < 100 ms; duplicate check p95 <= 50 ms with
recall >= 95 % on planted spelling-variant duplicates; a 4-dimension /stats under 1 s.

    python -m bench.registry_reads [--households 85000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlencode

import httpx

from bench.common import Stopwatch, latency_figures
from bench.load import Call, run_load
from bench.registry_seed import seed_stack
from bench.stack import BENEFICIARIES as BASE
from bench.stack import auth_headers, bench_stack, gateway_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=85_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--duplicate-rate", type=float, default=0.015)
    args = parser.parse_args()

    with bench_stack() as stack:
        gateway = gateway_url(stack)
        service = stack.processes["beneficiaries"].url
        seeded = seed_stack(stack, args.households, args.seed, args.duplicate_rate)
        print(seeded.line())

        # -- get by id, direct and through the gateway ------------------------------------
        auth = auth_headers(stack)
        calls = [Call(f"{BASE}/households/{hid}") for hid in seeded.household_ids]
        run_load("warm-up", gateway, calls, auth, seconds=3)
        direct = run_load("get by id, direct", service, calls, auth, seconds=args.seconds)
        proxied = run_load(
            "get by id, through the gateway", gateway, calls, auth, seconds=args.seconds
        )
        print(direct.line())
        print(proxied.line())
        print(f"  gateway/direct throughput: {proxied.rps / direct.rps:.2f} (target >= 0.6)")

        # -- name search ------------------------------------------------------------------
        searches = [Call(f"{BASE}/individuals?" + urlencode({"name": n})) for n in seeded.names]
        first = httpx.get(gateway + searches[0].path, headers=auth_headers(stack))
        assert first.status_code == 200, first.text
        for concurrency in (1, 8):
            result = run_load(
                f"name search, gateway, {concurrency} clients",
                gateway,
                searches,
                auth_headers(stack),
                concurrency=concurrency,
                seconds=args.seconds,
            )
            print(result.line())

        # -- duplicate check: recall and latency -------------------------------------------
        auth = auth_headers(stack)
        found = 0
        latencies: list[float] = []
        missed: dict[str, int] = {}
        drafts = []
        with httpx.Client(base_url=gateway, headers=auth, timeout=10) as client:
            for household, original_id, changes in seeded.duplicates:
                person = household["members"][0]
                draft = {
                    "locality_code": household["location"]["locality_code"],
                    "people": [
                        {
                            key: person.get(key)
                            for key in (
                                "given_name",
                                "father_name",
                                "grandfather_name",
                                "sex",
                                "birth_date",
                                "birth_date_estimated",
                            )
                        }
                    ],
                }
                drafts.append(json.dumps(draft))
                with Stopwatch() as watch:
                    answer = client.post(f"{BASE}/dedup/check", json=draft)
                latencies.append(watch.ms)
                answer.raise_for_status()
                candidates = {c["individual_id"] for c in answer.json()["results"][0]["candidates"]}
                if original_id in candidates:
                    found += 1
                else:
                    missed[changes] = missed.get(changes, 0) + 1
        recall = found / len(seeded.duplicates) if seeded.duplicates else 0.0
        print(
            f"duplicate check, one client: {len(latencies)} planted duplicates, recall "
            f"{recall:.1%} (target >= 95 %), {latency_figures(latencies)} (target p95 <= 50 ms)"
        )
        if missed:
            print(f"  missed, by what was changed: {missed}")
        checks = [Call(f"{BASE}/dedup/check", "POST", body) for body in drafts]
        print(
            run_load(
                "duplicate check, gateway, 8 clients",
                gateway,
                checks,
                auth,
                concurrency=8,
                seconds=args.seconds,
            ).line()
        )

        # -- statistics -------------------------------------------------------------------
        with httpx.Client(base_url=gateway, headers=auth_headers(stack), timeout=60) as client:
            for group_by in ("region,sex,age_group,legal_status", "region,area,pmt_band,programme"):
                timings = []
                for _ in range(5):
                    with Stopwatch() as watch:
                        answer = client.get(
                            f"{BASE}/stats",
                            params={"measure": "individuals", "group_by": group_by},
                        )
                    timings.append(watch.ms)
                    answer.raise_for_status()
                print(
                    f"stats individuals by {group_by}: {len(answer.json()['rows'])} rows, "
                    f"best {min(timings):.0f} ms, worst {max(timings):.0f} ms (target < 1000 ms)"
                )


if __name__ == "__main__":
    main()
