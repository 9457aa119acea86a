"""Field-app sync batches against a registry the size of Djibouti's, through the gateway,
everything on these 2 cores.

Target (issue 4): a 500-item sync batch p95 < 2 s.

Each batch is what a device sends after days offline: mostly households registered in the
field (new client ids, from the synthetic generator with a fresh seed), some replacements of
existing households at their current version, some stale ones (changed by someone else
since: conflicts), shuffled. Batches are sent one after the other (one device at a time);
then one batch is replayed with its key, 100 new households are sent the slow way (the
one-household service per item; each behind a decoy operation that keeps it off the fast
path, and only the households' results are counted): the batch's anchor is its new
households at that rate. Then the new changes are pulled from the change feed.

    python -m bench.sync_batch [--households 85000]
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from typing import Any

import httpx

from bench.common import Stopwatch, latency_figures, percentile
from bench.registry_seed import active_household_ids
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE
from inds.synthetic.generator import RegistryGenerator

BATCHES, SIZE, UPDATES, STALE, ONE_BY_ONE = 20, 500, 40, 10, 100
UNIQUE_TYPES = ("national_id", "birth_certificate", "unhcr_individual", "wfp_scope")
MEMBER_FIELDS = (
    "id",
    "given_name",
    "father_name",
    "grandfather_name",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "relationship_to_head",
    "legal_status",
    "nationality",
    "country_of_origin",
    "disability",
    "pregnant",
    "lactating",
    "education_level",
    "occupation",
)


def new_households(seed: int, count: int) -> list[dict[str, Any]]:
    """Households registered offline: fresh ids; the generator numbers identifiers from 1
    whatever its seed, so they get the batch's prefix to be as unique as real ones."""
    generated = list(RegistryGenerator(seed=seed, duplicate_rate=0).households(count))
    for household in generated:
        for person in household["members"]:
            for identifier in person["identifiers"]:
                if identifier["type"] in UNIQUE_TYPES:
                    identifier["value"] = f"S{seed}{identifier['value']}"
    return generated


def as_write(document: dict[str, Any]) -> dict[str, Any]:
    """A household as read, in the shape a device sends it back."""
    location = document["location"]
    return {
        "id": document["id"],
        "location": {key: location[key] for key in ("locality_code", "area", "address", "gps")},
        "living_conditions": document["living_conditions"],
        "displacement_status": document["displacement_status"],
        "registration": document["registration"],
        "consent": document["consent"],
        "members": [
            {
                **{key: person[key] for key in MEMBER_FIELDS},
                "identifiers": person["identifiers"],
            }
            for person in document["members"]
        ],
    }


def edited(document: dict[str, Any]) -> dict[str, Any]:
    body = as_write(document)
    conditions = body["living_conditions"]
    conditions["rooms"] = (conditions["rooms"] or 1) % 8 + 1
    conditions["assets"] = sorted(set(conditions["assets"]) ^ {"radio"})
    return body


def follow_changes(client: httpx.Client, cursor: str | None) -> tuple[str | None, int, int]:
    """Page through the change feed from `cursor` to its end: the cursor at the end, the
    pages and the changes read."""
    pages = changes = 0
    while True:
        page = client.get(
            f"{BASE}/sync/changes", params={"limit": 500, **({"since": cursor} if cursor else {})}
        )
        page.raise_for_status()
        data = page.json()
        pages += 1
        changes += len(data["changes"])
        cursor = data["next_cursor"]
        if not data["has_more"]:
            return cursor, pages, changes


