"""`inds up --demo` in its own process (embedded PostgreSQL, three services, the gateway),
for the end-to-end tests to use over HTTP the way a partner system would, then stopped with
Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from inds.stack import free_port

INDS = str(Path(sys.executable).parent / "inds")
# An API client held to a small allowance of its own on the suite's stack (the test firing at
# it creates it), so that what refills while it fires, on a slow shared machine, stays small
# next to its burst; every other caller keeps the defaults.
LIMITED_CLIENT = "limited-client"
LIMITED_PER_SECOND, LIMITED_BURST = 2.0, 60
# The suite's stack: the gateway and funding as two processes each, as in production (payroll
# builders and approvals really run side by side; limits and retries reach processes that
# share nothing but the database).
SUITE_STACK_ENV = {
    "INDS_FUNDING_WORKERS": "2",
    "INDS_GATEWAY_WORKERS": "2",
    "INDS_GATEWAY_RATE_LIMIT_CALLERS": json.dumps(
        {f"client:{LIMITED_CLIENT}": {"per_second": LIMITED_PER_SECOND, "burst": LIMITED_BURST}}
    ),
}


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def credentials(self) -> dict[str, str]:
        return json.loads((self.data_dir / "dev-credentials.json").read_text())

    @property
    def state(self) -> dict:
        return json.loads((self.data_dir / "stack.json").read_text())

    def token(self, client_id: str) -> str:
        response = httpx.post(
            f"{self.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, self.credentials[client_id]),
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def headers(self, client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client_id)}"}


def start_stack(
    data_dir: Path, port: int, *, demo: bool = True, env: dict[str, str] | None = None
) -> RunningStack:
    """`inds up --demo` (`inds up`, empty, without `demo`), returned once it says it is
    running (demo registry loaded); `env`: settings of its own (`INDS_FUNDING_WORKERS`...),
    the environment's `INDS_` variables never reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDS_")} | (env or {})
    env.update({"INDS_DATA_DIR": str(data_dir), "INDS_GATEWAY_PORT": str(port)})
    process = subprocess.Popen(
        [INDS, "up", *(["--demo"] if demo else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    stack = RunningStack(process, f"http://127.0.0.1:{port}", data_dir)
    stack.reader = threading.Thread(target=_collect, args=(process, stack.output), daemon=True)
    stack.reader.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stack.reader.join(timeout=5)
            pytest.fail(f"inds up exited with {process.returncode}:\n{''.join(stack.output)}")
        if any("Press Ctrl-C to stop" in line for line in stack.output):
            return stack
        time.sleep(0.3)
    stop_stack(stack)
    pytest.fail("the stack did not say it was running in 180 s")


@contextmanager
def stack_folder() -> Iterator[Path]:
    """A folder for a stack's data, removed afterwards. Not under pytest's tmp_path: each
    pytest session that starts on the machine takes the others' access away from
    /tmp/pytest-of-<user>, and the embedded PostgreSQL runs as a user of its own."""
    with tempfile.TemporaryDirectory(prefix="inds-stack-", ignore_cleanup_errors=True) as folder:
        yield Path(folder)


@contextmanager
def running_stack(
    *, demo: bool = True, env: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    """A stack (`start_stack`) in a folder of its own, stopped and removed afterwards."""
    with stack_folder() as folder:
        running = start_stack(folder / "data", free_port(), demo=demo, env=env)
        try:
            yield running
        finally:
            stop_stack(running)


def _collect(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.decode(errors="replace"))


def stop_stack(stack: RunningStack) -> str:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
    try:
        stack.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()
    if stack.reader is not None:
        stack.reader.join(timeout=10)
    return "".join(stack.output)
