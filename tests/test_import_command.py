"""`inds import` from the command line: where it finds the stack, and what it says when the
stack cannot be reached. (Importing into a running stack: tests/e2e/test_stack.py.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from inds.client import gateway_url
from inds.stack import free_port
from tests.support.stack import INDS


def _data_dir(tmp_path: Path, port: int, pid: int) -> Path:
    """A data folder as `inds up` leaves it while it runs."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "dev-credentials.json").write_text(json.dumps({"admin": "s3cret"}))
    url = f"http://127.0.0.1:{port}"
    (data / "stack.json").write_text(
        json.dumps({"pid": pid, "processes": {"gateway": {"port": port, "url": url}}})
    )
    return data


def _environment(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDS_")}
    return {**env, "INDS_DATA_DIR": str(data)}


def test_the_running_stacks_address_is_used_unless_one_is_given(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("INDS_GATEWAY_URL", raising=False)
    running = _data_dir(tmp_path, 8123, os.getpid())
    assert gateway_url(None, running) == "http://127.0.0.1:8123"
    assert gateway_url("http://registry.example/", running) == "http://registry.example"
    monkeypatch.setenv("INDS_GATEWAY_URL", "http://elsewhere:9000")
    assert gateway_url(None, running) == "http://elsewhere:9000"


def test_a_stack_that_was_killed_is_not_taken_for_a_running_one(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("INDS_GATEWAY_URL", raising=False)
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert gateway_url(None, _data_dir(tmp_path, 8123, gone.pid)) == "http://127.0.0.1:8000"


def test_an_unreachable_gateway_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    data = _data_dir(tmp_path, port, os.getpid())
    file = tmp_path / "households.csv"
    file.write_text("household_key\nHH1\n")
    done = subprocess.run(
        [INDS, "import", str(file)],
        env=_environment(data),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"Cannot reach the INDS gateway at http://127.0.0.1:{port}" in lines[0]


def test_no_credentials_is_one_clear_line(tmp_path: Path) -> None:
    file = tmp_path / "households.csv"
    file.write_text("household_key\nHH1\n")
    done = subprocess.run(
        [INDS, "import", str(file)],
        env=_environment(tmp_path / "nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("No credentials: set INDS_CLIENT_ID")
    assert "Traceback" not in done.stderr
