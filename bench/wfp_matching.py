"""Matching a partner's list (`POST /matches`, a 10,000-row WFP list by default) against the
seeded registry, through the gateway, as a data manager: upload, poll until done, read the
report. The list is made of the registry's own people — copied exactly, with spelling
variants (a vowel changed, the grandfather name dropped), by UNHCR number or phone alone —
and invented people who are not there.

Anchor, in the same run: the same matcher row by row, each row one `POST /dedup/check`
(a sample, extrapolated to the list's size): what a partner would do without the job.

Target (issue 9): a 10,000-row list matched in <= 30 s.

    python -m bench.wfp_matching [--households 85000]
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from typing import Any

import asyncpg
import httpx

from bench.common import Stopwatch
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE
from bench.stack import plain_url

HEADER = ["id", "given_name", "father_name", "grandfather_name", "dob", "sex", "phone",
          "unhcr_id", "locality_code"]  # fmt: skip
PEOPLE = """
SELECT i.given_name, i.father_name, i.grandfather_name, i.sex, i.birth_date, h.locality_code,
       (SELECT value FROM identifier d WHERE d.individual_id = i.id AND d.type = 'phone'
        LIMIT 1),
       (SELECT value FROM identifier d WHERE d.individual_id = i.id
          AND d.type = 'unhcr_individual' LIMIT 1)
FROM individual i JOIN household h ON h.id = i.household_id
WHERE i.status = 'active'
ORDER BY md5(i.id::text) LIMIT $1
"""
VOWELS = str.maketrans("aeiou", "eaoiu")


async def _people(server_url: str, count: int) -> list[Any]:
    connection = await asyncpg.connect(plain_url(server_url, "beneficiaries"))
    try:
        return list(await connection.fetch(PEOPLE, count))
    finally:
        await connection.close()


def _variant(name: str) -> str:
    """One vowel changed (Mohamed / Mohamad): a transcription variant."""
    for index in range(len(name) - 1, 0, -1):
        if name[index] in "aeiou":
            return name[:index] + name[index].translate(VOWELS) + name[index + 1 :]
    return name


def build_list(people: list[Any], rows: int, seed: int) -> tuple[list[list[str]], dict[str, int]]:
    """`rows` rows: 85 % of them the registry's people (exact, variants, identifiers
    alone), the rest invented."""
    chance = random.Random(seed)
    out: list[list[str]] = []
    kinds: dict[str, int] = {}
    for number in range(rows):
        kind = "invented"
        if number < len(people) and number < rows * 0.85:
            kind = chance.choice(("exact", "exact", "variant", "variant", "identifier"))
        given, father, grandfather, sex, born, locality, phone, unhcr = (
            people[number] if kind != "invented" else people[number % len(people)]
        )
        born_text = born.isoformat()
        if kind == "variant":
            given, grandfather = _variant(given), None
        elif kind == "identifier" and (unhcr or phone):
            given = father = grandfather = born_text = sex = locality = None  # type: ignore[assignment]
        elif kind == "identifier":
            kind = "exact"
        elif kind == "invented":
            given, father = f"Zq{number}x", f"Wv{number}y"
            phone = unhcr = None
        kinds[kind] = kinds.get(kind, 0) + 1
        out.append(
            [
                f"wfp-{number}",
                given or "",
                father or "",
                grandfather or "",
                born_text or "",
                sex or "",
                phone or "",
                unhcr or "",
                locality or "",
            ]
        )
    return out, kinds


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _match(client: httpx.Client, content: bytes) -> tuple[float, dict[str, Any]]:
    with Stopwatch() as watch:
        started = client.post(f"{BASE}/matches", files={"file": ("wfp.csv", content)})
        started.raise_for_status()
        job_id = started.json()["id"]
        while True:
            job = client.get(f"{BASE}/matches/{job_id}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        report = client.get(f"{BASE}/matches/{job_id}/report.csv")
        report.raise_for_status()
    assert job["status"] == "done", job
    return watch.seconds, job


def _row_by_row(client: httpx.Client, rows: list[list[str]]) -> float:
    """Seconds a row, each row one duplicate check."""
    checked = [row for row in rows if row[1] and row[4] and row[5]]
    with Stopwatch() as watch:
        for row in checked:
            person = {
                "given_name": row[1],
                "father_name": row[2] or None,
                "grandfather_name": row[3] or None,
                "birth_date": row[4],
                "sex": row[5],
                "relationship_to_head": "head",
            }
            answer = client.post(
                f"{BASE}/dedup/check",
                json={"locality_code": row[8] or None, "people": [person]},
            )
            answer.raise_for_status()
    return watch.seconds / max(len(checked), 1)


def run(ctx: Context) -> list[Row]:
    size = ctx.size(10_000, 300)
    people = asyncio.run(_people(ctx.server_url, size))
    rows, kinds = build_list(people, size, ctx.seed)
    with httpx.Client(base_url=ctx.gateway, headers=ctx.headers(), timeout=300) as client:
        seconds, job = _match(client, _csv(rows))
        print(
            f"matched a {size}-row list in {seconds:.1f} s ({size / seconds:.0f} rows/s): "
            f"{job['matched']} matched, {job['ambiguous']} ambiguous, "
            f"{job['not_found']} not found; the list: {kinds}"
        )
        sample = rows[: ctx.size(300, 30)]
        per_row = _row_by_row(client, sample)
    anchor = per_row * size
    print(f"row by row through POST /dedup/check (anchor): {per_row * 1000:.1f} ms a row")
    return [
        Row(
            f"WFP list matching, {size} rows",
            seconds,
            "s",
            anchor,
            "the same rows, one /dedup/check each (extrapolated)",
            Target("<=", 30),
            note=f"{job['matched']} matched, {job['ambiguous']} ambiguous, "
            f"{job['not_found']} not found",
        )
    ]


if __name__ == "__main__":
    scenario_main("wfp_matching")
