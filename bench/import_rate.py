"""Bulk import against raw COPY, on the synthetic registry (85,000 households, ~510,000 rows).

Target (issue 4): the import (validation, deduplication keys and flags, PMT scores, all
indexes) at least 0.2x the rate of a raw PostgreSQL COPY of the same rows into a bare table,
measured in the same run.

    python -m bench.import_rate [--households 85000]

The file is written to a temporary folder, removed when the script ends, on error too.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import asyncpg
import httpx

from bench.common import Stopwatch, scratch_folder
from bench.stack import BENEFICIARIES as BASE
from bench.stack import activate_formula, auth_headers, bench_stack, gateway_url
from inds.stack import Stack
from inds.synthetic.files import HEADER, write_csv
from inds.synthetic.generator import RegistryGenerator


async def raw_copy(server_url: str, path: Path) -> tuple[int, float]:
    connection = await asyncpg.connect(server_url.replace("/postgres?", "/beneficiaries?"))
    try:
        columns = ", ".join(f'"{name}" text' for name in HEADER)
        await connection.execute(f"CREATE TABLE bench_raw_rows ({columns})")
        with Stopwatch() as watch:
            result = await connection.copy_to_table(
                "bench_raw_rows", source=path, format="csv", header=True
            )
        await connection.execute("DROP TABLE bench_raw_rows")
        return int(result.split()[-1]), watch.seconds
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=85_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    with scratch_folder("inds-import-bench-") as folder:
        path = folder / "registry.csv"
        with Stopwatch() as watch:
            households, rows = write_csv(
                path, RegistryGenerator(seed=args.seed).households(args.households)
            )
        print(
            f"generated {households} households, {rows} rows, "
            f"{path.stat().st_size / 1e6:.0f} MB in {watch.seconds:.0f} s"
        )
        with bench_stack() as stack:
            measure(stack, path, rows)


def measure(stack: Stack, path: Path, rows: int) -> None:
    assert stack.server_url is not None
    copied, copy_seconds = asyncio.run(raw_copy(stack.server_url, path))
    copy_rate = copied / copy_seconds
    print(f"raw COPY into a bare table: {copied} rows in {copy_seconds:.2f} s", end="")
    print(f" = {copy_rate:,.0f} rows/s")

    activate_formula(stack)
    with httpx.Client(base_url=gateway_url(stack), timeout=600) as client:
        client.headers.update(auth_headers(stack))
        watch = Stopwatch()
        with path.open("rb") as handle:
            job = client.post(f"{BASE}/imports", files={"file": (path.name, handle)}).json()
        uploaded = watch.seconds
        while job["status"] not in ("done", "failed", "cancelled"):
            time.sleep(0.5)
            job = client.get(f"{BASE}/imports/{job['id']}").json()
        seconds = watch.stop()
    import_rate = rows / seconds
    print(f"import: {job['status']}: {job['message']}")
    print(
        f"import through the gateway: {rows} rows in {seconds:.1f} s (upload {uploaded:.1f} s) "
        f"= {import_rate:,.0f} rows/s; {import_rate / copy_rate:.2f}x raw COPY (target >= 0.2)"
    )
    log = Path(stack.processes["beneficiaries"].log_path).read_text()
    for line in log.splitlines():
        if '"import ' in line:
            print("  ", line[:300])


if __name__ == "__main__":
    main()