def run(ctx: Context) -> list[Row]:
    batches = ctx.size(BATCHES, 2)
    size = ctx.size(SIZE, 50)
    updates, stale = ctx.size(UPDATES, 4), ctx.size(STALE, 1)
    one_by_one = ctx.size(ONE_BY_ONE, 5)
    fresh = size - updates - stale
    existing = active_household_ids(ctx.server_url)
    random.Random(ctx.seed).shuffle(existing)
    per_batch = updates + stale
    if len(existing) < per_batch * batches:
        raise RuntimeError(
            f"{len(existing)} households in the registry, {per_batch * batches} needed: seed more"
        )

    with httpx.Client(base_url=ctx.gateway, timeout=120) as client:
        client.headers.update(ctx.headers())
        # Drain to the end: the feed after the seed is where the batches' changes start.
        cursor, _, _ = follow_changes(client, None)

        timings: list[float] = []
        totals: Counter[str] = Counter()
        sent: list[tuple[str, dict[str, Any]]] = []
        for number in range(batches):
            client.headers.update(ctx.headers())
            operations: list[dict[str, Any]] = [
                {"op": "household.put", "household_id": h["id"], "household": h}
                for h in new_households(10_000 + number, fresh)
            ]
            chosen = existing[number * per_batch : (number + 1) * per_batch]
            for position, household_id in enumerate(chosen):
                document = client.get(f"{BASE}/households/{household_id}").json()
                version = document["version"]
                if position >= updates:  # someone else changes it first
                    response = client.patch(
                        f"{BASE}/households/{household_id}",
                        json={"displacement_status": "returnee"},
                        headers={"If-Match": f'"v{version}"'},
                    )
                    response.raise_for_status()
                operations.append(
                    {
                        "op": "household.put",
                        "household_id": household_id,
                        "base_version": version,
                        "household": edited(document),
                    }
                )
            random.Random(number).shuffle(operations)
            key = f"bench-{uuid.uuid4()}"
            body = {"device_id": f"TAB-{number:03d}", "operations": operations}
            with Stopwatch() as watch:
                answer = client.post(
                    f"{BASE}/sync/batch", json=body, headers={"Idempotency-Key": key}
                )
            answer.raise_for_status()
            counts = answer.json()["counts"]
            totals.update(counts)
            timings.append(watch.ms)
            sent.append((key, body))
            print(f"  batch {number + 1:>2}: {watch.ms:7.0f} ms  {counts}")

        items = size * len(timings)
        print(
            f"{len(timings)} batches of {size} ({fresh} new households, {updates} "
            f"replacements, {stale} stale), one at a time: "
            f"{latency_figures(timings, digits=0)}, max {max(timings):.0f} ms; "
            f"{items / (sum(timings) / 1000):.0f} items/s; outcomes {dict(totals)}"
        )

        key, body = sent[-1]
        with Stopwatch() as replay_watch:
            replay = client.post(f"{BASE}/sync/batch", json=body, headers={"Idempotency-Key": key})
        replay.raise_for_status()
        assert replay.headers.get("idempotent-replayed") == "true", "the replay ran again"
        print(
            f"replay of the last batch (same key): {replay_watch.ms:.0f} ms, answered as the first"
        )

        # The same kind of households through the one-household service: each new
        # household is preceded by a decoy operation naming its head (answered `invalid`
        # at once: nobody has that id yet), which keeps it off the fast path. Only the
        # households' results are counted.
        slow_ops: list[dict[str, Any]] = []
        for household in new_households(90_000, one_by_one):
            head = household["members"][0]["id"]
            slow_ops.append(
                {"op": "member.update", "individual_id": head, "base_version": 1, "changes": {}}
            )
            slow_ops.append(
                {"op": "household.put", "household_id": household["id"], "household": household}
            )
        with Stopwatch() as slow_watch:
            slow = client.post(
                f"{BASE}/sync/batch",
                json={"operations": slow_ops},
                headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"},
            )
        slow.raise_for_status()
        outcomes = Counter((r["op"], r["status"]) for r in slow.json()["results"])
        households = {s: n for (op, s), n in outcomes.items() if op == "household.put"}
        decoys = {s: n for (op, s), n in outcomes.items() if op == "member.update"}
        per_household = slow_watch.ms / one_by_one
        print(
            f"{one_by_one} new households one by one (one-household service): "
            f"{slow_watch.ms:.0f} ms, {per_household:.1f} ms each; households {households} "
            f"(their decoy member.update operations: {decoys})"
        )

        with Stopwatch() as feed_watch:
            cursor, pages, changes = follow_changes(client, cursor)
        print(
            f"change feed after the batches: {changes} households in {pages} pages of <= 500,"
            f" {feed_watch.ms / pages:.0f} ms a page"
        )
        with Stopwatch() as region_watch:
            region_page = client.get(
                f"{BASE}/sync/changes", params={"region": "DJ-OB,DJ-AS", "limit": 500}
            )
            region_page.raise_for_status()
            regional = len(region_page.json()["changes"])
        print(
            f"first sync of a device for DJ-OB and DJ-AS (from the beginning): first page of "
            f"{regional} in {region_watch.ms:.0f} ms"
        )
    return [
        Row(
            f"sync batch of {size} ({fresh} new), p95",
            percentile(timings, 95),
            "ms",
            anchor=per_household * fresh,
            anchor_label=f"{fresh} new households one by one, extrapolated",
            target=Target("<", 2000),
            note=f"{len(timings)} batches; outcomes {dict(totals)}",
        ),
        Row(
            "sync batch replayed (same key)",
            replay_watch.ms,
            "ms",
            anchor=percentile(timings, 50),
            anchor_label="the batch, p50",
        ),
        Row(
            "new household one by one (one-household service)",
            per_household,
            "ms",
            note=f"households {households}; decoys {decoys}",
        ),
        Row("change feed, page of <= 500", feed_watch.ms / pages, "ms"),
    ]


if __name__ == "__main__":
    scenario_main("sync_batch")
