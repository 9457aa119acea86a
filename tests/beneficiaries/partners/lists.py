"""Partner lists for match tests: written as CSV, uploaded, matched, reported."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import openpyxl
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
    as_xlsx = await client.get(f"{MATCHES}/{job_id}/report.xlsx", headers=headers)
    assert as_xlsx.status_code == 200, as_xlsx.text
    # The workbook holds the CSV's report, cell for cell (numbers as numbers).
    assert xlsx_rows(as_xlsx) == csv_rows(as_csv)
    listed = await client.get(MATCHES, headers=headers)
    assert listed.status_code == 200, listed.text
    rows = {row["partner_ref"]: row for row in report.json()["rows"]}
    answers = [started, job, report, as_csv, as_xlsx, listed]
    return {"job": job.json(), "rows": rows, "csv": as_csv, "xlsx": as_xlsx}, answers


def csv_rows(response: httpx.Response) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    return {row["partner_ref"]: row for row in reader}


def xlsx_rows(response: httpx.Response) -> dict[str, dict[str, str]]:
    """The workbook's rows as the CSV reads them (by row reference; numbers as the CSV
    writes them, empty cells as "")."""
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *lines = list(sheet.iter_rows(values_only=True))
    rows = {}
    for line in lines:
        line = (*line, *([None] * (len(header) - len(line))))  # empty cells are not written
        cells = {
            str(name): "" if value is None else f"{value:.4f}" if name == "score" else str(value)
            for name, value in zip(header, line, strict=True)
        }
        rows[cells["partner_ref"]] = cells
    return rows
