"""The payment file (only once sent; its columns, neutralised text, audited reads), the
lines (pages, filters, finance staff only), the totals, and the list of cycles."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import openpyxl
from fastapi import FastAPI
from sqlalchemy import func, select

from services.funding.models import AuditEvent
from shared.clock import today
from shared.db import Database
from tests.funding.test_cycles import CYCLES, Payrolls, act, head, lines_of
from tests.funding.test_cycles_reconciliation import csv_report, upload
from tests.support.registry import as_role
from tests.support.tokens import TokenFactory

# -- payment file, lines, summary ------------------------------------------------------------


async def test_the_payment_file_has_the_exchange_columns_and_neutralised_text(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    funds = await payrolls.funded()
    fatouma = await payrolls.enroll(
        [head("Fatouma", "+25377123456", father_name="Said", grandfather_name="Robleh")]
    )
    await payrolls.enroll(
        [head('=HYPERLINK("http://evil.example","x")', "+25377654321", father_name="@SUM(A1)")]
    )
    cycle = await payrolls.send(await payrolls.built(funds))

    analyst = await funding.get(
        f"{CYCLES}/{cycle['id']}/payment-file.csv", headers=as_role(tokens, "analyst")
    )
    assert analyst.status_code == 403, "payees' names and phones are for finance staff"
    response = await funding.get(f"{CYCLES}/{cycle['id']}/payment-file.csv", headers=officer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "payment_list_id",
        "line_reference",
        "household_id",
        "registry_number",
        "person_id",
        "payee_name",
        "phone",
        "amount",
        "amount_minor",
        "currency",
        "transfer_date",
        "status",
        "region_code",
        "locality_code",
    ]
    lines = await lines_of(funding_db, cycle["id"])
    first = next(row for row in rows if row["household_id"] == fatouma["household_id"])
    line = next(line for line in lines if str(line.household_id) == fatouma["household_id"])
    assert first == {
        "payment_list_id": cycle["reference"],
        "line_reference": line.reference,
        "household_id": fatouma["household_id"],
        "registry_number": fatouma["registry_number"],
        "person_id": str(line.payee_id),
        "payee_name": "Fatouma Said Robleh",
        "phone": "25377123456",
        "amount": "30000",
        "amount_minor": "30000",
        "currency": "DJF",
        "transfer_date": today().isoformat(),
        "status": "pending",
        "region_code": "DJ-DJ",
        "locality_code": "DJ-DJ-BALBALA-PK12",
    }
    evil = next(row for row in rows if row["household_id"] != fatouma["household_id"])
    assert evil["payee_name"] == "'" + '=HYPERLINK("http://evil.example","x") @SUM(A1) Farah'
    assert [row["line_reference"] for row in rows] == [line.reference for line in lines]

    response = await funding.get(f"{CYCLES}/{cycle['id']}/payment-file.xlsx", headers=officer)
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet is not None and sheet.title == cycle["reference"]
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == list(rows[0])
    assert len(table) == 3
    by_household = {row[2]: row for row in table[1:]}
    assert by_household[fatouma["household_id"]][5:9] == (
        "Fatouma Said Robleh",
        "25377123456",
        "30000",
        30000,
    )
    assert by_household[fatouma["household_id"]][10].date() == today()
    # In XLSX a formula-like text stays text (Excel's quote-prefix mark), shown as typed.
    evil_cell = next(
        cell
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if cell.column == 6
        if str(cell.value).startswith("=")
    )
    assert evil_cell.data_type == "s" and evil_cell.quotePrefix

    # Every payee read is on the audit trail, by whom and through which file.
    await funding_app.state.audit.flush()
    async with funding_db.sessionmaker() as session:
        reads = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "read",
                AuditEvent.actor == "user:finance_officer",
                AuditEvent.detail["via"].astext == "payment_file",
            )
        )
    assert reads == 4, "two households, in two files"


async def test_the_payment_file_leaves_only_once_the_cycle_is_sent(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_db: Database,
    officer: dict[str, str],
    approver: dict[str, str],
) -> None:
    """Were the file out while the cycle is approved, the cycle could then be cancelled and
    its households put in a new cycle: paid twice, from two files."""
    funds = await payrolls.funded(2)
    cycle = await payrolls.built(funds)

    def file_of(cycle_id: str, file_format: str = "csv") -> Any:
        return funding.get(f"{CYCLES}/{cycle_id}/payment-file.{file_format}", headers=officer)

    for status, hint in (("draft", "approve it and send it first"), ("approved", "send it first")):
        if status == "approved":
            assert (await act(funding, cycle["id"], "approve", approver)).status_code == 200
        for file_format in ("csv", "xlsx"):
            refused = await file_of(cycle["id"], file_format)
            assert refused.status_code == 409, (status, file_format)
            problem = refused.json()
            assert problem["status_now"] == status
            assert f"this one is {status}: {hint}" in problem["detail"]

    # Cancelled while approved: no file ever left, and the households go to a new cycle,
    # whose file leaves once it is sent.
    cancelled = await act(funding, cycle["id"], "cancel", officer, reason="wrong agreement")
    assert cancelled.status_code == 200, cancelled.text
    assert (await file_of(cycle["id"])).status_code == 409
    again = await payrolls.built(funds)
    assert again["lines_count"] == 2
    await payrolls.send(again)
    sent = await file_of(again["id"])
    assert sent.status_code == 200, sent.text
    assert len(list(csv.DictReader(io.StringIO(sent.content.decode("utf-8-sig"))))) == 2
    [line] = [ln for ln in await lines_of(funding_db, again["id"]) if ln.line_no == 1]
    report = csv_report((line.reference, "paid", "", today().isoformat()))
    applied = await upload(funding, again["id"], approver, report)
    assert applied.status_code == 200, applied.text
    assert (await file_of(again["id"], "xlsx")).status_code == 200, "reconciling: still there"


async def test_lines_are_paged_and_filtered_and_payees_are_for_finance_staff_only(
    payrolls: Payrolls,
    funding: httpx.AsyncClient,
    funding_app: FastAPI,
    funding_db: Database,
    tokens: TokenFactory,
    officer: dict[str, str],
) -> None:
    funds = await payrolls.funded(3)
    await payrolls.enroll([head("Amina", "+25377654321")], locality="DJ-OB-OBOCK-MARKAZI")
    cycle = await payrolls.built(funds)
    url = f"{CYCLES}/{cycle['id']}/lines"

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await funding.get(url, params=params, headers=officer)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [line["line_no"] for line in seen] == [1, 2, 3, 4]
    assert all(line["payee"]["phone"].startswith("+253") for line in seen)

    obock = (await funding.get(url, params={"region": "DJ-OB"}, headers=officer)).json()
    assert [line["payee"]["given_name"] for line in obock["items"]] == ["Amina"]
    paid = (await funding.get(url, params={"status": "paid"}, headers=officer)).json()
    assert paid["items"] == []
    bad = await funding.get(url, params={"status": "lost"}, headers=officer)
    assert bad.status_code == 422

    # Analysts read cycles and their totals, never the lines (households, registry numbers,
    # payees).
    analyst = as_role(tokens, "analyst")
    refused = await funding.get(url, headers=analyst)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    await funding_app.state.audit.flush()
    async with funding_db.sessionmaker() as session:
        actors = set(
            await session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.action == "read",
                    AuditEvent.detail["via"].astext == "payment_lines",
                )
            )
        )
    assert actors == {"user:finance_officer"}, "the analyst read no payee"

    summary = (await funding.get(f"{CYCLES}/{cycle['id']}/summary", headers=analyst)).json()
    assert summary["lines"] == 4
    assert summary["amount"] == {"amount_minor": 120_000, "currency": "DJF"}
    assert summary["by_status"] == [
        {"status": "pending", "lines": 4, "amount": {"amount_minor": 120_000, "currency": "DJF"}}
    ]
    assert [
        (r["region_code"], r["lines"], r["amount"]["amount_minor"]) for r in summary["by_region"]
    ] == [
        ("DJ-DJ", 3, 90_000),
        ("DJ-OB", 1, 30_000),
    ]
    assert summary["by_region"][1]["by_status"] == [
        {"status": "pending", "lines": 1, "amount": {"amount_minor": 30_000, "currency": "DJF"}}
    ]

    listed = (await funding.get(CYCLES, params={"status": "draft"}, headers=analyst)).json()
    assert [item["id"] for item in listed["items"]] == [cycle["id"]]
    other = (await funding.get(CYCLES, params={"period": "2026Q4"}, headers=analyst)).json()
    assert other["items"] == []
    missing = await funding.get(f"{CYCLES}/{uuid.uuid4()}", headers=analyst)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
