"""A throwaway stack for benchmarks: embedded PostgreSQL in a temporary folder, the real
processes, limits raised so the measurement is of the code, not of the rate limiter."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from inds.stack import Stack, StackOptions
from tests.support.upstream import free_port


@contextmanager
def bench_stack(**extra_env: str) -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="inds-bench-"))
    env = {
        "INDS_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "INDS_GATEWAY_RATE_LIMIT_BURST": "1000000",
        **extra_env,
    }
    stack = Stack(StackOptions(data_dir=folder, gateway_port=free_port(), extra_env=env))
    # A benchmark stopped with SIGTERM still stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)


def admin_token(stack: Stack) -> str:
    response = httpx.post(
        stack.processes["gateway"].url + "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", stack.credentials["admin"]),
    )
    response.raise_for_status()
    return response.json()["access_token"]
