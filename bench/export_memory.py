"""Memory of whole-registry exports: the synthetic registry (85,000 households, about
510,000 people) exported in each format through the gateway, while the beneficiaries
service's and the gateway's resident memory is sampled every 50 ms.

Target (issue 4): peak memory growth < 100 MB for an export of the whole registry. Anchor of
each export's time, in the same run: `COPY <table> TO STDOUT (FORMAT csv)` of the table it
exports, read to nothing.

    python -m bench.export_memory [--households 85000]

The files go to /dev/null as they arrive, except XLSX, kept in a temporary folder (removed
when the script ends, on error too) long enough to count its rows (a ZIP is read from its
end). Rows are counted in what arrived and checked against the count the service put on the
audit trail. An admin exports (every field, and a read row per record on the audit trail:
the costliest case).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench.common import Stopwatch, scratch_folder
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import BENEFICIARIES as BASE
from bench.stack import plain_url

MB = 1024 * 1024
SAMPLE_SECONDS = 0.05
# What is exported, and the table its anchor copies.
RESOURCES = {"individuals": "individual", "households": "household"}


@dataclass
class RssSampler:
    """The peak resident memory of some processes, sampled in a thread."""

    processes: dict[str, psutil.Process]
    peaks: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def now(self) -> dict[str, int]:
        return {name: process.memory_info().rss for name, process in self.processes.items()}

    def __enter__(self) -> RssSampler:
        self.peaks = self.now()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for name, rss in self.now().items():
            self.peaks[name] = max(self.peaks[name], rss)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()


def xlsx_rows(path: Path) -> int:
    """Data rows in every sheet of an XLSX file (each sheet has a header row)."""
    rows = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                tail = b""
                with archive.open(name) as sheet:
                    while chunk := sheet.read(1 << 20):
                        # A tag cut between two reads is counted once: the tail kept is
                        # shorter than the tag.
                        data = tail + chunk
                        rows += data.count(b"</row>")
                        tail = data[-5:]
                rows -= 1
    return rows


def last_export_rows(client: httpx.Client) -> int:
    entries = client.get(f"{BASE}/audit", params={"action": "export", "limit": 1})
    entries.raise_for_status()
    detail = entries.json()["items"][0]["detail"]
    assert detail["complete"], detail
    return detail["rows"]


async def copy_seconds(server_url: str, table: str) -> float:
    """The anchor: seconds for `COPY <table> TO STDOUT (FORMAT csv)`, read to nothing."""
    connection = await asyncpg.connect(plain_url(server_url, "beneficiaries"))

    async def discard(_: bytes) -> None:
        return None

    try:
        with Stopwatch() as watch:
            await connection.copy_from_table(table, output=discard, format="csv")
        return watch.seconds
    finally:
        await connection.close()


def run(ctx: Context) -> list[Row]:
    formats = ("csv", "jsonl", "xlsx")
    processes = {
        name: psutil.Process(ctx.stack.processes[name].popen.pid)
        for name in ("beneficiaries", "gateway")
    }
    sampler = RssSampler(processes)
    start = sampler.now()
    print(
        "resident memory before the exports: "
        + ", ".join(f"{name} {rss / MB:.0f} MB" for name, rss in start.items())
    )
    print(
        f"{'export':<18} {'rows':>9} {'MB':>8} {'s':>7} {'rows/s':>8} "
        f"{'service +MB':>11} {'gateway +MB':>11}"
    )
    rows: list[Row] = []
    timeout = httpx.Timeout(30.0, read=120.0)
    with (
        scratch_folder("inds-export-bench-") as scratch,
        httpx.Client(base_url=ctx.gateway, timeout=timeout) as client,
    ):
        for resource, table in RESOURCES.items():
            anchor = asyncio.run(copy_seconds(ctx.server_url, table))
            print(f"anchor: COPY {table} TO STDOUT (csv) in {anchor:.2f} s")
            for export_format in formats:
                name = f"{resource}.{export_format}"
                time.sleep(ctx.size(10, 2) / 10)  # let the last export's audit rows be flushed
                client.headers.update(ctx.headers())
                baseline = sampler.now()
                # XLSX is kept to be counted (removed just after; the whole folder at the
                # end, whatever happens); the rest goes to /dev/null.
                content_file = scratch / name if export_format == "xlsx" else None
                size = lines = 0
                with (
                    sampler,
                    Stopwatch() as watch,
                    client.stream("GET", f"{BASE}/exports/{name}") as response,
                ):
                    assert response.status_code == 200, response.read()
                    with open(content_file or os.devnull, "wb") as sink:
                        for chunk in response.iter_raw(1 << 16):
                            size += len(chunk)
                            lines += chunk.count(b"\n")
                            sink.write(chunk)
                seconds = watch.seconds
                if content_file is not None:
                    count = xlsx_rows(content_file)
                    content_file.unlink()
                else:
                    # CSV: the header line; no field of the synthetic registry holds a
                    # line break.
                    count = lines - (1 if export_format == "csv" else 0)
                recorded = last_export_rows(client)
                assert count == recorded, (name, count, recorded)
                growth = {n: (sampler.peaks[n] - baseline[n]) / MB for n in baseline}
                print(
                    f"{name:<18} {count:>9} {size / MB:>8.1f} {seconds:>7.1f} "
                    f"{count / seconds:>8.0f} {growth['beneficiaries']:>11.1f} "
                    f"{growth['gateway']:>11.1f}"
                )
                rows.append(
                    Row(
                        f"export {name}, {count} rows",
                        seconds,
                        "s",
                        anchor,
                        f"COPY {table} TO STDOUT",
                    )
                )
                rows.append(
                    Row(
                        f"export {name}, peak memory growth",
                        max(growth.values()),
                        "MB",
                        target=Target("<", 100),
                        note=", ".join(f"{n} +{g:.1f} MB" for n, g in growth.items()),
                    )
                )
    end = sampler.now()
    print(
        "resident memory after the exports: "
        + ", ".join(
            f"{name} {rss / MB:.0f} MB ({(rss - start[name]) / MB:+.0f})"
            for name, rss in end.items()
        )
    )
    return rows


if __name__ == "__main__":
    scenario_main("export_memory")
