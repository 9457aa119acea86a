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


DEFAULT_GATEWAY = "http://127.0.0.1:8000"


def recorded_gateway(data_dir: Path) -> str | None:
    """The gateway address of the stack `inds up` runs from `data_dir` (its stack.json),
    if that stack is still running."""
    try:
        state = json.loads((data_dir / "stack.json").read_text())
        pid = int(state["pid"])
        url = str(state["processes"]["gateway"]["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # stopped without removing its state (killed)
    except PermissionError:
        pass  # running, as another user
    return url


def gateway_url(explicit: str | None, data_dir: Path | None = None) -> str:
    """--url, else INDS_GATEWAY_URL, else the running stack's recorded address, else the
    default port on loopback."""
    recorded = recorded_gateway(data_dir) if data_dir is not None else None
    url = explicit or os.environ.get("INDS_GATEWAY_URL") or recorded or DEFAULT_GATEWAY
    return url.rstrip("/")


def credentials(data_dir: Path) -> tuple[str, str]:
    """INDS_CLIENT_ID / INDS_CLIENT_SECRET, or the development admin of `inds up`."""
    client_id = os.environ.get("INDS_CLIENT_ID")
    secret = os.environ.get("INDS_CLIENT_SECRET")
    if client_id and secret:
        return client_id, secret
    stored = data_dir / "dev-credentials.json"
    if stored.exists():
        return "admin", json.loads(stored.read_text())["admin"]
    raise SystemExit(
        f"No credentials: set INDS_CLIENT_ID and INDS_CLIENT_SECRET (a data manager's client), "
        f"or INDS_DATA_DIR to the folder of `inds up` (no {stored} here)."
    )


@contextmanager
def authenticated_client(url: str, client_id: str, secret: str) -> Iterator[httpx.Client]:
    """A client holding a token; the gateway out of reach (now or later) ends the command
    with one line saying so."""
    try:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(60, connect=5)) as client:
            answer = client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
            )
            if answer.status_code != 200:
                raise SystemExit(f"Could not get a token at {url}: {_problem(answer)}")
            client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
            yield client
    except httpx.TransportError as exc:
        raise SystemExit(
            f"Cannot reach the INDS gateway at {url} ({type(exc).__name__}): is `inds up` "
            "running? Otherwise give its address with --url or INDS_GATEWAY_URL."
        ) from None


def _problem(answer: httpx.Response) -> str:
    """A refusal as one line: the problem's title and detail when it is problem+json."""
    try:
        body = answer.json()
    except ValueError:
        return f"{answer.status_code} {answer.text[:200]}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error_description") or body.get("error")
        title = body.get("title") or ""
        return f"{answer.status_code} {title}{': ' if title and detail else ''}{detail or ''}"
    return f"{answer.status_code} {answer.text[:200]}"


def import_file(client: httpx.Client, path: Path, mode: str, console: Console) -> dict[str, Any]:
    """Upload `path`, follow the import with a progress bar, return the finished job."""
    with path.open("rb") as handle:
        started = client.post(
            IMPORTS, files={"file": (path.name, handle)}, data={"mode": mode}, timeout=600
        )
    if started.status_code != 202:
        raise SystemExit(f"Upload refused: {_problem(started)}")
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
