"""A closed-loop HTTP load: `concurrency` clients, each sending its next request when the
last one answered, for `seconds` or `max_requests`, whichever comes first. Uses wrk when it is
installed (it costs the machine least), otherwise a Python aiohttp client in its own process.
Either way the load comes from a separate process, bounded in count and time, and only to
this machine (a loopback address).

The Python generator also does what wrk is not asked to: a call of its own headers (another
role's token), fresh ids in each request (`{new:NAME}`: a UUID, the same NAME twice in one
request the same one), a steady `rate` (requests per second across all clients) and
`window_seconds` (figures for each window of the run: the soak compares its first and last
ones).

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
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import percentiles, scratch_folder

MAX_REQUESTS = 1_000_000
# The child process gets this long beyond its load to finish, then it is stopped.
GRACE_SECONDS = 60


@dataclass(frozen=True)
class Call:
    """One request of a load: a path (and query) on the target, a method, a JSON body, and
    headers of its own (over the load's)."""

    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] | None = None

    @property
    def python_only(self) -> bool:
        """What wrk is not asked to do: headers of its own, fresh values."""
        texts = [self.path, self.body or "", *(self.headers or {}).values()]
        return bool(self.headers) or any(FRESH.search(text) for text in texts)


# `{new:NAME}`: a fresh UUID in each request.
FRESH = re.compile(r"\{new:\w+\}")


@dataclass
class Window:
    """The requests that started within `seconds` of `start` (seconds into the load)."""

    start: float
    seconds: float
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float


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
    windows: list[Window] = field(default_factory=list)
    first_failure: str | None = None

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
    rate: float | None = None,
    window_seconds: float | None = None,
) -> LoadResult:
    """`calls` are sent round-robin (a single path: that path every time); `rate` caps the
    requests per second (all clients together), `window_seconds` asks for figures per
    window (both: the Python generator)."""
    ensure_loopback(base_url)
    if isinstance(calls, str):
        calls = [Call(calls)]
    python_only = rate is not None or window_seconds is not None
    python_only |= any(call.python_only for call in calls)
    if tool == "wrk" and python_only:
        raise ValueError("wrk does not send these calls: use the Python generator")
    tool = tool or ("wrk" if shutil.which("wrk") and not python_only else "python")
    headers = dict(headers or {})
    if any(call.body for call in calls):
        headers.setdefault("Content-Type", "application/json")
    job = LoadJob(
        base_url, calls, headers, concurrency, seconds, max_requests, rate, window_seconds
    )
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
        [Window(**window) for window in data.get("windows", [])],
        data.get("first_failure"),
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
    rate: float | None = None
    window_seconds: float | None = None


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
    rate: float | None = None,
    window_seconds: float | None = None,
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    # (seconds into the load it started, latency in ms, failed): for the windows.
    timeline: list[tuple[float, float, bool]] = []
    errors = 0
    first_failure: str | None = None
    load_started = time.perf_counter()
    deadline = load_started + seconds
    prepared = [_prepared(call, headers) for call in calls]

    counter = 0
    next_slot = load_started

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter, first_failure, next_slot
        while time.perf_counter() < deadline and counter < max_requests:
            number = counter
            counter += 1
            if rate is not None:
                # This request's turn: `rate` a second, all clients together. A turn missed
                # (the service was slow) is not made up with a burst: a steady load.
                now = time.perf_counter()
                slot = max(next_slot, now)
                next_slot = slot + 1 / rate
                await asyncio.sleep(slot - now)
                if time.perf_counter() >= deadline:
                    return
            method, path, request_headers, data = _request(prepared[number % len(prepared)])
            started = time.perf_counter()
            failed = False
            try:
                async with session.request(
                    method, base_url + path, headers=request_headers, data=data
                ) as response:
                    body = await response.read()
                    if response.status >= 400:
                        failed = True
                        if first_failure is None:
                            text = " ".join(body[:300].decode(errors="replace").split())
                            first_failure = f"{response.status} {method} {path}: {text}"
            except aiohttp.ClientError as error:
                failed = True
                if first_failure is None:
                    first_failure = f"{method} {path}: {error!r}"
            errors += failed
            latency = (time.perf_counter() - started) * 1000
            latencies.append(latency)
            timeline.append((started - load_started, latency, failed))

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
        "windows": _windows(timeline, window_seconds, seconds) if window_seconds else [],
    }


def _prepared(call: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A call's method, path, headers (the load's, then its own) and body; whether it has
    fresh values to fill in at each request."""
    merged = {**headers, **(call.get("headers") or {})}
    texts = [call["path"], call["body"] or "", *merged.values()]
    return {
        "method": call["method"],
        "path": call["path"],
        "headers": merged,
        "body": call["body"],
        "fresh": any(FRESH.search(text) for text in texts),
    }


def _request(call: dict[str, Any]) -> tuple[str, str, dict[str, str], str | None]:
    if not call["fresh"]:
        return call["method"], call["path"], call["headers"], call["body"]
    values: dict[str, str] = {}

    def fill(text: str) -> str:
        return FRESH.sub(lambda m: values.setdefault(m.group(0), str(uuid.uuid4())), text)

    headers = {name: fill(value) for name, value in call["headers"].items()}
    body = fill(call["body"]) if call["body"] else call["body"]
    return call["method"], fill(call["path"]), headers, body


def _windows(
    timeline: list[tuple[float, float, bool]], width: float, seconds: float
) -> list[dict[str, Any]]:
    """The figures of each whole window of `width` seconds (a last partial one dropped
    unless it is the only one)."""
    count = max(1, int(seconds // width))
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(count)]
    for at, latency, failed in timeline:
        index = int(at // width)
        if index < count:
            buckets[index].append((latency, failed))
    windows = []
    for index, bucket in enumerate(buckets):
        p50, p95 = percentiles([latency for latency, _ in bucket], 50, 95)
        windows.append(
            {
                "start": index * width,
                "seconds": width,
                "requests": len(bucket),
                "errors": sum(failed for _, failed in bucket),
                "p50_ms": p50,
                "p95_ms": p95,
            }
        )
    return windows


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
