"""`inds up --demo` in its own process (embedded PostgreSQL, three services, the gateway),
for the end-to-end tests to use over HTTP the way a partner system would, then stopped with
Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

INDS = str(Path(sys.executable).parent / "inds")


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
