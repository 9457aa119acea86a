"""Memory of whole-registry exports: the synthetic registry (85,000 households, about
510,000 people) exported in each format through the gateway, while the beneficiaries
service's and the gateway's resident memory is sampled every 50 ms.

Target (issue 4): peak memory growth < 100 MB for an export of the whole registry.

    python -m bench.export_memory [--households 85000] [--formats csv,jsonl,xlsx]

The files go to /dev/null as they arrive, except XLSX, kept in a temporary folder (removed
when the script ends, on error too) long enough to count its rows (a ZIP is read from its
end). Rows are counted in what arrived and checked against the count the service put on the
audit trail. An admin exports (every field, and a read row per record on the audit trail:
the costliest case).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.common import Stopwatch, scratch_folder
from bench.registry_seed import seed_stack
from bench.stack import BENEFICIARIES as BASE
from bench.stack import auth_headers, bench_stack, gateway_url

MB = 1024 * 1024
SAMPLE_SECONDS = 0.05


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=85_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duplicate-rate", type=float, default=0.015)
    parser.add_argument("--formats", default="csv,jsonl,xlsx")
    parser.add_argument("--resources", default="individuals,households")
    args = parser.parse_args()

    with bench_stack() as stack, scratch_folder("inds-export-bench-") as scratch:
        seeded = seed_stack(stack, args.households, args.seed, args.duplicate_rate)
        print(seeded.line())

        processes = {
            name: psutil.Process(stack.processes[name].popen.pid)
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
        timeout = httpx.Timeout(30.0, read=120.0)
        with httpx.Client(base_url=gateway_url(stack), timeout=timeout) as client:
            for resource in args.resources.split(","):
                for export_format in args.formats.split(","):
                    name = f"{resource}.{export_format}"
                    time.sleep(1.0)  # let the previous export's audit rows be flushed
                    client.headers.update(auth_headers(stack))
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
                        rows = xlsx_rows(content_file)
                        content_file.unlink()
                    else:
                        # CSV: the header line; no field of the synthetic registry holds a
                        # line break.
                        rows = lines - (1 if export_format == "csv" else 0)
                    recorded = last_export_rows(client)
                    assert rows == recorded, (name, rows, recorded)
                    growth = {n: (sampler.peaks[n] - baseline[n]) / MB for n in baseline}
                    print(
                        f"{name:<18} {rows:>9} {size / MB:>8.1f} {seconds:>7.1f} "
                        f"{rows / seconds:>8.0f} {growth['beneficiaries']:>11.1f} "
                        f"{growth['gateway']:>11.1f}"
                    )
        end = sampler.now()
        print(
            "resident memory after the exports: "
            + ", ".join(
                f"{name} {rss / MB:.0f} MB ({(rss - start[name]) / MB:+.0f})"
                for name, rss in end.items()
            )
        )
        print("target: peak growth < 100 MB for a whole-registry export")


if __name__ == "__main__":
    main()
