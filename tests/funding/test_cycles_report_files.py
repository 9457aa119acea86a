"""Providers' reports as they really come: broken workbooks (refused with the malformed-report
422, never a 500), dates written day first (DD/MM/YYYY) or as Excel date cells and serials,
and CSVs saved by Excel in Windows-1252."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from shared.clock import today
from shared.db import Database
from tests.funding.test_cycles import Payrolls, lines_of
from tests.funding.test_cycles_reconciliation import csv_report, upload, workbook, xlsx_report


@pytest.fixture
async def reported(payrolls: Payrolls) -> tuple[dict[str, Any], list[str]]:
    """A sent payroll of three lines, and their references."""
    cycle, _, refs = await payrolls.sent(households=3)
    return cycle, refs


def rezipped(content: bytes, part: str, change: Callable[[bytes], bytes | None]) -> bytes:
    """The workbook with `part` changed (None: left out)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == part:
                changed = change(data)
                if changed is None:
                    continue
                data = changed
            target.writestr(entry.filename, data)
    return buffer.getvalue()


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _no_sheet(data: bytes) -> bytes:
    start = data.index(b"<sheets>") + len(b"<sheets>")
    return data[:start] + data[data.index(b"</sheets>") :]


def _unparseable_cell(data: bytes) -> bytes:
    """A row whose number is not one: openpyxl fails on it while iterating rows."""
    return data.replace(b'<row r="3"', b'<row r="three"', 1)


async def test_a_broken_workbook_is_a_malformed_report_not_a_server_error(
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
    reported: tuple[dict[str, Any], list[str]],
) -> None:
    cycle, refs = reported
    day = today()
    good = xlsx_report(*((ref, "paid", "", day) for ref in refs))
    broken = {
        "workbook.xml truncated": rezipped(good, "xl/workbook.xml", _half),
        "styles.xml truncated": rezipped(good, "xl/styles.xml", _half),
        "sheet truncated": rezipped(good, "xl/worksheets/sheet1.xml", _half),
        "no sheet": rezipped(good, "xl/workbook.xml", _no_sheet),
        "a row that cannot be read": rezipped(good, "xl/worksheets/sheet1.xml", _unparseable_cell),
        "no workbook part": rezipped(good, "xl/workbook.xml", lambda _: None),
    }
    for what, content in broken.items():
        response = await upload(funding, cycle["id"], approver, content, "report.xlsx")
        assert response.status_code == 422, (what, response.text)
        problem = response.json()
        assert problem["type"].endswith("/malformed-report"), what
        assert problem["errors"] == [{"path": "file", "message": "not a valid .xlsx"}], what
        assert "Traceback" not in response.text
    assert {line.status for line in await lines_of(funding_db, cycle["id"])} == {"pending"}

    # The same workbook, whole, is applied.
    applied = await upload(funding, cycle["id"], approver, good, "report.xlsx")
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"]["paid"] == 3


HEADER = ["line_reference", "status", "date"]


def _serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


async def test_dates_day_first_and_excel_dates_and_serials_are_read(
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
    reported: tuple[dict[str, Any], list[str]],
) -> None:
    cycle, refs = reported
    paid_on = today() - timedelta(days=40)
    # 02/03: the 2nd of March in Djibouti (day first), never February 3rd.
    early_march = date(today().year - 1, 3, 2)
    day_first = csv_report(
        (refs[0], "paid", "DM-1", paid_on.strftime("%d/%m/%Y")),
        (refs[1], "failed", "", early_march.strftime("%d/%m/%Y")),
    )
    applied = await upload(funding, cycle["id"], approver, day_first)
    assert applied.status_code == 200, applied.text
    # An XLSX gives a date cell or a bare serial number (the 1900 date system).
    serials = workbook(HEADER, [refs[2], "paid", _serial(paid_on)])
    applied = await upload(funding, cycle["id"], approver, serials, "report.xlsx")
    assert applied.status_code == 200, applied.text

    settled = {line.reference: line.settled_on for line in await lines_of(funding_db, cycle["id"])}
    assert settled == {refs[0]: paid_on, refs[1]: early_march, refs[2]: paid_on}


async def test_a_date_in_no_known_form_is_refused_naming_row_and_column(
    funding: httpx.AsyncClient,
    approver: dict[str, str],
    reported: tuple[dict[str, Any], list[str]],
) -> None:
    cycle, refs = reported
    serial = str(_serial(today()))
    refused = csv_report(
        (refs[0], "paid", "", "2026/01/13"),
        (refs[1], "paid", "", "31/02/2026"),  # no 31st of February
        (refs[2], "paid", "", serial),  # a serial is an XLSX number, not CSV text
    )
    response = await upload(funding, cycle["id"], approver, refused)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "date"), (3, "date"), (4, "date")]
    assert errors[0]["message"] == "not a date (YYYY-MM-DD or DD/MM/YYYY)"

    serials = workbook(
        HEADER,
        [refs[0], "paid", _serial(today()) + 0.5],  # a time of day, not a date
        [refs[1], "paid", 12],  # January 1900
        [refs[2], "paid", _serial(today() + timedelta(days=1))],
    )
    response = await upload(funding, cycle["id"], approver, serials, "report.xlsx")
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["column"], e["message"]) for e in errors] == [
        (2, "date", "not an Excel date serial (a whole number of days)"),
        (3, "date", "not an Excel date serial (a whole number of days)"),
        (4, "date", "in the future"),
    ]


async def test_a_csv_saved_in_windows_1252_is_read(
    funding: httpx.AsyncClient,
    funding_db: Database,
    approver: dict[str, str],
    reported: tuple[dict[str, Any], list[str]],
) -> None:
    cycle, refs = reported
    day = today().strftime("%d/%m/%Y")
    text = (
        "line_reference;status;provider_reference;date;payee\n"
        f"{refs[0]};paid;DM-É1;{day};Fatouma Saïd\n"
    )
    response = await upload(funding, cycle["id"], approver, text.encode("cp1252"))
    assert response.status_code == 200, response.text
    [line] = [line for line in await lines_of(funding_db, cycle["id"]) if line.reference == refs[0]]
    assert (line.status, line.provider_reference) == ("paid", "DM-É1")

    # UTF-16 (what Excel's "Unicode text" gives) is neither: refused, and said so.
    utf16 = f"line_reference,status,date\n{refs[1]},paid,{day}\n".encode("utf-16")
    response = await upload(funding, cycle["id"], approver, utf16)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"path": "file", "message": "not UTF-8 or Windows-1252 text"}
    ]
