"""Talking to a running stack from the command line: a token, then the API."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

IMPORTS = "/api/v1/beneficiaries/imports"


def gateway_url(explicit: str | None) -> str:
    return (explicit or os.environ.get("INDS_GATEWAY_URL") or "http://127.0.0.1:8000").rstrip("/")


def credentials(data_dir: Path) -> tuple[str, str]:
    """INDS_CLIENT_ID / INDS_CLIENT_SECRET, or the development admin of `inds up`."""
    client_id = os.environ.get("INDS_CLIENT_ID")
    secret = os.environ.get("INDS_CLIENT_SECRET")
    if client_id and secret:
        return client_id, secret
    stored = data_dir / "dev-credentials.json"
    if stored.exists():
        return "admin", json.loads(stored.read_text())["admin"]
    raise SystemExit("Set INDS_CLIENT_ID and INDS_CLIENT_SECRET (a data manager's client).")


@contextmanager
def authenticated_client(url: str, client_id: str, secret: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=httpx.Timeout(60, connect=5)) as client:
        answer = client.post(
            "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        if answer.status_code != 200:
            raise SystemExit(f"Could not get a token: {answer.status_code} {answer.text}")
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


def import_file(client: httpx.Client, path: Path, mode: str, console: Console) -> dict[str, Any]:
    """Upload `path`, follow the import with a progress bar, return the finished job."""
    with path.open("rb") as handle:
        started = client.post(
            IMPORTS, files={"file": (path.name, handle)}, data={"mode": mode}, timeout=600
        )
    if started.status_code != 202:
        raise SystemExit(f"Upload refused: {started.status_code} {started.text}")
    job = started.json()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("importing", total=job.get("total_rows"))
        while job["status"] not in ("done", "failed", "cancelled"):
            time.sleep(0.5)
            job = client.get(f"{IMPORTS}/{job['id']}").json()
            progress.update(
                task,
                completed=job["processed_rows"],
                description=job["status"],
                total=job.get("total_rows") or None,
            )
    return job
