"""A real callback receiver process on loopback (tests/support/callback_receiver.py), and
what it received."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from inds.paths import REPO_ROOT
from services.beneficiaries.callbacks.worker import callback_client, deliver_due


class CallbackReceiver:
    def __init__(self, folder: Path) -> None:
        self.log = folder / "callbacks.jsonl"
        self.log.touch()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.callback_receiver", str(self.log)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        self.base = f"http://127.0.0.1:{port}"
        self.uri = f"{self.base}/dci/callback/on-search"

    def control(self, *, fail: int = 0, delay: float = 0.0) -> None:
        """The next `fail` callbacks answered 503; each answer after `delay` seconds."""
        httpx.post(f"{self.base}/_control", json={"fail": fail, "delay": delay}).raise_for_status()

    def attempts(self) -> list[dict[str, Any]]:
        """Every callback posted, in order: {"path", "failed", "body" (parsed)}."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [{**entry, "body": json.loads(entry["body"])} for entry in map(json.loads, lines)]

    def received(self) -> list[dict[str, Any]]:
        """The callbacks it acknowledged."""
        return [entry["body"] for entry in self.attempts() if not entry["failed"]]

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """What it acknowledged once it has `count` callbacks (or `timeout` passed); the
        event loop runs meanwhile (the service's own worker may be the sender)."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.received()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def deliver(app: FastAPI, now: datetime | None = None) -> int:
    """One pass of the registry app's callback worker (what is due at `now`): how many
    callbacks it sent."""
    state = app.state
    async with callback_client(state.settings) as client:
        return await deliver_due(
            state.database, state.settings, state.dci_signer, client, state.audit, now=now
        )
