"""Partner lists for match tests: written as CSV, uploaded, matched, reported."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from fastapi import FastAPI

from services.beneficiaries.matches.job import run_pending
from tests.beneficiaries.helpers import BASE

MATCHES = f"{BASE}/matches"


def list_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, name: str = "list.csv"
) -> httpx.Response:
    return await client.post(MATCHES, files={"file": (name, content)}, headers=headers)


async def matched(
    client: httpx.AsyncClient, app: FastAPI, headers: dict[str, str], content: bytes
) -> tuple[dict[str, Any], list[httpx.Response]]:
    """The list uploaded and matched: its report by row reference, and every answer."""
    started = await upload(client, headers, content)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    await run_pending(app.state.database, app.state.settings)
    job = await client.get(f"{MATCHES}/{job_id}", headers=headers)
    assert job.json()["status"] == "done", job.text
    report = await client.get(f"{MATCHES}/{job_id}/report.json", headers=headers)
    assert report.status_code == 200, report.text
    as_csv = await client.get(f"{MATCHES}/{job_id}/report.csv", headers=headers)
    assert as_csv.status_code == 200, as_csv.text
    listed = await client.get(MATCHES, headers=headers)
    assert listed.status_code == 200, listed.text
    rows = {row["partner_ref"]: row for row in report.json()["rows"]}
    return {"job": job.json(), "rows": rows, "csv": as_csv}, [started, job, report, as_csv, listed]


def csv_rows(response: httpx.Response) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    return {row["partner_ref"]: row for row in reader}
