"""A closed-loop HTTP load: `concurrency` clients, each sending its next request when the
last one answered, for `seconds`. Uses wrk when it is installed (it costs the machine least),
otherwise a Python aiohttp client in its own process."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


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
    tool: str | None = None,
) -> LoadResult:
    """`calls` are sent round-robin (a single path: that path every time)."""
    if isinstance(calls, str):
        calls = [Call(calls)]
    tool = tool or ("wrk" if shutil.which("wrk") else "python")
    headers = dict(headers or {})
    if any(call.body for call in calls):
        headers.setdefault("Content-Type", "application/json")
    if tool == "wrk":
        return _wrk(label, base_url, calls, headers, concurrency, seconds)
    return _python(label, base_url, calls, headers, concurrency, seconds)


WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


def _wrk(
    label: str,
    base_url: str,
    calls: list[Call],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> LoadResult:
    table = ",\n".join(
        f"{{{_lua(c.method)}, {_lua(c.path)}, {_lua(c.body) if c.body else 'nil'}}}" for c in calls
    )
    script = (
        f"local calls = {{\n{table}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #calls + 1\n  local c = calls[i]\n"
        "  return wrk.format(c[1], c[2], nil, c[3])\nend\n" + WRK_SCRIPT.read_text()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{seconds:g}s", "-s", handle.name]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    finished = subprocess.run([*command, base_url], capture_output=True, text=True, check=True)
    output = finished.stdout
    match = re.search(r"^JSON (.*)$", output, re.MULTILINE)
    assert match, output + finished.stderr
    data = json.loads(match.group(1))
    failure = re.search(r"^FIRST FAILURE (.*)$", output, re.MULTILINE)
    if failure:
        print(f"  {label}: first failed answer: {failure.group(1)}")
    return LoadResult(
        label, data["requests"], data["errors"] + data["status"], data["seconds"],
        data["p50"], data["p95"], data["p99"], "wrk",
    )  # fmt: skip


def _lua(text: str) -> str:
    # A JSON string is a Lua string literal, but for \u escapes: keep UTF-8 as it is.
    return json.dumps(text, ensure_ascii=False)


def _python(
    label: str,
    base_url: str,
    calls: list[Call],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> LoadResult:
    """Runs in a child process so the generator's CPU is not counted in this process."""
    payload = json.dumps(
        {
            "base_url": base_url,
            "calls": [[c.method, c.path, c.body] for c in calls],
            "headers": headers,
            "concurrency": concurrency,
            "seconds": seconds,
        }
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        handle.write(payload)
    output = subprocess.run(
        [sys.executable, "-m", "bench.load", handle.name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(output)
    return LoadResult(
        label, data["requests"], data["errors"], data["seconds"], data["p50"], data["p95"],
        data["p99"], "python-aiohttp",
    )  # fmt: skip


async def _python_load(
    base_url: str, calls: list[list], headers: dict[str, str], concurrency: int, seconds: float
) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    counter = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            method, path, body = calls[counter % len(calls)]
            counter += 1
            started = time.perf_counter()
            try:
                async with session.request(
                    method, base_url + path, headers=headers, data=body
                ) as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "p50": quantiles[49],
        "p95": quantiles[94],
        "p99": quantiles[98],
    }


if __name__ == "__main__":
    args = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_python_load(**args))))
