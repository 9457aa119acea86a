"""A closed-loop HTTP load: `concurrency` clients, each sending its next request when the
last one answered, for `seconds` or `max_requests`, whichever comes first. Uses wrk when it is
installed (it costs the machine least), otherwise a Python aiohttp client in its own process.
Either way the load comes from a separate process, bounded in count and time, and only to
this machine (a loopback address).

A library for the other benchmarks; run as a module, it is that child process:

    python -m bench.load < job.json    (prints the figures as one JSON line)
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import percentiles, scratch_folder

MAX_REQUESTS = 1_000_000
# The child process gets this long beyond its load to finish, then it is stopped.
GRACE_SECONDS = 60


@dataclass(frozen=True)
class Call:
    """One request of a load: a path (and query) on the target, a method, a JSON body."""

    path: str
    method: str = "GET"
    body: str | None = None


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.label:<44} {self.rps:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p95 {self.p95_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  "
            f"errors {self.errors}  ({self.tool})"
        )


def run_load(
    label: str,
    base_url: str,
    calls: list[Call] | str,
    headers: dict[str, str] | None = None,
    *,
    concurrency: int = 32,
    seconds: float = 10.0,
    max_requests: int = MAX_REQUESTS,
    tool: str | None = None,
) -> LoadResult:
    """`calls` are sent round-robin (a single path: that path every time)."""
    ensure_loopback(base_url)
    if isinstance(calls, str):
        calls = [Call(calls)]
    tool = tool or ("wrk" if shutil.which("wrk") else "python")
    headers = dict(headers or {})
    if any(call.body for call in calls):
        headers.setdefault("Content-Type", "application/json")
    job = LoadJob(base_url, calls, headers, concurrency, seconds, max_requests)
    data, tool_name = (_wrk(job), "wrk") if tool == "wrk" else (_python(job), "python-aiohttp")
    if data.get("first_failure"):
        print(f"  {label}: first failed answer: {data['first_failure']}")
    return LoadResult(
        label,
        data["requests"],
        data["errors"],
        data["seconds"],
        data["p50"],
        data["p95"],
        data["p99"],
        tool_name,
    )


def ensure_loopback(base_url: str) -> None:
    """The benchmarks load this machine only."""
    host = urlsplit(base_url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"load is sent to loopback addresses only, not {host!r}")


@dataclass(frozen=True)
class LoadJob:
    """What either load generator is asked to do."""

    base_url: str
    calls: list[Call]
    headers: dict[str, str]
    concurrency: int
    seconds: float
    max_requests: int = MAX_REQUESTS


WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


def _wrk(job: LoadJob) -> dict[str, Any]:
    table = ",\n".join(
        f"{{{_lua(c.method)}, {_lua(c.path)}, {_lua(c.body) if c.body else 'nil'}}}"
        for c in job.calls
    )
    script = (
        f"local calls = {{\n{table}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #calls + 1\n  local c = calls[i]\n"
        "  return wrk.format(c[1], c[2], nil, c[3])\nend\n"
        f"max_requests = {job.max_requests}\n" + WRK_SCRIPT.read_text()
    )
    with scratch_folder("inds-bench-wrk-") as folder:
        script_path = folder / "load.lua"
        script_path.write_text(script)
        command = ["wrk", "-t", "1", "-c", str(job.concurrency), "-d", f"{job.seconds:g}s"]
        command += ["-s", str(script_path)]
        for name, value in job.headers.items():
            command += ["-H", f"{name}: {value}"]
        finished = subprocess.run(
            [*command, job.base_url],
            capture_output=True,
            text=True,
            check=True,
            timeout=job.seconds + GRACE_SECONDS,
        )
    output = finished.stdout
    match = re.search(r"^JSON (.*)$", output, re.MULTILINE)
    assert match, output + finished.stderr
    data = json.loads(match.group(1))
    failure = re.search(r"^FIRST FAILURE (.*)$", output, re.MULTILINE)
    return {
        **data,
        "errors": data["errors"] + data["status"],
        "first_failure": failure.group(1) if failure else None,
    }


def _lua(text: str) -> str:
    # A JSON string is a Lua string literal, but for \u escapes: keep UTF-8 as it is.
    return json.dumps(text, ensure_ascii=False)


def _python(job: LoadJob) -> dict[str, Any]:
    """Runs in a child process so the generator's CPU is not counted in this process; the
    job goes to its standard input (no file to clean up)."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(asdict(job)),
        capture_output=True,
        text=True,
        timeout=job.seconds + GRACE_SECONDS,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the Python load generator failed:\n{finished.stderr}")
    return json.loads(finished.stdout)


async def _python_load(
    base_url: str,
    calls: list[dict[str, Any]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    max_requests: int = MAX_REQUESTS,
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    first_failure: str | None = None
    deadline = time.perf_counter() + seconds

    counter = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter, first_failure
        while time.perf_counter() < deadline and counter < max_requests:
            call = calls[counter % len(calls)]
            counter += 1
            started = time.perf_counter()
            try:
                async with session.request(
                    call["method"], base_url + call["path"], headers=headers, data=call["body"]
                ) as response:
                    body = await response.read()
                    if response.status >= 400:
                        errors += 1
                        if first_failure is None:
                            text = " ".join(body[:300].decode(errors="replace").split())
                            first_failure = f"{response.status} {text}"
            except aiohttp.ClientError as error:
                errors += 1
                if first_failure is None:
                    first_failure = repr(error)
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    p50, p95, p99 = percentiles(latencies, 50, 95, 99)
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "first_failure": first_failure,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    job = json.loads(sys.stdin.read())
    ensure_loopback(job["base_url"])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_python_load(**job))))


if __name__ == "__main__":
    main()
