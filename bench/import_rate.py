"""Bulk import against what storage itself costs, on the synthetic registry (85,000
households, ~504,000 rows, by default).

Anchors, measured in the same run on the same database server:
- the storage floor: a COPY of every row the import wrote (households, individuals,
  memberships, identifiers, duplicate pairs, audit rows) into copies of those tables with
  all their indexes and checks (`LIKE ... INCLUDING ALL`: no foreign keys, no triggers);
- the bare COPY: the import file itself into a table of text columns without an index.

Targets (issue 12): the import through the gateway (validation, keys, PMT, duplicate
flagging, all indexes) at >= 0.5x the floor; a file 4 times larger (twice, in the smoke run)
imported in <= 4.5x the time.

    python -m bench.import_rate [--households 85000]

It empties the registry first: `python -m bench` runs it last.

Where the import's time goes: bench/import_profile.py. Files are written to a temporary
folder, removed when the script ends, on error too.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.common import Stopwatch, scratch_folder
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE
from bench.stack import auth_headers, gateway_url
from inds.stack import Stack
from inds.synthetic.files import HEADER, write_csv
from inds.synthetic.generator import RegistryGenerator

# Every table an import fills, in the order it writes them.
WRITTEN_TABLES = (
    "household",
    "individual",
    "membership",
    "identifier",
    "duplicate_pair",
    "audit_event",
)
FLOOR_TARGET = 0.5
MAX_FILE = 4 << 30
SCALING_TARGET = 4.5
SCALE = 4  # the larger file, times the registry's size
IMPORT_SEED = 3
# A file 4x the registry is larger than the 512 MB an upload may be by default.
STACK_ENV = {
    "INDS_BENEFICIARIES_IMPORT_MAX_BYTES": str(MAX_FILE),
    "INDS_GATEWAY_BODY_LIMITS": json.dumps({BASE + "/imports": MAX_FILE + (1 << 20)}),
}


@dataclass
class Imported:
    households: int
    rows: int
    seconds: float
    flagged: int
    message: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def _registry_url(server_url: str) -> str:
    return server_url.replace("/postgres?", "/beneficiaries?")


async def bare_copy(server_url: str, path: Path) -> float:
    """Seconds to COPY the import file into a table of text columns without an index."""
    connection = await asyncpg.connect(_registry_url(server_url))
    try:
        columns = ", ".join(f'"{name}" text' for name in HEADER)
        await connection.execute(f"CREATE TABLE bench_raw_rows ({columns})")
        with Stopwatch() as watch:
            await connection.copy_to_table("bench_raw_rows", source=path, format="csv", header=True)
        await connection.execute("DROP TABLE bench_raw_rows")
        return watch.seconds
    finally:
        await connection.close()


async def storage_floor(server_url: str, folder: Path) -> dict[str, tuple[int, float]]:
    """(rows, seconds) of a COPY of each written table's rows into an indexed copy of it."""
    connection = await asyncpg.connect(_registry_url(server_url))
    result: dict[str, tuple[int, float]] = {}
    try:
        for table in WRITTEN_TABLES:
            dump = folder / f"{table}.bin"
            await connection.copy_from_table(table, output=dump, format="binary")
            copy = f"bench_floor_{table}"
            await connection.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
            await connection.execute("CHECKPOINT")
            with Stopwatch() as watch:
                status = await connection.copy_to_table(copy, source=dump, format="binary")
            result[table] = (int(status.split()[-1]), watch.seconds)
            await connection.execute(f"DROP TABLE {copy}")
            dump.unlink()
        return result
    finally:
        await connection.close()


async def emptied(server_url: str) -> None:
    """The registry as before the import (for the scaled file's run)."""
    connection = await asyncpg.connect(_registry_url(server_url))
    try:
        await connection.execute(
            f"TRUNCATE {', '.join(WRITTEN_TABLES)}, import_job, import_row_error CASCADE"
        )
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


def run_import(stack: Stack, path: Path, households: int, rows: int) -> Imported:
    with httpx.Client(base_url=gateway_url(stack), timeout=600) as client:
        client.headers.update(auth_headers(stack))
        watch = Stopwatch()
        with path.open("rb") as handle:
            answer = client.post(
                f"{BASE}/imports", files={"file": (path.name, handle)}, data={"mode": "valid_only"}
            )
        answer.raise_for_status()
        job = answer.json()
        job_id = job["id"]
        while job["status"] not in ("done", "failed", "cancelled"):
            time.sleep(0.25)
            polled = client.get(f"{BASE}/imports/{job_id}")
            if polled.status_code == 401:  # a long import outlives a token: ask again
                client.headers.update(auth_headers(stack))
                continue
            polled.raise_for_status()
            job = polled.json()
        seconds = watch.stop()
    if job["status"] != "done":
        raise SystemExit(f"import {job['status']}: {job['message']}")
    return Imported(households, rows, seconds, job["duplicates_flagged"], job["message"])


def generate(path: Path, households: int, seed: int) -> int:
    with Stopwatch() as watch:
        count, rows = write_csv(path, RegistryGenerator(seed=seed).households(households))
    print(
        f"generated {count} households, {rows} rows, "
        f"{path.stat().st_size / 1e6:.0f} MB in {watch.seconds:.0f} s"
    )
    return rows


def run(ctx: Context) -> list[Row]:
    """Empties the registry first (the import is measured into an empty one, as before) and
    leaves the last import's rows in it."""
    households, scale = ctx.households, ctx.size(SCALE, 2)
    with scratch_folder("inds-import-bench-") as folder:
        asyncio.run(emptied(ctx.server_url))
        path = folder / "registry.csv"
        rows = generate(path, households, IMPORT_SEED)
        bare_seconds = asyncio.run(bare_copy(ctx.server_url, path))
        first = run_import(ctx.stack, path, households, rows)
        floor = asyncio.run(storage_floor(ctx.server_url, folder))
        floor_seconds = report(first, floor, bare_seconds)
        result = [
            Row(
                f"import of {households} households ({rows} rows)",
                first.rate,
                "rows/s",
                rows / floor_seconds,
                "storage floor: COPY into indexed copies",
                Target(">=", FLOOR_TARGET, on="ratio"),
                note=f"{first.flagged} pairs flagged",
            ),
            Row(
                f"import of {households} households, beside the bare COPY",
                first.rate,
                "rows/s",
                rows / bare_seconds,
                "bare COPY of the file",
            ),
        ]
        asyncio.run(emptied(ctx.server_url))
        path.unlink()
        larger = folder / "larger.csv"
        larger_rows = generate(larger, households * scale, IMPORT_SEED)
        scaled = run_import(ctx.stack, larger, households * scale, larger_rows)
        bound = SCALING_TARGET / 4 * scale
        print(
            f"{scale}x the file: {scaled.rows} rows in {scaled.seconds:.1f} s "
            f"= {scaled.rate:,.0f} rows/s, {scaled.flagged} pairs flagged; "
            f"{scaled.seconds / first.seconds:.2f}x as long (target <= {bound:.1f}x)"
        )
        result.append(
            Row(
                f"import of {scale}x the file ({scaled.rows} rows)",
                scaled.seconds,
                "s",
                first.seconds,
                "the file once",
                Target("<=", bound, on="ratio"),
                note=f"{scaled.rate:,.0f} rows/s, {scaled.flagged} pairs flagged",
            )
        )
    return result


def report(imported: Imported, floor: dict[str, tuple[int, float]], bare_seconds: float) -> float:
    """Prints the import beside its anchors; returns the floor's seconds."""
    floor_seconds = sum(seconds for _, seconds in floor.values())
    floor_rate = imported.rows / floor_seconds
    print(f"import: {imported.message}")
    print(
        f"bare COPY of the file (text columns, no index): {bare_seconds:.2f} s "
        f"= {imported.rows / bare_seconds:,.0f} file rows/s"
    )
    print("storage floor (COPY of what the import wrote into indexed copies):")
    for table, (count, seconds) in floor.items():
        print(f"  {table:<16} {count:>9} rows {seconds:7.2f} s")
    print(f"  {'all':<16} {'':>9}      {floor_seconds:7.2f} s = {floor_rate:,.0f} file rows/s")
    ratio = imported.rate / floor_rate
    print(
        f"import through the gateway: {imported.rows} rows ({imported.households} households) "
        f"in {imported.seconds:.1f} s = {imported.rate:,.0f} rows/s; "
        f"{ratio:.2f}x the floor (target >= {FLOOR_TARGET}) "
        f"{'met' if ratio >= FLOOR_TARGET else 'NOT met'}; "
        f"{imported.rate / (imported.rows / bare_seconds):.2f}x the bare COPY"
    )
    return floor_seconds


if __name__ == "__main__":
    scenario_main("import_rate")
